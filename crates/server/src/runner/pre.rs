//! The pre-check as the runner runs it: accepted `Init`, `Running` once its job starts,
//! judged by the engine's `precheck`, and, when the cluster could be examined (`Success`
//! or `Failed`), its Snapshot recorded as the cluster's baseline in the same write as the
//! outcome. A finished pre-check expires `--precheck-ttl` after it ended
//! (`expireTimeStamp`).

use std::time::Duration;

use chrono::{DateTime, Utc};
use postcheck_engine::access::ApiServerAddress;
use postcheck_engine::{CheckSpec, PrecheckRequest};
use postcheck_model::{PrecheckPhase, PrecheckStatus, SkippedCheckItem};
use postcheck_store::{Store, StoreError, StoredBaseline, StoredPrecheck};

use super::{CheckKind, Examined, JobContext, chrono_duration};

/// What a pre-check is asked, validated at the edge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrecheckPlan {
    /// `source` the cluster's version now, `target` the upgrade's.
    pub check: CheckSpec,
    /// Items to skip, each for every node or for the nodes it names.
    pub skipped: Vec<SkippedCheckItem>,
}

/// A pre-check and how long its result lasts.
pub(super) struct PreCheck {
    plan: PrecheckPlan,
    ttl: Duration,
}

impl PreCheck {
    pub(super) fn new(plan: PrecheckPlan, ttl: Duration) -> Self {
        Self { plan, ttl }
    }
}

impl CheckKind for PreCheck {
    type Status = PrecheckStatus;
    const NAME: &'static str = "pre-check";

    fn accepted(now: DateTime<Utc>) -> PrecheckStatus {
        PrecheckStatus {
            started_at: Some(now),
            ..PrecheckStatus::bare(PrecheckPhase::Init, "the pre-check is accepted")
        }
    }

    fn started(now: DateTime<Utc>) -> Option<PrecheckStatus> {
        Some(PrecheckStatus {
            started_at: Some(now),
            ..PrecheckStatus::bare(PrecheckPhase::Running, "the pre-check is running")
        })
    }

    fn error(message: String) -> PrecheckStatus {
        PrecheckStatus::bare(PrecheckPhase::Error, message)
    }

    fn stamp(&self, status: &mut PrecheckStatus, started: DateTime<Utc>, finished: DateTime<Utc>) {
        let started = *status.started_at.get_or_insert(started);
        status.finished_at.get_or_insert(finished);
        status.duration_ms.get_or_insert((finished - started).num_milliseconds().max(0) as u64);
        status.expire_time_stamp.get_or_insert(finished + chrono_duration(self.ttl));
    }

    async fn examine(&self, job: &JobContext<'_>) -> Examined<PrecheckStatus> {
        let (client, pinned) = match job.connect_pinned().await {
            Ok(c) => c,
            Err(m) => return Self::error(m).into(),
        };
        // The serving certificate is read from a handshake with the address the client is
        // pinned to (checked by the endpoint policy), never from a second resolution.
        let apiserver = pinned
            .https
            .then_some(ApiServerAddress { server_name: pinned.server_name, addr: pinned.addr });
        let request = PrecheckRequest {
            skipped: self.plan.skipped.clone(),
            apiserver,
            ..PrecheckRequest::new(self.plan.check.clone(), job.deadline)
        };
        let outcome = postcheck_engine::precheck(&client, &request, &()).await;
        let examined =
            matches!(outcome.status.phase, PrecheckPhase::Success | PrecheckPhase::Failed);
        let baseline = match outcome.snapshot.filter(|_| examined) {
            None => None,
            Some(snapshot) => match serde_json::to_vec(&snapshot) {
                Ok(snapshot_json) => Some(StoredBaseline {
                    snapshot_json,
                    taken_at: snapshot.taken_at,
                    precheck_task: Some(job.uid.to_owned()),
                }),
                Err(e) => {
                    tracing::error!(task = %job.uid, error = %e, "encoding a pre-check's Snapshot; no baseline recorded");
                    None
                }
            },
        };
        Examined { status: outcome.status, baseline }
    }

    async fn create(store: &dyn Store, task: &StoredPrecheck) -> Result<(), StoreError> {
        store.create_precheck(task).await
    }

    async fn write(
        store: &dyn Store,
        task: &StoredPrecheck,
        status: &PrecheckStatus,
        baseline: Option<&StoredBaseline>,
    ) -> Result<bool, StoreError> {
        store.finish_precheck(&task.project_id, &task.uid, status, baseline).await
    }
}
