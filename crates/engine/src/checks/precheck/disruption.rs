//! What a drain during the upgrade runs into: `pdb-disruption`, PodDisruptionBudgets that
//! allow no disruption now (evicting their pods is refused, so draining a node that runs
//! one stalls), and `single-replica`, Deployments and StatefulSets with one replica and no
//! budget (a drain takes them down until the pod is rescheduled: a risk, not a block).

use postcheck_model::Evidence;

use super::super::workloads::owns;
use super::super::{CheckContext, Finding};

/// `pdb-disruption`: no budget that selects pods allows zero disruptions.
pub(crate) fn pdb_disruption(ctx: &CheckContext) -> Finding {
    let mut evidence = Vec::new();
    let mut judged = 0;
    for pdb in ctx.snapshot.pdb_list() {
        if ctx.policy.excludes_object(&pdb.namespace, &pdb.name) || pdb.expected_pods == 0 {
            continue;
        }
        judged += 1;
        if pdb.disruptions_allowed > 0 {
            continue;
        }
        evidence.push(Evidence::namespaced(
            "PodDisruptionBudget",
            &pdb.namespace,
            &pdb.name,
            format!(
                "allows no disruption now ({} of {} pod(s) healthy, {} required): evicting its pods is refused, so draining their nodes stalls",
                pdb.current_healthy, pdb.expected_pods, pdb.desired_healthy
            ),
        ));
    }
    Finding::from_evidence(
        evidence,
        format!("{judged} PodDisruptionBudget(s) allow a disruption"),
        |n| format!("{n} PodDisruptionBudget(s) allow no disruption: drains will stall"),
    )
}

/// `single-replica`: Deployments and StatefulSets with one replica are covered by a budget
/// (or accepted as a risk).
pub(crate) fn single_replica(ctx: &CheckContext) -> Finding {
    let mut evidence = Vec::new();
    for w in ctx.snapshot.workload_list() {
        if !matches!(w.kind.as_str(), "Deployment" | "StatefulSet")
            || w.desired != 1
            || ctx.policy.excludes_object(&w.namespace, &w.name)
        {
            continue;
        }
        let pods: Vec<_> = ctx.snapshot.pod_list().iter().filter(|p| owns(w, p)).collect();
        let Some(pod) = pods.first() else { continue };
        let covered = ctx.snapshot.pdb_list().iter().any(|b| b.covers(&pod.namespace, &pod.labels));
        if !covered {
            evidence.push(Evidence::namespaced(
                &w.kind,
                &w.namespace,
                &w.name,
                "one replica and no PodDisruptionBudget: unavailable while its node is drained",
            ));
        }
    }
    Finding::from_evidence(evidence, "no single-replica workload without a budget", |n| {
        format!("{n} single-replica workload(s) without a PodDisruptionBudget")
    })
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use crate::checks::precheck::testing::run;
    use crate::checks::testing::{named, target};
    use crate::policy::Policy;
    use crate::snapshot::{Gathered, LabelSelector, Pdb, Snapshot};
    use crate::testing::{PodFixture, WorkloadFixture};

    fn pdb(name: &str, app: &str, allowed: i32, expected: i32) -> Pdb {
        Pdb {
            namespace: "shop".into(),
            name: name.into(),
            selector: Some(LabelSelector {
                match_labels: [("app".to_owned(), app.to_owned())].into(),
                ..Default::default()
            }),
            disruptions_allowed: allowed,
            current_healthy: expected,
            desired_healthy: expected,
            expected_pods: expected,
        }
    }

    fn with_pdbs(mut s: Snapshot, pdbs: Vec<Pdb>) -> Snapshot {
        s.pdbs = Gathered::Ok(pdbs);
        s
    }

    #[test]
    fn a_budget_allowing_no_disruption_is_named_one_selecting_nothing_is_not() {
        let s = with_pdbs(
            Snapshot::test(),
            vec![pdb("web", "web", 0, 1), pdb("db", "db", 1, 3), pdb("empty", "none", 0, 0)],
        );
        let item = run("pdb-disruption", &s, &target("v1.37"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["web"]);
        assert!(item.evidence[0].reason.contains("allows no disruption"), "{item:?}");
        let mut policy = Policy::default();
        policy.exclude.namespaces = vec!["shop".into()];
        assert_eq!(run("pdb-disruption", &s, &target("v1.37"), &policy).phase, ItemPhase::Success);
    }

    #[test]
    fn a_single_replica_deployment_without_a_budget_is_a_risk() {
        let base = Snapshot::test()
            .workload(WorkloadFixture::complete("Deployment", "shop", "web", 1))
            .pod(
                PodFixture::running("shop", "web-7d9f8b6c5d-x2x4z")
                    .label("app", "web")
                    .owned_by("ReplicaSet", "web-7d9f8b6c5d"),
            )
            .workload(WorkloadFixture::complete("Deployment", "shop", "api", 3))
            .pod(
                PodFixture::running("shop", "api-5c6b7d8f9-abcde")
                    .label("app", "api")
                    .owned_by("ReplicaSet", "api-5c6b7d8f9"),
            );
        let item = run("single-replica", &base, &target("v1.37"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["web"]);
        let covered = with_pdbs(base, vec![pdb("web", "web", 0, 1)]);
        assert_eq!(
            run("single-replica", &covered, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Success
        );
    }
}
