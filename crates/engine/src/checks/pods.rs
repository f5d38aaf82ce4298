//! `pod-health`: application pods that crash, cannot pull their image, stay Pending or
//! Terminating too long, are not Ready, or (against the baseline) restarted many times since.
//!
//! One fault fails one item: system pods are left to `system-pods`, pods on not-Ready nodes
//! to `node-ready`, and a workload's pods that merely are not Ready to `workloads` (which
//! judges ready counts), as are a DaemonSet's Pending pods (the DaemonSet misses a pod on
//! that node); `workloads` in turn leaves to this check a workload whose pods show a problem
//! of their own ([`explains_shortfall`]). With a baseline, a problem the same pod
//! (or a pod of the same owner) already had before is only a Warning.

use chrono::{DateTime, Utc};
use postcheck_model::Evidence;

use super::grading::{Graded, already};
use super::system_pods::is_system_pod;
use super::{CheckContext, Finding};
use crate::snapshot::{Pod, Snapshot};

/// Container waiting reasons that mean the pod cannot run.
const BAD_WAITING: [&str; 7] = [
    "CrashLoopBackOff",
    "ImagePullBackOff",
    "ErrImagePull",
    "InvalidImageName",
    "CreateContainerConfigError",
    "CreateContainerError",
    "RunContainerError",
];
/// Restarts since the baseline that count as a jump.
pub(super) const RESTART_JUMP: i32 = 3;

/// What is wrong with a pod by itself; the first word is the kind of problem, so that the
/// same problem in the baseline is recognised.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    /// `CrashLoopBackOff`, `Pending`, `Terminating`, `NotReady`.
    pub(super) kind: String,
    /// For the evidence.
    pub(super) detail: String,
}

fn age(since: Option<DateTime<Utc>>, now: DateTime<Utc>) -> Option<std::time::Duration> {
    (now - since?).to_std().ok()
}

fn human(d: std::time::Duration) -> String {
    humantime::format_duration(std::time::Duration::from_secs(d.as_secs())).to_string()
}

/// A problem the pod shows by itself (waiting for a bad reason, Pending or Terminating past
/// `grace`), not counting "not Ready".
pub(super) fn pod_level_problem(
    pod: &Pod,
    now: DateTime<Utc>,
    grace: std::time::Duration,
) -> Option<Problem> {
    if let Some(overdue) = pod.deleting.and_then(|d| (now - d).to_std().ok()).filter(|o| *o > grace)
    {
        return Some(Problem {
            kind: "Terminating".into(),
            detail: format!("Terminating {} past its deletion deadline", human(overdue)),
        });
    }
    if pod.deleting.is_some() || matches!(pod.phase.as_str(), "Succeeded" | "Failed") {
        return None;
    }
    for c in &pod.containers {
        if let Some(reason) = c.waiting_reason.as_deref().filter(|r| BAD_WAITING.contains(r)) {
            let last = c
                .last_terminated_reason
                .as_deref()
                .map(|r| format!(", last terminated: {r}"))
                .unwrap_or_default();
            return Some(Problem {
                kind: reason.to_owned(),
                detail: format!(
                    "container {} waiting: {reason} ({} restarts{last})",
                    c.name, c.restart_count
                ),
            });
        }
    }
    if pod.phase == "Pending"
        && let Some(pending) = age(pod.created, now).filter(|a| *a > grace)
    {
        let why = pod.unschedulable.as_deref().map(|w| format!(": {w}")).unwrap_or_default();
        return Some(Problem {
            kind: "Pending".into(),
            detail: format!("Pending for {}{why}", human(pending)),
        });
    }
    None
}

/// Whether a workload controller judges this pod's readiness (`workloads` does).
fn owned_by_workload(pod: &Pod) -> bool {
    pod.owner
        .as_ref()
        .is_some_and(|o| matches!(o.kind.as_str(), "ReplicaSet" | "StatefulSet" | "DaemonSet"))
}

fn daemon_pod(pod: &Pod) -> bool {
    pod.owner.as_ref().is_some_and(|o| o.kind == "DaemonSet")
}

/// Whether this check reports the pod's own problem, so that `workloads` leaves the pod's
/// workload to it: any problem but a DaemonSet's Pending pod.
pub(super) fn explains_shortfall(
    pod: &Pod,
    now: DateTime<Utc>,
    grace: std::time::Duration,
) -> bool {
    pod_level_problem(pod, now, grace).is_some_and(|p| !(p.kind == "Pending" && daemon_pod(pod)))
}

/// Everything wrong with the pod, or `None`.
fn problem(pod: &Pod, now: DateTime<Utc>, grace: std::time::Duration) -> Option<Problem> {
    if let Some(p) = pod_level_problem(pod, now, grace) {
        return (!(p.kind == "Pending" && daemon_pod(pod))).then_some(p);
    }
    let settled = age(pod.created, now).is_some_and(|a| a > grace);
    (pod.phase == "Running"
        && !pod.ready
        && pod.deleting.is_none()
        && settled
        && !owned_by_workload(pod))
    .then(|| Problem { kind: "NotReady".into(), detail: "Running but not Ready".into() })
}

/// Whether the baseline shows the same problem on this pod, or on a pod of the same owner.
fn had_before(baseline: &Snapshot, pod: &Pod, kind: &str, grace: std::time::Duration) -> bool {
    let then = baseline.now();
    baseline.pod_list().iter().any(|b| {
        let same = b.namespace == pod.namespace
            && (b.name == pod.name || (b.owner.is_some() && b.owner == pod.owner));
        same && problem(b, then, grace).is_some_and(|p| p.kind == kind)
    })
}

fn on_unready_node(snapshot: &Snapshot, pod: &Pod) -> bool {
    pod.node_name.as_deref().and_then(|n| snapshot.find_node(n)).is_some_and(|n| !n.is_ready())
}

/// `pod-health`: no application pod crashing, unpullable, stuck or (against the baseline)
/// restarting much more than before.
pub(super) fn pod_health(ctx: &CheckContext) -> Finding {
    let now = ctx.snapshot.now();
    let grace = ctx.policy.tolerances.pending_grace;
    let mut graded = Graded::default();
    let mut judged = 0;
    for pod in ctx.snapshot.pod_list() {
        if is_system_pod(pod) || ctx.policy.excludes_pod(pod) || on_unready_node(ctx.snapshot, pod)
        {
            continue;
        }
        judged += 1;
        let evidence =
            |reason: String| Evidence::namespaced("Pod", &pod.namespace, &pod.name, reason);
        if let Some(p) = problem(pod, now, grace) {
            let before = ctx.baseline.is_some_and(|b| had_before(b, pod, &p.kind, grace));
            let reason = if before {
                format!("{} (already so in the baseline)", p.detail)
            } else {
                p.detail
            };
            graded.push(!before, evidence(reason));
            continue;
        }
        let Some(baseline) = ctx.baseline else { continue };
        let Some(then) =
            baseline.pod_list().iter().find(|b| b.namespace == pod.namespace && b.name == pod.name)
        else {
            continue;
        };
        for c in &pod.containers {
            let Some(b) = then.containers.iter().find(|b| b.name == c.name) else { continue };
            if c.restart_count - b.restart_count >= RESTART_JUMP {
                graded.push(
                    false,
                    evidence(format!(
                        "container {} restarted {} times since the baseline ({} → {})",
                        c.name,
                        c.restart_count - b.restart_count,
                        b.restart_count,
                        c.restart_count
                    )),
                );
            }
        }
    }
    graded.finding(format!("{judged} application pod(s) healthy"), |f, w| {
        format!("{} pod(s) unhealthy{}", f + w, already(w))
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::{ItemPhase, Level};

    use super::*;
    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::testing::{NodeFixture, PodFixture};

    fn cluster() -> Snapshot {
        Snapshot::test()
            .node(NodeFixture::ready("n1"))
            .pod(PodFixture::running("shop", "web-1").owned_by("ReplicaSet", "web-5d"))
    }

    fn pod_health(now: &Snapshot, before: Option<&Snapshot>) -> postcheck_model::CheckItem {
        run("pod-health", now, before, &target("v1.37.2"), &Policy::default())
    }

    #[test]
    fn a_healthy_application_passes() {
        assert_eq!(pod_health(&cluster(), Some(&cluster())).phase, ItemPhase::Success);
    }

    #[test]
    fn crash_loops_and_image_pulls_are_fatal_and_named() {
        let now = cluster()
            .pod(
                PodFixture::running("shop", "payments-1")
                    .owned_by("ReplicaSet", "payments-7c")
                    .waiting("CrashLoopBackOff", 6),
            )
            .pod(PodFixture::running("shop", "cart-1").waiting("ErrImagePull", 0));
        let item = pod_health(&now, None);
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["payments-1", "cart-1"]);
        assert!(item.evidence[0].reason.contains("CrashLoopBackOff (6 restarts"), "{item:?}");
    }

    #[test]
    fn pending_counts_only_past_the_grace_period() {
        let fresh =
            cluster().pod(PodFixture::running("shop", "new-1").pending(Duration::seconds(30)));
        assert_eq!(pod_health(&fresh, None).phase, ItemPhase::Success);
        let stuck =
            cluster().pod(PodFixture::running("shop", "gpu-1").pending(Duration::minutes(10)));
        let item = pod_health(&stuck, None);
        assert_eq!(named(&item), ["gpu-1"]);
        assert!(item.evidence[0].reason.starts_with("Pending for 10m: Unschedulable"), "{item:?}");
    }

    #[test]
    fn terminating_too_long_is_reported() {
        let mut pod = PodFixture::running("shop", "stuck-1");
        pod.0.deleting = Some(crate::testing::fixture_time() - Duration::minutes(15));
        let item = pod_health(&cluster().pod(pod), None);
        assert_eq!(named(&item), ["stuck-1"]);
        assert!(item.evidence[0].reason.starts_with("Terminating 15m"), "{item:?}");
    }

    #[test]
    fn a_bare_pod_not_ready_is_reported_but_a_workload_pod_is_left_to_workloads() {
        let now = cluster()
            .pod(PodFixture::running("shop", "bare").not_ready())
            .pod(PodFixture::running("shop", "web-2").owned_by("ReplicaSet", "web-5d").not_ready());
        assert_eq!(named(&pod_health(&now, None)), ["bare"]);
    }

    #[test]
    fn system_pods_and_pods_on_unready_nodes_are_left_to_their_items() {
        let now = Snapshot::test()
            .node(NodeFixture::ready("n1"))
            .node(NodeFixture::ready("n2").unreachable())
            .pod(PodFixture::running("kube-system", "coredns-1").waiting("CrashLoopBackOff", 3))
            .pod(PodFixture::running("shop", "web-1").on("n2").waiting("CrashLoopBackOff", 3));
        assert_eq!(pod_health(&now, None).phase, ItemPhase::Success);
    }

    #[test]
    fn a_crash_loop_already_in_the_baseline_is_only_a_warning() {
        let broken = |restarts| {
            cluster().pod(
                PodFixture::running("shop", "payments-1")
                    .owned_by("ReplicaSet", "payments-7c")
                    .waiting("CrashLoopBackOff", restarts),
            )
        };
        let item = pod_health(&broken(40), Some(&broken(12)));
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
        assert!(item.evidence[0].reason.contains("already so in the baseline"), "{item:?}");
    }

    #[test]
    fn restart_jumps_since_the_baseline_are_warnings() {
        let with_restarts = |n| {
            let mut p = PodFixture::running("shop", "api-1");
            p.0.containers[0].restart_count = n;
            cluster().pod(p)
        };
        let item = pod_health(&with_restarts(7), Some(&with_restarts(2)));
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
        assert!(
            item.evidence[0].reason.contains("restarted 5 times since the baseline (2 → 7)"),
            "{item:?}"
        );
        assert_eq!(
            pod_health(&with_restarts(3), Some(&with_restarts(2))).phase,
            ItemPhase::Success
        );
    }

    /// Legitimate states: Succeeded pods and the pods of finished Jobs.
    #[test]
    fn completed_and_job_pods_are_not_failures() {
        let mut failed_try = PodFixture::running("batch", "report-x1").owned_by("Job", "report");
        failed_try.0.phase = "Failed".into();
        failed_try.0.ready = false;
        let now = cluster()
            .pod(PodFixture::running("batch", "report-x2").owned_by("Job", "report").succeeded())
            .pod(PodFixture::running("batch", "bare-done").succeeded())
            .pod(failed_try);
        for baseline in [None, Some(&cluster())] {
            let item = pod_health(&now, baseline);
            assert_eq!(item.phase, ItemPhase::Success, "{}: {:?}", item.message, item.evidence);
        }
    }
}
