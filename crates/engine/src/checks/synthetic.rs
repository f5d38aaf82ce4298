//! `synthetic-pod`: judges the synthetic pod's run ([`crate::actions::synthetic`]) recorded in the
//! Snapshot. Skipped unless it was asked for; the run itself happens while gathering.

use postcheck_model::{Evidence, Level};

use super::{CheckContext, Finding};
use crate::snapshot::Gathered;

/// An opt-in action's recorded run, or the item's finding when there is none: Skipped when
/// it was not asked for (`opt_in` says how to ask), Error when it could not be recorded.
pub(super) fn action_run<'a, T>(run: &'a Gathered<T>, opt_in: &str) -> Result<&'a T, Finding> {
    match run {
        Gathered::NotGathered => Err(Finding::skip(format!("opt-in: {opt_in}"))),
        Gathered::Unavailable(u) => Err(Finding::error(format!("could not run: {}", u.reason))),
        Gathered::Ok(o) => Ok(o),
    }
}

/// What a message adds when an action's cleanup failed (nothing when it did not).
pub(super) fn cleanup_note(cleanup_error: Option<&str>) -> String {
    cleanup_error.map(|c| format!("; cleanup failed: {c}")).unwrap_or_default()
}

/// `synthetic-pod`: every schedulable node ran a Ready synthetic pod, and nothing was left.
pub(super) fn synthetic_pod(ctx: &CheckContext) -> Finding {
    let how = "run with --synthetic (or synthetic.enabled in the policy)";
    let outcome = match action_run(&ctx.snapshot.synthetic, how) {
        Ok(o) => o,
        Err(finding) => return finding,
    };
    let leftovers = cleanup_note(outcome.cleanup_error.as_deref());
    if let Some(why) = &outcome.setup_error {
        return Finding::error(format!("could not run: {why}{leftovers}"));
    }
    let secs = outcome.elapsed_ms as f64 / 1000.0;
    if !outcome.failed_nodes.is_empty() {
        let evidence = outcome
            .failed_nodes
            .iter()
            .map(|f| Evidence::cluster("Node", &f.node, &f.reason))
            .collect();
        return Finding::fail(
            format!(
                "{} of {} schedulable node(s) did not run a Ready synthetic pod within {secs:.0}s{leftovers}",
                outcome.failed_nodes.len(),
                outcome.nodes
            ),
            evidence,
        );
    }
    if let Some(c) = &outcome.cleanup_error {
        let evidence = vec![Evidence::cluster("Namespace", &outcome.namespace, c)];
        return Finding {
            level: Some(Level::Warning),
            ..Finding::fail(
                format!("every node ran the synthetic pod, but cleanup failed: {c}"),
                evidence,
            )
        };
    }
    Finding::pass(format!(
        "a new pod became Ready on each of {} schedulable node(s) in {secs:.1}s; all cleaned up",
        outcome.nodes
    ))
}

#[cfg(test)]
mod tests {
    use postcheck_model::{ItemPhase, Level};

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::{FailedNode, SyntheticOutcome};
    use crate::snapshot::{Gathered, Snapshot};

    fn with(outcome: SyntheticOutcome) -> Snapshot {
        let mut s = Snapshot::test();
        s.synthetic = Gathered::Ok(outcome);
        s
    }

    fn outcome() -> SyntheticOutcome {
        SyntheticOutcome {
            namespace: "postcheck-synthetic-1".into(),
            nodes: 3,
            failed_nodes: vec![],
            setup_error: None,
            cleanup_error: None,
            elapsed_ms: 2100,
        }
    }

    #[test]
    fn skipped_unless_asked_for() {
        assert_eq!(
            run("synthetic-pod", &Snapshot::test(), None, &target("v1.37"), &Policy::default())
                .phase,
            ItemPhase::Skipped
        );
    }

    #[test]
    fn every_node_ready_passes_and_a_node_without_a_ready_pod_fails_named() {
        assert_eq!(
            run("synthetic-pod", &with(outcome()), None, &target("v1.37"), &Policy::default())
                .phase,
            ItemPhase::Success
        );
        let failed = SyntheticOutcome {
            failed_nodes: vec![FailedNode {
                node: "node-2".into(),
                reason: "its pod is Pending".into(),
            }],
            ..outcome()
        };
        let item = run("synthetic-pod", &with(failed), None, &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["node-2"]);
    }

    #[test]
    fn a_setup_error_is_could_not_run_and_a_cleanup_error_a_warning() {
        let forbidden =
            SyntheticOutcome { setup_error: Some("namespaces is forbidden".into()), ..outcome() };
        assert_eq!(
            run("synthetic-pod", &with(forbidden), None, &target("v1.37"), &Policy::default())
                .phase,
            ItemPhase::Error
        );
        let dirty =
            SyntheticOutcome { cleanup_error: Some("still terminating".into()), ..outcome() };
        let item = run("synthetic-pod", &with(dirty), None, &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
    }

    #[test]
    fn only_an_enabled_policy_gathers_the_synthetic_run() {
        use crate::checks::needs;
        use crate::snapshot::Source;
        assert!(!needs(&Policy::default()).contains(&Source::Synthetic));
        let mut p = Policy::default();
        p.synthetic.enabled = true;
        assert!(needs(&p).contains(&Source::Synthetic));
        assert!(!Source::ALL.contains(&Source::Synthetic), "a baseline never runs it");
    }
}
