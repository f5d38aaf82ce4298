//! The verdict: from judged items (or a cluster that could not be examined) to CCE's
//! task status.
//!
//! `Error` when the cluster could not be examined, `Failed` when any Fatal item failed,
//! `Success` otherwise; the message says in one line what decided it. [`stamp`] is the one
//! place a status gets its start, finish and duration.

use chrono::{DateTime, Utc};
use postcheck_model::{
    BaselineRef, BaselineSource, CheckItem, ItemPhase, PrecheckPhase, PrecheckStatus,
    SkippedCheckItem, TaskPhase, TaskStatus,
};

use crate::blame;
use crate::checks::{self, CheckContext};
use crate::error_chain::chain;
use crate::gather::GatherError;
use crate::policy::Policy;
use crate::request::CheckSpec;
use crate::snapshot::Snapshot;

/// Judges a snapshot: every item of the catalogue, blame against the baseline when there
/// is one, and the task's phase and message. `baseline_ref` is what the caller says the
/// baseline is; the status names it (or that there was none).
pub(crate) fn report(
    snapshot: &Snapshot,
    baseline: Option<&Snapshot>,
    baseline_ref: &BaselineRef,
    spec: &CheckSpec,
    policy: &Policy,
) -> TaskStatus {
    let items = checks::judge(&CheckContext { snapshot, baseline, spec, policy });
    let (items, blame, resolved) = match baseline {
        Some(before) => {
            let b = blame::blame(items, before, spec, policy);
            (b.items, Some(b.counts), b.resolved)
        }
        None => (items, None, Vec::new()),
    };
    let named = match baseline {
        // A baseline given without saying where it came from is the caller's stored one.
        Some(before) if !baseline_ref.is_some() => {
            BaselineRef::from(BaselineSource::Stored, before.taken_at)
        }
        Some(before) => BaselineRef {
            taken_at: baseline_ref.taken_at.or(Some(before.taken_at)),
            ..baseline_ref.clone()
        },
        None => BaselineRef::none(),
    };
    let phase = TaskPhase::from_items(&items);
    let message = summary(phase, &items, snapshot.server_version.ok().map(String::as_str));
    TaskStatus {
        items_status: items,
        baseline: Some(named),
        blame,
        resolved,
        ..TaskStatus::bare(phase, message)
    }
}

/// Judges a snapshot with the pre-check catalogue into CCE's `PrecheckStatus`.
pub(crate) fn precheck_report(
    snapshot: &Snapshot,
    spec: &CheckSpec,
    policy: &Policy,
    skipped: &[SkippedCheckItem],
) -> PrecheckStatus {
    let ctx = CheckContext { snapshot, baseline: None, spec, policy };
    checks::precheck::precheck_status(&ctx, skipped)
}

/// The pre-check status of a cluster that could not be examined, or of a request that
/// cannot be honoured.
pub(crate) fn precheck_error(message: String) -> PrecheckStatus {
    PrecheckStatus::bare(PrecheckPhase::Error, message)
}

/// [`stamp`] for a pre-check.
pub(crate) fn stamp_precheck(mut status: PrecheckStatus, started: DateTime<Utc>) -> PrecheckStatus {
    let finished = Utc::now();
    status.started_at = Some(started);
    status.finished_at = Some(finished);
    status.duration_ms = Some(u64::try_from((finished - started).num_milliseconds()).unwrap_or(0));
    status
}

/// The status of a cluster that could not be examined: the error and its causes.
pub(crate) fn unexamined(error: &GatherError) -> TaskStatus {
    TaskStatus::bare(
        TaskPhase::Error,
        format!("the cluster could not be examined: {}", chain(error)),
    )
}

/// Stamps `status` with the start, now as its finish, and the duration between.
pub(crate) fn stamp(mut status: TaskStatus, started: DateTime<Utc>) -> TaskStatus {
    let finished = Utc::now();
    status.started_at = Some(started);
    status.finished_at = Some(finished);
    status.duration_ms = Some(u64::try_from((finished - started).num_milliseconds()).unwrap_or(0));
    status
}

fn summary(phase: TaskPhase, items: &[CheckItem], server: Option<&str>) -> String {
    let names = |f: &dyn Fn(&CheckItem) -> bool| {
        items.iter().filter(|i| f(i)).map(|i| i.name.as_str()).collect::<Vec<_>>()
    };
    let count = |p| items.iter().filter(|i| i.phase == p).count();
    let at = server.map(|v| format!(" (API server {v})")).unwrap_or_default();
    let mut text = match phase {
        TaskPhase::Failed => {
            let fatal = names(&|i| i.is_fatal_failure());
            format!("{} fatal item(s) failed: {}{at}", fatal.len(), fatal.join(", "))
        }
        _ => format!("{} of {} item(s) passed{at}", count(ItemPhase::Success), items.len()),
    };
    let not_run = names(&|i| i.phase == ItemPhase::Error);
    if !not_run.is_empty() {
        text.push_str(&format!("; could not run: {}", not_run.join(", ")));
    }
    let warnings = names(&|i| i.phase == ItemPhase::Failed && !i.is_fatal_failure());
    if !warnings.is_empty() {
        text.push_str(&format!("; warnings: {}", warnings.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::snapshot::Source;
    use crate::testing::{NodeFixture, PodFixture};

    fn spec() -> CheckSpec {
        CheckSpec {
            source: Some("v1.36.3".parse().unwrap()),
            target: Some("v1.37.2".parse().unwrap()),
        }
    }

    fn healthy() -> Snapshot {
        Snapshot::test()
            .nodes(["n1", "n2", "n3"].map(NodeFixture::ready))
            .pod(PodFixture::running("kube-system", "coredns-a").label("k8s-app", "kube-dns"))
    }

    #[test]
    fn a_healthy_upgraded_cluster_succeeds_with_every_item_passed_or_not_applicable() {
        let status =
            report(&healthy(), Some(&healthy()), &BaselineRef::none(), &spec(), &Policy::default());
        assert_eq!(status.phase, TaskPhase::Success, "{:#?}", status.items_status);
        assert!(
            status
                .items_status
                .iter()
                .all(|i| matches!(i.phase, ItemPhase::Success | ItemPhase::Skipped)),
            "{:#?}",
            status.items_status
        );
        assert_eq!(status.items_status.len(), checks::catalogue().len());
        let passed = |name: &str| {
            status.items_status.iter().any(|i| i.name == name && i.phase == ItemPhase::Success)
        };
        for name in [
            "cluster-version",
            "apiserver-health",
            "control-plane",
            "node-ready",
            "node-version",
            "system-pods",
            "node-inventory",
        ] {
            assert!(passed(name), "{name} should have run and passed: {:#?}", status.items_status);
        }
    }

    #[test]
    fn one_fatal_failure_fails_the_task_and_is_named_in_the_message() {
        let now = healthy().node(NodeFixture::ready("n4").unreachable());
        let status = report(&now, None, &BaselineRef::none(), &spec(), &Policy::default());
        assert_eq!(status.phase, TaskPhase::Failed);
        assert_eq!(
            status.message.as_deref(),
            Some("1 fatal item(s) failed: node-ready (API server v1.37.2)")
        );
        let failed: Vec<_> = status
            .items_status
            .iter()
            .filter(|i| i.phase == ItemPhase::Failed)
            .map(|i| i.name.as_str())
            .collect();
        assert_eq!(failed, ["node-ready"]);
    }

    #[test]
    fn an_item_that_could_not_run_does_not_fail_the_task() {
        let now = healthy().unavailable(Source::Pods, 403, "pods is forbidden");
        let status = report(&now, None, &BaselineRef::none(), &spec(), &Policy::default());
        assert_eq!(status.phase, TaskPhase::Success);
        assert!(status.message.unwrap().contains("could not run: control-plane, system-pods"));
    }

    #[test]
    fn a_cluster_that_cannot_be_examined_is_an_error() {
        let status = unexamined(&GatherError::CredentialsRejected {
            what: "reading /version",
            message: "Unauthorized".into(),
        });
        assert_eq!(status.phase, TaskPhase::Error);
        assert!(status.message.unwrap().contains("rejected the credentials"));
    }
}
