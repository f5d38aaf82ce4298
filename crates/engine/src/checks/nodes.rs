//! Nodes: `node-ready`, `node-conditions`, `node-schedulable`, `node-version` and
//! `node-skipped`. Nodes the policy excludes are not judged.

use postcheck_model::{Evidence, Version};

use super::{CheckContext, Finding};
use crate::policy::NodeVersionPolicy;
use crate::snapshot::Node;

/// The conditions that must not be `True`.
const PRESSURES: [&str; 4] =
    ["MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable"];
/// CCE marks nodes that skipped an upgrade with this label set to `true`.
pub(super) const SKIPPED_LABEL: &str = "upgrade.cce.io/skipped";
/// Older CCE versions left this taint on nodes that skipped an upgrade.
pub(super) const UPGRADE_TAINT: &str = "node.kubernetes.io/upgrade";
/// How many minors a kubelet or kube-proxy may trail the API server (upstream skew policy).
const MAX_NODE_SKEW: i64 = 3;

fn judged<'a>(ctx: &'a CheckContext) -> impl Iterator<Item = &'a Node> + 'a {
    ctx.snapshot.node_list().iter().filter(|n| !ctx.policy.excludes_node(n))
}

fn node_evidence(node: &Node, reason: impl Into<String>) -> Evidence {
    Evidence::cluster("Node", &node.name, reason)
}

/// `node-ready`: every node's Ready condition is True, up to the tolerance.
pub(super) fn node_ready(ctx: &CheckContext) -> Finding {
    let nodes: Vec<_> = judged(ctx).collect();
    let evidence: Vec<Evidence> = nodes
        .iter()
        .filter(|n| !n.is_ready())
        .map(|n| {
            node_evidence(
                n,
                n.condition("Ready")
                    .map_or_else(|| "reports no Ready condition".to_owned(), |c| c.describe()),
            )
        })
        .collect();
    let tolerated = ctx.policy.tolerances.max_unready_nodes;
    let total = nodes.len();
    if evidence.is_empty() {
        return Finding::pass(format!("all {total} node(s) are Ready"));
    }
    if evidence.len() <= tolerated {
        return Finding::pass(format!(
            "{} of {total} node(s) not Ready, within the tolerance of {tolerated} ({})",
            evidence.len(),
            evidence.iter().map(|e| e.name.as_str()).collect::<Vec<_>>().join(", ")
        ));
    }
    Finding::fail(
        format!("{} of {total} node(s) not Ready (tolerance {tolerated})", evidence.len()),
        evidence,
    )
}

/// `node-conditions`: no memory, disk or PID pressure, no unavailable network.
pub(super) fn node_conditions(ctx: &CheckContext) -> Finding {
    let mut evidence = Vec::new();
    let mut total = 0;
    for node in judged(ctx) {
        total += 1;
        let bad: Vec<String> = PRESSURES
            .iter()
            .filter_map(|kind| {
                node.condition(kind).filter(|c| c.status == "True").map(|c| c.describe())
            })
            .collect();
        if !bad.is_empty() {
            evidence.push(node_evidence(node, bad.join("; ")));
        }
    }
    Finding::from_evidence(
        evidence,
        format!("no pressure or network condition on {total} node(s)"),
        |n| format!("{n} node(s) report pressure or an unavailable network"),
    )
}

/// `node-schedulable`: no node is cordoned; with a baseline, only nodes cordoned since.
pub(super) fn node_schedulable(ctx: &CheckContext) -> Finding {
    let mut evidence = Vec::new();
    let mut kept = Vec::new();
    for node in judged(ctx).filter(|n| n.unschedulable) {
        match ctx.baseline.and_then(|b| b.find_node(&node.name)) {
            Some(before) if before.unschedulable => kept.push(node.name.as_str()),
            Some(_) => evidence
                .push(node_evidence(node, "cordoned (spec.unschedulable) since the baseline")),
            None => evidence.push(node_evidence(node, "cordoned (spec.unschedulable)")),
        }
    }
    if evidence.is_empty() && !kept.is_empty() {
        return Finding::pass(format!(
            "no node newly cordoned; already cordoned in the baseline: {}",
            kept.join(", ")
        ));
    }
    Finding::from_evidence(evidence, "no node is cordoned", |n| format!("{n} node(s) cordoned"))
}

/// `node-version`: kubelets and kube-proxies at the target (exact) or within skew.
pub(super) fn node_version(ctx: &CheckContext) -> Finding {
    let server = ctx.snapshot.server_version.ok().and_then(|v| Version::parse(v).ok());
    let (reference, rule) = match ctx.policy.node_version {
        NodeVersionPolicy::Exact => match ctx.spec.target.clone().or(server) {
            Some(v) => (v, "exact"),
            None => {
                return Finding::error(
                    "neither a target version nor a readable API server version to compare with",
                );
            }
        },
        NodeVersionPolicy::Skew => match server.or_else(|| ctx.spec.target.clone()) {
            Some(v) => (v, "skew"),
            None => return Finding::error("the API server's version could not be read"),
        },
    };
    let (evidence, total) =
        judge_node_versions(ctx, |component, reported, v| match ctx.policy.node_version {
            NodeVersionPolicy::Exact if !v.satisfies(&reference) => {
                Some(format!("{component} {reported}, expected {reference}"))
            }
            NodeVersionPolicy::Skew => {
                outside_skew(component, reported, v, &reference, "the API server")
            }
            _ => None,
        });
    let ok = match rule {
        "exact" => format!("kubelet and kube-proxy of {total} node(s) at {reference}"),
        _ => format!(
            "kubelet and kube-proxy of {total} node(s) within the skew policy of {reference}"
        ),
    };
    Finding::from_evidence(evidence, ok, |n| match rule {
        "exact" => format!("{n} node(s) not at {reference}"),
        _ => format!("{n} node(s) outside the version skew policy of {reference}"),
    })
}

/// Each judged node's kubelet and kube-proxy through `judge` (the component, the version it
/// reports, that version parsed): the nodes where either is wrong, and how many nodes were
/// judged. A version not reported is not judged (kube-proxy's is deprecated and often
/// absent); one that does not parse is named as unreadable.
pub(super) fn judge_node_versions(
    ctx: &CheckContext,
    judge: impl Fn(&str, &str, &Version) -> Option<String>,
) -> (Vec<Evidence>, usize) {
    let one = |component: &str, reported: &str| -> Option<String> {
        if reported.is_empty() {
            return None;
        }
        match Version::parse(reported) {
            Ok(v) => judge(component, reported, &v),
            Err(_) => Some(format!("{component} reports an unreadable version {reported:?}")),
        }
    };
    let mut evidence = Vec::new();
    let mut total = 0;
    for node in judged(ctx) {
        total += 1;
        let problems: Vec<String> =
            [one("kubelet", &node.kubelet_version), one("kube-proxy", &node.kube_proxy_version)]
                .into_iter()
                .flatten()
                .collect();
        if !problems.is_empty() {
            evidence.push(node_evidence(node, problems.join("; ")));
        }
    }
    (evidence, total)
}

/// Why `component` at `v` (as `reported`) is outside the upstream skew policy of
/// `reference` (`what` names it: "the API server", "the target"), or `None`.
pub(super) fn outside_skew(
    component: &str,
    reported: &str,
    v: &Version,
    reference: &Version,
    what: &str,
) -> Option<String> {
    let behind = v.minors_behind(reference);
    if behind < 0 {
        Some(format!("{component} {reported} is newer than {what} {reference}"))
    } else if behind > MAX_NODE_SKEW {
        Some(format!(
            "{component} {reported} is {behind} minors behind {what} {reference} (at most {MAX_NODE_SKEW})"
        ))
    } else {
        None
    }
}

/// `node-skipped`: no node carries CCE's skipped label or the leftover upgrade taint.
pub(super) fn node_skipped(ctx: &CheckContext) -> Finding {
    let mut evidence = Vec::new();
    for node in judged(ctx) {
        let mut why = Vec::new();
        if node.labels.get(SKIPPED_LABEL).is_some_and(|v| v.eq_ignore_ascii_case("true")) {
            why.push(format!("labelled {SKIPPED_LABEL}=true: it skipped the upgrade"));
        }
        for t in node.taints.iter().filter(|t| t.key == UPGRADE_TAINT) {
            why.push(format!("carries the upgrade taint {t} left behind"));
        }
        if !why.is_empty() {
            evidence.push(node_evidence(node, why.join("; ")));
        }
    }
    Finding::from_evidence(evidence, "no node skipped the upgrade", |n| {
        format!("{n} node(s) skipped the upgrade")
    })
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use crate::checks::testing::*;
    use crate::policy::{NodeVersionPolicy, Policy};
    use crate::request::CheckSpec;
    use crate::snapshot::Snapshot;
    use crate::testing::NodeFixture;

    fn three_nodes() -> Snapshot {
        Snapshot::test().nodes(["n1", "n2", "n3"].map(NodeFixture::ready))
    }

    #[test]
    fn an_unreachable_node_fails_node_ready_with_its_condition() {
        let snapshot = Snapshot::test()
            .node(NodeFixture::ready("n1"))
            .node(NodeFixture::ready("n2").unreachable());
        let item = run("node-ready", &snapshot, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["n2"]);
        assert!(
            item.evidence[0].reason.contains("Ready is Unknown (NodeStatusUnknown)"),
            "{}",
            item.evidence[0].reason
        );
        assert_eq!(
            run("node-ready", &three_nodes(), None, &CheckSpec::default(), &Policy::default())
                .phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn unready_nodes_within_the_tolerance_or_excluded_pass() {
        let snapshot = Snapshot::test()
            .node(NodeFixture::ready("n1"))
            .node(NodeFixture::ready("n2").unreachable());
        let mut policy = Policy::default();
        policy.tolerances.max_unready_nodes = 1;
        let item = run("node-ready", &snapshot, None, &CheckSpec::default(), &policy);
        assert_eq!(item.phase, ItemPhase::Success);
        assert!(item.message.contains("n2"), "{}", item.message);
        let mut policy = Policy::default();
        policy.exclude.names = vec!["n2".into()];
        assert_eq!(
            run("node-ready", &snapshot, None, &CheckSpec::default(), &policy).phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn pressure_and_network_conditions_fail_node_conditions() {
        let snapshot = three_nodes()
            .node(NodeFixture::ready("disk").condition(
                "DiskPressure",
                "True",
                "KubeletHasDiskPressure",
            ))
            .node(NodeFixture::ready("net").condition(
                "NetworkUnavailable",
                "True",
                "NoRouteCreated",
            ));
        let item =
            run("node-conditions", &snapshot, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["disk", "net"]);
        assert!(item.evidence[0].reason.contains("DiskPressure is True"));
        // Unknown (a node that stopped reporting) is node-ready's business.
        let unknown = Snapshot::test().node(NodeFixture::ready("n").condition(
            "MemoryPressure",
            "Unknown",
            "NodeStatusUnknown",
        ));
        assert_eq!(
            run("node-conditions", &unknown, None, &CheckSpec::default(), &Policy::default()).phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn a_cordoned_node_fails_unless_the_baseline_had_it_cordoned() {
        let now = three_nodes().node(NodeFixture::ready("n4").cordoned());
        let item = run("node-schedulable", &now, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["n4"]);
        let before_cordoned = three_nodes().node(NodeFixture::ready("n4").cordoned());
        let item = run(
            "node-schedulable",
            &now,
            Some(&before_cordoned),
            &CheckSpec::default(),
            &Policy::default(),
        );
        assert_eq!(item.phase, ItemPhase::Success);
        let before_schedulable = three_nodes().node(NodeFixture::ready("n4"));
        let item = run(
            "node-schedulable",
            &now,
            Some(&before_schedulable),
            &CheckSpec::default(),
            &Policy::default(),
        );
        assert_eq!(item.phase, ItemPhase::Failed);
        assert!(item.evidence[0].reason.contains("since the baseline"));
    }

    #[test]
    fn kubelets_left_behind_fail_the_exact_policy_and_pass_the_skew_policy() {
        let snapshot = Snapshot::test()
            .version("v1.37.2")
            .node(NodeFixture::ready("n1"))
            .node(NodeFixture::ready("n2").kubelet("v1.36.3"));
        let exact = run("node-version", &snapshot, None, &target("v1.37"), &Policy::default());
        assert_eq!(exact.phase, ItemPhase::Failed);
        assert_eq!(named(&exact), ["n2"]);
        assert!(
            exact.evidence[0].reason.contains("kubelet v1.36.3, expected v1.37"),
            "{}",
            exact.evidence[0].reason
        );
        let skew = Policy { node_version: NodeVersionPolicy::Skew, ..Policy::default() };
        assert_eq!(
            run("node-version", &snapshot, None, &target("v1.37"), &skew).phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn the_skew_policy_refuses_newer_kubelets_and_more_than_three_minors() {
        let snapshot = Snapshot::test()
            .version("v1.37.2")
            .node(NodeFixture::ready("old").kubelet("v1.33.9"))
            .node(NodeFixture::ready("ok").kubelet("v1.34.0"))
            .node(NodeFixture::ready("new").kubelet("v1.38.0"));
        let skew = Policy { node_version: NodeVersionPolicy::Skew, ..Policy::default() };
        let item = run("node-version", &snapshot, None, &CheckSpec::default(), &skew);
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["old", "new"]);
    }

    #[test]
    fn an_empty_kube_proxy_version_is_not_judged_but_an_old_one_is() {
        let snapshot = Snapshot::test()
            .node(NodeFixture::ready("silent").kube_proxy(""))
            .node(NodeFixture::ready("stale").kube_proxy("v1.36.3"));
        let item = run("node-version", &snapshot, None, &target("v1.37.2"), &Policy::default());
        assert_eq!(named(&item), ["stale"]);
        assert!(item.evidence[0].reason.starts_with("kube-proxy v1.36.3"));
    }

    #[test]
    fn without_a_target_kubelets_must_match_the_api_server() {
        let snapshot =
            Snapshot::test().version("v1.37.2").node(NodeFixture::ready("n1").kubelet("v1.37.1"));
        assert_eq!(
            run("node-version", &snapshot, None, &CheckSpec::default(), &Policy::default()).phase,
            ItemPhase::Failed
        );
    }

    #[test]
    fn skipped_label_and_leftover_upgrade_taint_fail_node_skipped() {
        let snapshot = three_nodes()
            .node(NodeFixture::ready("skipped").label("upgrade.cce.io/skipped", "true"))
            .node(NodeFixture::ready("tainted").taint("node.kubernetes.io/upgrade", "NoSchedule"))
            .node(NodeFixture::ready("fine").label("upgrade.cce.io/skipped", "false"));
        let item = run("node-skipped", &snapshot, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["skipped", "tainted"]);
    }
}
