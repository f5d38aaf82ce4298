//! `node-inventory`: the nodes after the upgrade against the baseline taken before.
//!
//! CCE asks its users to compare node labels and taints by hand after an upgrade; this
//! check does it: a node gone, a label key lost, a taint that was not there. Taints the
//! node controller derives from conditions (not-ready, unreachable, pressures, cordoning)
//! and CCE's upgrade taint are left to the items that judge those conditions, so one fault
//! fails one item. Cordoning itself is judged against the baseline by `node-schedulable`.

use std::collections::BTreeSet;

use postcheck_model::Evidence;

use super::nodes::UPGRADE_TAINT;
use super::{CheckContext, Finding};
use crate::snapshot::Taint;

/// Taints the node lifecycle controller manages from node conditions and `spec.unschedulable`.
const CONDITION_TAINTS: [&str; 7] = [
    "node.kubernetes.io/not-ready",
    "node.kubernetes.io/unreachable",
    "node.kubernetes.io/unschedulable",
    "node.kubernetes.io/memory-pressure",
    "node.kubernetes.io/disk-pressure",
    "node.kubernetes.io/pid-pressure",
    "node.kubernetes.io/network-unavailable",
];

fn judged_taint(t: &Taint) -> bool {
    !CONDITION_TAINTS.contains(&t.key.as_str()) && t.key != UPGRADE_TAINT
}

/// `node-inventory`: no node gone, no label lost, no new taint, compared with the baseline.
pub(super) fn node_inventory(ctx: &CheckContext) -> Finding {
    let Some(baseline) = ctx.baseline else {
        return Finding::skip("no baseline was given");
    };
    let now = ctx.snapshot;
    let mut evidence = Vec::new();
    let mut compared = 0;
    for before in baseline.node_list().iter().filter(|n| !ctx.policy.excludes_node(n)) {
        let Some(after) = now.find_node(&before.name) else {
            evidence.push(Evidence::cluster(
                "Node",
                &before.name,
                "gone: in the baseline, absent now",
            ));
            continue;
        };
        compared += 1;
        let mut why = Vec::new();
        let lost: Vec<String> = before
            .labels
            .iter()
            .filter(|(k, _)| !after.labels.contains_key(k))
            .map(|(k, v)| format!("{k}={v}"))
            .collect();
        if !lost.is_empty() {
            why.push(format!("label(s) lost: {}", lost.join(", ")));
        }
        let had: BTreeSet<(&str, &str)> =
            before.taints.iter().map(|t| (t.key.as_str(), t.effect.as_str())).collect();
        let new: Vec<String> = after
            .taints
            .iter()
            .filter(|t| judged_taint(t) && !had.contains(&(t.key.as_str(), t.effect.as_str())))
            .map(Taint::to_string)
            .collect();
        if !new.is_empty() {
            why.push(format!("new taint(s): {}", new.join(", ")));
        }
        if !why.is_empty() {
            evidence.push(Evidence::cluster("Node", &after.name, why.join("; ")));
        }
    }
    let added = now.node_list().iter().filter(|n| baseline.find_node(&n.name).is_none()).count();
    let added = if added > 0 { format!(", {added} new node(s)") } else { String::new() };
    Finding::from_evidence(
        evidence,
        format!("{compared} node(s) kept their labels and taints since the baseline{added}"),
        |n| format!("{n} node(s) changed since the baseline{added}"),
    )
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::request::CheckSpec;
    use crate::snapshot::Snapshot;
    use crate::testing::NodeFixture;

    fn before() -> Snapshot {
        Snapshot::test()
            .version("v1.36.3")
            .nodes(["n1", "n2", "n3"].map(|n| NodeFixture::ready(n).kubelet("v1.36.3")))
    }

    fn item(now: &Snapshot) -> postcheck_model::CheckItem {
        run("node-inventory", now, Some(&before()), &CheckSpec::default(), &Policy::default())
    }

    #[test]
    fn an_unchanged_inventory_passes_and_new_nodes_are_only_counted() {
        let now = Snapshot::test().nodes(["n1", "n2", "n3", "n4"].map(NodeFixture::ready));
        let item = item(&now);
        assert_eq!(item.phase, ItemPhase::Success, "{}", item.message);
        assert!(item.message.contains("1 new node"), "{}", item.message);
    }

    #[test]
    fn a_node_gone_a_label_lost_and_a_new_taint_are_each_named() {
        let now = Snapshot::test()
            .node(NodeFixture::ready("n1").without_label("topology.kubernetes.io/zone"))
            .node(NodeFixture::ready("n2").taint("dedicated", "NoSchedule"));
        let item = item(&now);
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["n1", "n2", "n3"]);
        assert!(
            item.evidence[0].reason.contains("label(s) lost: topology.kubernetes.io/zone=zone-a"),
            "{}",
            item.evidence[0].reason
        );
        assert!(
            item.evidence[1].reason.contains("new taint(s): dedicated:NoSchedule"),
            "{}",
            item.evidence[1].reason
        );
        assert!(item.evidence[2].reason.starts_with("gone"));
    }

    #[test]
    fn condition_taints_and_cordoning_are_left_to_their_own_items() {
        let now = Snapshot::test()
            .node(NodeFixture::ready("n1").unreachable())
            .node(NodeFixture::ready("n2").cordoned())
            .node(NodeFixture::ready("n3").taint("node.kubernetes.io/upgrade", "NoSchedule"));
        assert_eq!(item(&now).phase, ItemPhase::Success);
    }
}
