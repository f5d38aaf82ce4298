//! The post-check as the runner runs it, and the one place its baseline is chosen.
//!
//! A post-check request carries no baseline (CCE's has no such field), so the service
//! chooses one from what it keeps for the cluster ([`choose_baseline`]): a baseline stored
//! by hand (`PUT`/`POST .../baseline`) always; the Snapshot the cluster's latest pre-check
//! recorded only while it is younger than `--baseline-max-age`; else none. The task
//! document names what was chosen (`status.baseline`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use postcheck_engine::{CheckRequest, CheckSpec, Snapshot, decode_interned};
use postcheck_model::{BaselineRef, BaselineSource, TaskPhase, TaskStatus};
use postcheck_store::{Store, StoreError, StoredBaseline, StoredTask};

use super::{CheckKind, Examined, JobContext};

/// A post-check: the versions to judge against and the opt-in actions it runs.
pub(super) struct PostCheck {
    check: CheckSpec,
    actions: Actions,
}

/// The opt-in items that write to the cluster, as the spec asked for them.
#[derive(Debug, Clone, Copy)]
pub(super) struct Actions {
    /// `synthetic-pod`: a pod on every node.
    pub(super) synthetic: bool,
    /// `node-join`: a kubelet client certificate requested and issued.
    pub(super) node_join: bool,
}

impl PostCheck {
    pub(super) fn new(check: CheckSpec, actions: Actions) -> Self {
        Self { check, actions }
    }
}

/// The baseline a post-check compares against, and how its document names it.
#[derive(Debug, Clone, PartialEq)]
pub struct BaselineChoice {
    /// The stored baseline chosen, if any.
    pub baseline: Option<StoredBaseline>,
    /// What the task document says about it.
    pub reference: BaselineRef,
}

/// Chooses a post-check's baseline among what the cluster has stored (`stored`, at most
/// one): one stored by hand always; one a pre-check recorded only while younger than
/// `max_age` at `now`; else none.
pub fn choose_baseline(
    stored: Option<StoredBaseline>,
    now: DateTime<Utc>,
    max_age: Duration,
) -> BaselineChoice {
    let none = BaselineChoice { baseline: None, reference: BaselineRef::none() };
    let Some(stored) = stored else { return none };
    let reference = match &stored.precheck_task {
        None => BaselineRef::from(BaselineSource::Stored, stored.taken_at),
        Some(uid) => {
            let age = (now - stored.taken_at).to_std().unwrap_or(Duration::ZERO);
            if age > max_age {
                return none;
            }
            BaselineRef::precheck(uid.clone(), stored.taken_at)
        }
    };
    BaselineChoice { baseline: Some(stored), reference }
}

impl PostCheck {
    /// The cluster's baseline as chosen, decoded. One that cannot be read fails the task
    /// rather than silently checking without it.
    async fn baseline(job: &JobContext<'_>) -> Result<(Option<Snapshot>, BaselineRef), String> {
        let stored = job
            .store
            .get_baseline(job.project_id, job.cluster_id)
            .await
            .map_err(|e| format!("the cluster's baseline could not be read: {e}"))?;
        let choice = choose_baseline(stored, Utc::now(), job.ages.baseline_max_age);
        let snapshot = choice
            .baseline
            .map(|b| decode_interned(|| serde_json::from_slice::<Snapshot>(&b.snapshot_json)))
            .transpose()
            .map_err(|e| {
                format!(
                    "the cluster's stored baseline is not a readable Snapshot ({e}); store a new one"
                )
            })?;
        Ok((snapshot, choice.reference))
    }
}

impl CheckKind for PostCheck {
    type Status = TaskStatus;
    const NAME: &'static str = "post-check";

    fn accepted(now: DateTime<Utc>) -> TaskStatus {
        TaskStatus {
            started_at: Some(now),
            ..TaskStatus::bare(TaskPhase::Running, "the check is running")
        }
    }

    fn started(_: DateTime<Utc>) -> Option<TaskStatus> {
        None
    }

    fn error(message: String) -> TaskStatus {
        TaskStatus::bare(TaskPhase::Error, message)
    }

    fn stamp(&self, status: &mut TaskStatus, started: DateTime<Utc>, finished: DateTime<Utc>) {
        let started = *status.started_at.get_or_insert(started);
        status.finished_at.get_or_insert(finished);
        status.duration_ms.get_or_insert((finished - started).num_milliseconds().max(0) as u64);
    }

    async fn examine(&self, job: &JobContext<'_>) -> Examined<TaskStatus> {
        let (baseline, baseline_ref) = match Self::baseline(job).await {
            Ok(chosen) => chosen,
            Err(m) => return Self::error(m).into(),
        };
        let client = match job.connect().await {
            Ok(c) => c,
            Err(m) => return Self::error(m).into(),
        };
        let mut request = CheckRequest {
            baseline,
            baseline_ref,
            ..CheckRequest::new(self.check.clone(), job.deadline)
        };
        request.policy.synthetic.enabled = self.actions.synthetic;
        request.policy.node_join.enabled = self.actions.node_join;
        postcheck_engine::check(client, &request).await.into()
    }

    async fn create(store: &dyn Store, task: &StoredTask) -> Result<(), StoreError> {
        store.create_task(task).await
    }

    async fn write(
        store: &dyn Store,
        task: &StoredTask,
        status: &TaskStatus,
        _: Option<&StoredBaseline>,
    ) -> Result<bool, StoreError> {
        store.finish_task(&task.project_id, &task.uid, status).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DAY: Duration = Duration::from_secs(24 * 3600);

    fn stored(precheck_task: Option<&str>, taken_at: DateTime<Utc>) -> StoredBaseline {
        StoredBaseline {
            snapshot_json: b"{}".to_vec(),
            taken_at,
            precheck_task: precheck_task.map(str::to_owned),
        }
    }

    #[test]
    fn no_stored_baseline_is_named_none() {
        let choice = choose_baseline(None, Utc::now(), DAY);
        assert_eq!(choice.baseline, None);
        assert_eq!(choice.reference, BaselineRef::none());
    }

    #[test]
    fn a_young_precheck_baseline_is_used_and_named_with_its_task() {
        let now = Utc::now();
        let taken = now - chrono::Duration::hours(3);
        let choice = choose_baseline(Some(stored(Some("t1"), taken)), now, DAY);
        assert!(choice.baseline.is_some());
        assert_eq!(choice.reference, BaselineRef::precheck("t1", taken));
    }

    #[test]
    fn a_precheck_baseline_older_than_the_max_age_is_not_used() {
        let now = Utc::now();
        let taken = now - chrono::Duration::hours(25);
        let choice = choose_baseline(Some(stored(Some("t1"), taken)), now, DAY);
        assert_eq!(choice.baseline, None);
        assert_eq!(choice.reference.source, BaselineSource::None);
    }

    #[test]
    fn a_baseline_stored_by_hand_is_used_whatever_its_age() {
        let now = Utc::now();
        let taken = now - chrono::Duration::days(30);
        let choice = choose_baseline(Some(stored(None, taken)), now, DAY);
        assert!(choice.baseline.is_some());
        assert_eq!(choice.reference, BaselineRef::from(BaselineSource::Stored, taken));
    }
}
