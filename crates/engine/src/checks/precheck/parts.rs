//! The pre-check's items into CCE's `PrecheckStatus`: cluster items to
//! `clusterCheckStatus`, add-on items to `addonCheckStatus`, node items node by node to
//! `nodeCheckStatus.nodeStageStatus`; `skippedCheckItemList` honoured (an entry without a
//! selector skips the whole item, one with a `node.uid` selector skips it for exactly those
//! nodes); `riskSource` filled; each part's phase and the whole one (`Failed` when a Fatal
//! item failed, else `Success`).

use std::collections::BTreeSet;

use postcheck_model::{
    CheckItem, DeprecatedApiRisk, ItemPhase, ItemsCheckStatus, NodeCheckStatus, NodeInfo, NodeRisk,
    NodeStageStatus, PreCheckItemStatus, PrecheckPhase, PrecheckStatus, RiskSource,
    SkippedCheckItem,
};

use super::{Part, PrecheckDef, Risks, precheck_catalogue};
use crate::checks::{CheckContext, Finding};
use crate::snapshot::Node;

/// Runs one entry: `Error` when a source it needs could not be read, `Skipped` when one was
/// not gathered (the serving certificate without an address) or the policy deselects it.
pub(super) fn run_one(def: &PrecheckDef, ctx: &CheckContext) -> Finding {
    if !ctx.policy.selects(def.name) {
        return Finding::skip("not selected by the policy");
    }
    for source in def.needs {
        if let Err(why) = ctx.snapshot.availability(*source) {
            // `availability` says "... were not gathered" for a source not asked for.
            return if why.ends_with("were not gathered") {
                Finding::skip(why)
            } else {
                Finding::error(format!("could not run: {why}"))
            };
        }
    }
    (def.run)(ctx)
}

/// What the request skips.
struct Skips<'a>(&'a [SkippedCheckItem]);

impl Skips<'_> {
    /// Whether `item` is skipped as a whole.
    fn whole(&self, item: &str) -> bool {
        self.0.iter().any(|s| s.name == item && s.resource_selector.is_none())
    }

    /// Whether `item` is skipped for the node with `uid`.
    fn for_node(&self, item: &str, uid: &str) -> bool {
        self.whole(item)
            || self.0.iter().any(|s| {
                s.name == item
                    && s.resource_selector
                        .as_ref()
                        .is_some_and(|r| r.values.iter().any(|v| v == uid))
            })
    }
}

fn skipped_item(def: &PrecheckDef, what: &str) -> CheckItem {
    def.item(Finding::skip(format!("skipped as requested ({what} in skippedCheckItemList)")))
}

fn status(item: CheckItem, risk_source: RiskSource) -> PreCheckItemStatus {
    PreCheckItemStatus {
        item,
        risk_source: (!risk_source.is_empty()).then_some(risk_source),
        error_codes: Vec::new(),
    }
}

fn part_phase<'a>(items: impl IntoIterator<Item = &'a PreCheckItemStatus>) -> PrecheckPhase {
    if items.into_iter().any(|i| i.item.is_fatal_failure()) {
        PrecheckPhase::Failed
    } else {
        PrecheckPhase::Success
    }
}

/// Judges `ctx.snapshot` with the pre-check catalogue into CCE's status (not stamped, no
/// expiry: the caller sets those). `skipped` must have passed `validate_skipped`.
pub(crate) fn precheck_status(ctx: &CheckContext, skipped: &[SkippedCheckItem]) -> PrecheckStatus {
    let skips = Skips(skipped);
    let mut cluster = Vec::new();
    let mut addon = Vec::new();
    let nodes: Vec<&Node> =
        ctx.snapshot.node_list().iter().filter(|n| !ctx.policy.excludes_node(n)).collect();
    let mut per_node: Vec<Vec<PreCheckItemStatus>> = vec![Vec::new(); nodes.len()];
    for def in precheck_catalogue() {
        if def.part != Part::Node {
            let item = if skips.whole(def.name) {
                skipped_item(def, def.name)
            } else {
                def.item(run_one(def, ctx))
            };
            let risks = risk_source(def, &item, &nodes);
            let entry = status(item, risks);
            if def.part == Part::Cluster {
                cluster.push(entry)
            } else {
                addon.push(entry)
            }
            continue;
        }
        let whole = def.item(run_one(def, ctx));
        for (i, node) in nodes.iter().enumerate() {
            let item = if skips.for_node(def.name, &node.uid) {
                skipped_item(def, &format!("{} for node {}", def.name, node.name))
            } else {
                for_node(&whole, node)
            };
            let risks = risk_source(def, &item, &nodes);
            per_node[i].push(status(item, risks));
        }
    }
    let node_stage_status: Vec<NodeStageStatus> = nodes
        .iter()
        .zip(per_node)
        .map(|(node, items_status)| NodeStageStatus { node_info: node_info(node), items_status })
        .collect();
    let cluster = ItemsCheckStatus { phase: part_phase(&cluster), items_status: cluster };
    let addon = ItemsCheckStatus { phase: part_phase(&addon), items_status: addon };
    let node_phase = part_phase(node_stage_status.iter().flat_map(|n| &n.items_status));
    let node = NodeCheckStatus { phase: node_phase, node_stage_status };
    let failed = [cluster.phase, addon.phase, node.phase].contains(&PrecheckPhase::Failed);
    let phase = if failed { PrecheckPhase::Failed } else { PrecheckPhase::Success };
    let mut status = PrecheckStatus::bare(phase, String::new());
    status.cluster_check_status = Some(cluster);
    status.addon_check_status = Some(addon);
    status.node_check_status = Some(node);
    status.message = Some(summary(&status, ctx));
    status
}

/// The item as it concerns one node: its evidence about that node, Failed when there is
/// any; the item's phase when it could not run or was skipped.
fn for_node(whole: &CheckItem, node: &Node) -> CheckItem {
    if !matches!(whole.phase, ItemPhase::Failed | ItemPhase::Success) {
        return whole.clone();
    }
    let evidence: Vec<_> = whole
        .evidence
        .iter()
        .filter(|e| e.kind == "Node" && e.name == node.name)
        .cloned()
        .collect();
    if evidence.is_empty() {
        let message =
            if whole.phase == ItemPhase::Success { whole.message.clone() } else { "ok".to_owned() };
        return CheckItem { phase: ItemPhase::Success, message, evidence, ..whole.clone() };
    }
    let message = evidence.iter().map(|e| e.reason.as_str()).collect::<Vec<_>>().join("; ");
    CheckItem { phase: ItemPhase::Failed, message, evidence, ..whole.clone() }
}

fn node_info(node: &Node) -> NodeInfo {
    NodeInfo {
        uid: node.uid.clone(),
        name: node.name.clone(),
        status: Some(if node.is_ready() { "Active" } else { "Abnormal" }.to_owned()),
        node_type: Some(if node.is_control_plane() { "master" } else { "node" }.to_owned()),
    }
}

/// CCE's `riskSource` of a failed item, from its evidence.
fn risk_source(def: &PrecheckDef, item: &CheckItem, nodes: &[&Node]) -> RiskSource {
    let mut risks = RiskSource::default();
    if item.phase != ItemPhase::Failed {
        return risks;
    }
    match def.risks {
        Risks::None => {}
        Risks::Nodes => {
            let mut seen = BTreeSet::new();
            for e in item.evidence.iter().filter(|e| e.kind == "Node") {
                if let Some(n) = nodes.iter().find(|n| n.name == e.name)
                    && seen.insert(n.uid.clone())
                {
                    risks.node_risks.push(NodeRisk { node_id: n.uid.clone() });
                }
            }
        }
        Risks::DeprecatedApis => {
            risks.deprecated_api_risks = item
                .evidence
                .iter()
                .map(|e| DeprecatedApiRisk { url: e.name.clone(), user_agent: String::new() })
                .collect();
        }
    }
    risks
}

fn summary(status: &PrecheckStatus, ctx: &CheckContext) -> String {
    let items: Vec<&PreCheckItemStatus> = status.items().collect();
    let names = |f: &dyn Fn(&CheckItem) -> bool| {
        let mut out: Vec<&str> =
            items.iter().map(|i| &i.item).filter(|i| f(i)).map(|i| i.name.as_str()).collect();
        out.dedup();
        out
    };
    let step = match (&ctx.snapshot.server_version.ok(), &ctx.spec.target) {
        (Some(now), Some(target)) => format!(" ({now} -> {target})"),
        _ => String::new(),
    };
    let mut text = match status.phase {
        PrecheckPhase::Failed => {
            let blocking = names(&|i| i.is_fatal_failure());
            format!("{} blocking item(s) failed{step}: {}", blocking.len(), blocking.join(", "))
        }
        _ => format!("ready to upgrade{step}: nothing blocks it"),
    };
    let risks = names(&|i| i.phase == ItemPhase::Failed && !i.is_fatal_failure());
    if !risks.is_empty() {
        text.push_str(&format!("; risks: {}", risks.join(", ")));
    }
    let not_run = names(&|i| i.phase == ItemPhase::Error);
    if !not_run.is_empty() {
        text.push_str(&format!("; could not run: {}", not_run.join(", ")));
    }
    text
}

#[cfg(test)]
mod tests {
    use postcheck_model::{Level, ResourceSelector};

    use super::*;
    use crate::checks::testing::target;
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;
    use crate::testing::NodeFixture;

    fn judge(snapshot: &Snapshot, skipped: &[SkippedCheckItem]) -> PrecheckStatus {
        let spec = target("v1.37");
        let policy = Policy::default();
        precheck_status(
            &CheckContext { snapshot, baseline: None, spec: &spec, policy: &policy },
            skipped,
        )
    }

    fn at_36() -> Snapshot {
        Snapshot::test()
            .version("v1.36.3")
            .nodes(["n1", "n2"].map(|n| NodeFixture::ready(n).kubelet("v1.36.3")))
    }

    #[test]
    fn a_clean_cluster_passes_with_every_node_listed() {
        let status = judge(&at_36(), &[]);
        assert_eq!(status.phase, PrecheckPhase::Success, "{status:#?}");
        let nodes = status.node_check_status.as_ref().unwrap();
        assert_eq!(nodes.node_stage_status.len(), 2);
        assert_eq!(nodes.node_stage_status[0].node_info.uid, "uid-n1");
        assert_eq!(nodes.node_stage_status[0].node_info.status.as_deref(), Some("Active"));
        let per_node = precheck_catalogue().iter().filter(|d| d.part == Part::Node).count();
        assert_eq!(nodes.node_stage_status[0].items_status.len(), per_node);
        assert!(status.message.unwrap().starts_with("ready to upgrade (v1.36.3 -> v1.37)"));
    }

    #[test]
    fn a_node_outside_the_skew_fails_its_own_entry_and_is_named_in_node_risks() {
        let s = at_36().node(NodeFixture::ready("old").kubelet("v1.33.2").uid("u-old"));
        let status = judge(&s, &[]);
        assert_eq!(status.phase, PrecheckPhase::Failed);
        let nodes = status.node_check_status.unwrap();
        let entry =
            |name: &str| nodes.node_stage_status.iter().find(|n| n.node_info.name == name).unwrap();
        let skew = |name: &str| {
            entry(name)
                .items_status
                .iter()
                .find(|i| i.item.name == "node-skew-at-target")
                .unwrap()
                .clone()
        };
        assert_eq!(skew("old").item.phase, ItemPhase::Failed);
        assert_eq!(
            skew("old").risk_source.unwrap().node_risks,
            [NodeRisk { node_id: "u-old".into() }]
        );
        assert_eq!(skew("n1").item.phase, ItemPhase::Success);
        assert_eq!(nodes.phase, PrecheckPhase::Failed);
        assert_eq!(status.cluster_check_status.unwrap().phase, PrecheckPhase::Success);
    }

    #[test]
    fn skipping_an_item_for_one_node_skips_exactly_that_node() {
        let s = at_36()
            .node(NodeFixture::ready("old").kubelet("v1.33.2").uid("u-old"))
            .node(NodeFixture::ready("old2").kubelet("v1.33.2").uid("u-old2"));
        let skip = SkippedCheckItem {
            name: "node-skew-at-target".into(),
            resource_selector: Some(ResourceSelector {
                key: "node.uid".into(),
                values: vec!["u-old".into()],
                operator: Some("In".into()),
            }),
        };
        let status = judge(&s, std::slice::from_ref(&skip));
        let phase_of = |status: &PrecheckStatus, node: &str, item: &str| {
            status
                .node_check_status
                .as_ref()
                .unwrap()
                .node_stage_status
                .iter()
                .find(|n| n.node_info.name == node)
                .unwrap()
                .items_status
                .iter()
                .find(|i| i.item.name == item)
                .unwrap()
                .item
                .phase
        };
        assert_eq!(phase_of(&status, "old", "node-skew-at-target"), ItemPhase::Skipped);
        assert_eq!(
            phase_of(&status, "old", "node-ready"),
            ItemPhase::Success,
            "other items still run"
        );
        assert_eq!(phase_of(&status, "old2", "node-skew-at-target"), ItemPhase::Failed);
        assert_eq!(status.phase, PrecheckPhase::Failed);
        let both = SkippedCheckItem { name: "node-skew-at-target".into(), resource_selector: None };
        let status = judge(&s, &[both]);
        assert_eq!(phase_of(&status, "old2", "node-skew-at-target"), ItemPhase::Skipped);
        assert_eq!(status.phase, PrecheckPhase::Success);
    }

    #[test]
    fn unhealthy_workloads_are_risks_never_blocking() {
        use crate::testing::WorkloadFixture;
        let s = at_36().workload(
            WorkloadFixture::complete("Deployment", "shop", "web", 3).available(1).ready(1),
        );
        let status = judge(&s, &[]);
        let item = status.items().find(|i| i.item.name == "workloads").unwrap();
        assert_eq!((item.item.phase, item.item.level), (ItemPhase::Failed, Level::Warning));
        assert_eq!(status.phase, PrecheckPhase::Success);
        assert!(status.message.unwrap().contains("risks: workloads"));
    }
}
