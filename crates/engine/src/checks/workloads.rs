//! `workloads`: Deployments, StatefulSets and DaemonSets have every wanted replica ready,
//! available and updated, and no rollout is stuck (`ProgressDeadlineExceeded`).
//!
//! With a baseline, a workload that was complete before and is not now is Fatal; one that
//! was already short before is a Warning. A workload whose pods show a problem of their own
//! (crashing, unpullable, Pending) is left to `pod-health`, which names the pod: one fault,
//! one item. A DaemonSet's Pending pod is the DaemonSet missing a pod on a node: judged
//! here, with the scheduler's reason.

use postcheck_model::Evidence;

use super::grading::{Graded, already};
use super::pods::explains_shortfall;
use super::{CheckContext, Finding};
use crate::snapshot::Pod;
use crate::snapshot::Workload;

/// Whether `pod` belongs to `w` (a Deployment's pods are owned by its ReplicaSets, named
/// `<deployment>-<hash>`).
pub(super) fn owns(w: &Workload, pod: &Pod) -> bool {
    let Some(owner) = &pod.owner else { return false };
    if pod.namespace != w.namespace {
        return false;
    }
    match w.kind.as_str() {
        "Deployment" => {
            owner.kind == "ReplicaSet"
                && owner.name.rsplit_once('-').is_some_and(|(base, _)| base == w.name)
        }
        kind => owner.kind == kind && owner.name == w.name,
    }
}

/// `workloads`: every workload complete; against the baseline, regressions are Fatal.
pub(super) fn workloads(ctx: &CheckContext) -> Finding {
    let now = ctx.snapshot.now();
    let grace = ctx.policy.tolerances.pending_grace;
    let mut graded = Graded::default();
    let mut judged = 0;
    for w in ctx.snapshot.workload_list() {
        if ctx.policy.excludes_object(&w.namespace, &w.name) {
            continue;
        }
        judged += 1;
        if w.is_complete() {
            continue;
        }
        let pods: Vec<&Pod> = ctx
            .snapshot
            .pod_list()
            .iter()
            .filter(|p| owns(w, p) && !ctx.policy.excludes_pod(p))
            .collect();
        if pods.iter().any(|p| explains_shortfall(p, now, grace)) {
            continue;
        }
        let unplaced: Vec<String> = pods
            .iter()
            .filter(|p| p.phase == "Pending")
            .map(|p| {
                format!(
                    "pod {} Pending: {}",
                    p.name,
                    p.unschedulable.as_deref().unwrap_or("not started")
                )
            })
            .collect();
        let mut reason = match (&w.stuck, w.shortfall()) {
            (Some(stuck), Some(short)) => format!("{short}; rollout stuck: {stuck}"),
            (Some(stuck), None) => format!("rollout stuck: {stuck}"),
            (None, Some(short)) => short,
            (None, None) => continue,
        };
        for u in unplaced {
            reason.push_str(&format!("; {u}"));
        }
        let before = ctx.baseline.and_then(|b| {
            b.workload_list()
                .iter()
                .find(|o| o.kind == w.kind && o.namespace == w.namespace && o.name == w.name)
        });
        let was_short = before.is_some_and(|b| !b.is_complete());
        if was_short {
            reason.push_str(" (already short in the baseline)");
        } else if before.is_some() {
            reason.push_str(" (complete in the baseline)");
        }
        graded.push(!was_short, Evidence::namespaced(&w.kind, &w.namespace, &w.name, reason));
    }
    graded.finding(
        format!("{judged} workload(s) have every replica ready, available and updated"),
        |f, w| format!("{} workload(s) short of replicas{}", f + w, already(w)),
    )
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::{CheckItem, ItemPhase, Level};

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;
    use crate::testing::WorkloadFixture;
    use crate::testing::{NodeFixture, PodFixture};

    fn judge(now: &Snapshot, before: Option<&Snapshot>) -> CheckItem {
        run("workloads", now, before, &target("v1.37.2"), &Policy::default())
    }

    fn cluster() -> Snapshot {
        Snapshot::test()
            .node(NodeFixture::ready("n1"))
            .workload(WorkloadFixture::complete("Deployment", "shop", "web", 3))
            .workload(WorkloadFixture::complete("DaemonSet", "monitoring", "node-exporter", 3))
    }

    #[test]
    fn complete_workloads_pass() {
        assert_eq!(judge(&cluster(), Some(&cluster())).phase, ItemPhase::Success);
    }

    #[test]
    fn a_workload_short_of_available_replicas_is_fatal_and_named() {
        let now = cluster().workload(
            WorkloadFixture::complete("Deployment", "shop", "checkout", 2).available(0).ready(0),
        );
        let item = judge(&now, None);
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["checkout"]);
        assert_eq!(item.evidence[0].reason, "0/2 available, 0/2 ready");
    }

    #[test]
    fn a_daemonset_missing_a_pod_and_a_stuck_rollout_are_reported() {
        let now = Snapshot::test()
            .workload(
                WorkloadFixture::complete("DaemonSet", "monitoring", "node-exporter", 3)
                    .available(2)
                    .ready(2),
            )
            .workload(
                WorkloadFixture::complete("Deployment", "shop", "api", 1)
                    .stuck("ReplicaSet \"api-6f\" has timed out progressing."),
            );
        let item = judge(&now, None);
        assert_eq!(named(&item), ["node-exporter", "api"]);
        assert!(item.evidence[1].reason.starts_with("rollout stuck: ReplicaSet"), "{item:?}");
    }

    #[test]
    fn complete_before_and_short_now_is_fatal_short_before_is_a_warning() {
        let short = |s: Snapshot| {
            s.workload(
                WorkloadFixture::complete("StatefulSet", "db", "pg", 3).ready(2).available(2),
            )
        };
        let regressed = judge(
            &short(Snapshot::test()),
            Some(&Snapshot::test().workload(WorkloadFixture::complete(
                "StatefulSet",
                "db",
                "pg",
                3,
            ))),
        );
        assert_eq!(regressed.level, Level::Fatal);
        assert!(
            regressed.evidence[0].reason.ends_with("(complete in the baseline)"),
            "{regressed:?}"
        );
        let known = judge(&short(Snapshot::test()), Some(&short(Snapshot::test())));
        assert_eq!((known.phase, known.level), (ItemPhase::Failed, Level::Warning));
    }

    #[test]
    fn a_workload_whose_pod_crashes_is_left_to_pod_health() {
        let now = cluster()
            .workload(
                WorkloadFixture::complete("Deployment", "shop", "payments", 1)
                    .available(0)
                    .ready(0),
            )
            .pod(
                PodFixture::running("shop", "payments-7c-x1")
                    .owned_by("ReplicaSet", "payments-7c")
                    .waiting("CrashLoopBackOff", 4),
            );
        assert_eq!(judge(&now, None).phase, ItemPhase::Success);
        let pending = cluster()
            .workload(
                WorkloadFixture::complete("Deployment", "shop", "gpu", 1).available(0).ready(0),
            )
            .pod(
                PodFixture::running("shop", "gpu-5-x")
                    .owned_by("ReplicaSet", "gpu-5")
                    .pending(Duration::seconds(10)),
            );
        assert_eq!(
            named(&judge(&pending, None)),
            ["gpu"],
            "a pod still within its grace period explains nothing yet"
        );
    }

    #[test]
    fn a_daemonset_whose_pod_cannot_be_placed_is_judged_here_with_the_reason() {
        let now = cluster()
            .workload(
                WorkloadFixture::complete("DaemonSet", "monitoring", "exporter", 3)
                    .available(2)
                    .ready(2),
            )
            .pod(
                PodFixture::running("monitoring", "exporter-abcde")
                    .owned_by("DaemonSet", "exporter")
                    .pending(Duration::minutes(5)),
            );
        let item = judge(&now, None);
        assert_eq!(named(&item), ["exporter"]);
        assert!(
            item.evidence[0].reason.contains("pod exporter-abcde Pending: Unschedulable"),
            "{item:?}"
        );
        let pod_health = run("pod-health", &now, None, &target("v1.37.2"), &Policy::default());
        assert_eq!(pod_health.phase, ItemPhase::Success, "one fault, one item: {pod_health:?}");
    }

    /// Legitimate states: a Deployment deliberately scaled to zero, a DaemonSet whose node
    /// selector matches no node (nothing desired).
    #[test]
    fn scaled_to_zero_and_daemonsets_matching_no_node_pass() {
        let now = cluster()
            .workload(WorkloadFixture::complete("Deployment", "shop", "paused", 0))
            .workload(WorkloadFixture::complete("StatefulSet", "shop", "idle-db", 0))
            .workload(WorkloadFixture::complete("DaemonSet", "gpu", "gpu-driver", 0));
        for baseline in [None, Some(&cluster())] {
            let item = judge(&now, baseline);
            assert_eq!(item.phase, ItemPhase::Success, "{}: {:?}", item.message, item.evidence);
        }
    }
}
