//! CCE's `PreCheckTask` documents: the pre-upgrade check's request, task and list page.
//!
//! Field for field what the official SDKs' models parse (`huaweicloudsdkcce` 3.1.219,
//! `v3/model/precheck_*.py`; `shared/cce-reference.md` §5). Where CCE has no field for
//! something people and pipelines read, an item carries postcheck's `evidence` (flattened
//! from [`CheckItem`]) and the status adds timings, which the SDKs ignore.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::item::{CheckItem, ItemPhase};
use crate::task::{API_VERSION, ListMetadata, TaskMetadata};

/// The kind of a pre-check task document.
pub const PRECHECK_KIND: &str = "PreCheckTask";

/// The body of `POST .../operation/precheck` (`PrecheckClusterRequestBody`), as sent.
/// Validation into a typed request happens in the service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreCheckRequest {
    /// API version; must be `v3`.
    pub api_version: Option<String>,
    /// Resource type; must be `PreCheckTask`.
    pub kind: Option<String>,
    /// What the upgrade will be.
    pub spec: Option<PrecheckSpec>,
}

/// CCE's `PrecheckSpec`: which cluster, from which version, to which, and what to skip.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PrecheckSpec {
    /// Cluster ID; when given it must equal the path's.
    #[serde(rename = "clusterID", default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// The cluster's version now.
    #[serde(rename = "clusterVersion", default, skip_serializing_if = "Option::is_none")]
    pub cluster_version: Option<String>,
    /// The version the upgrade will go to.
    #[serde(rename = "targetVersion", default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// Items to skip, each for every node or for the nodes its selector picks.
    #[serde(rename = "skippedCheckItemList", default, skip_serializing_if = "Vec::is_empty")]
    pub skipped_check_item_list: Vec<SkippedCheckItem>,
}

/// One entry of `skippedCheckItemList`: an item name and, optionally, the nodes it is
/// skipped for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct SkippedCheckItem {
    /// The item's name.
    pub name: String,
    /// Which nodes (CCE: `key: node.uid`, `operator: In`); absent means the whole item.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_selector: Option<ResourceSelector>,
}

/// CCE's `ResourceSelector`: `key` (`node.uid`), `values`, `operator` (`In`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResourceSelector {
    /// The selected attribute; CCE uses `node.uid`.
    pub key: String,
    /// The values selected.
    #[serde(default)]
    pub values: Vec<String>,
    /// The operator; CCE defines only `In`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operator: Option<String>,
}

/// A pre-check's phase, and that of each of its three parts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum PrecheckPhase {
    /// Accepted, not started.
    Init,
    /// Going on.
    Running,
    /// Nothing blocks the upgrade (risks allowed).
    Success,
    /// Something blocks the upgrade: a Fatal item failed.
    Failed,
    /// The cluster could not be examined.
    Error,
}

impl PrecheckPhase {
    /// The phase as CCE spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Init => "Init",
            Self::Running => "Running",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::Error => "Error",
        }
    }

    /// Reads a phase as CCE spells it.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Init, Self::Running, Self::Success, Self::Failed, Self::Error]
            .into_iter()
            .find(|p| p.as_str() == s)
    }

    /// Whether the task has ended.
    pub fn is_final(self) -> bool {
        !matches!(self, Self::Init | Self::Running)
    }
}

/// CCE's `PrecheckStatus`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PrecheckStatus {
    /// `Init`, `Running`, `Success`, `Failed` or `Error`.
    pub phase: PrecheckPhase,
    /// When the result goes stale: an upgrade should not rely on an older pre-check.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expire_time_stamp: Option<DateTime<Utc>>,
    /// A one-line summary for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Cluster-wide items (the control plane, APIs, workloads).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster_check_status: Option<ItemsCheckStatus>,
    /// Add-on items (system components, extensions).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub addon_check_status: Option<ItemsCheckStatus>,
    /// Items per node.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_check_status: Option<NodeCheckStatus>,
    /// When the check started (postcheck's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the check ended (postcheck's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// How long the check took, in milliseconds (postcheck's extension).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
}

impl PrecheckStatus {
    /// A status with only a phase and a message (accepted, running, or could not run).
    pub fn bare(phase: PrecheckPhase, message: impl Into<String>) -> Self {
        Self {
            phase,
            expire_time_stamp: None,
            message: Some(message.into()),
            cluster_check_status: None,
            addon_check_status: None,
            node_check_status: None,
            started_at: None,
            finished_at: None,
            duration_ms: None,
        }
    }

    /// Every item of the three parts, cluster first, then add-ons, then node by node.
    pub fn items(&self) -> impl Iterator<Item = &PreCheckItemStatus> {
        let cluster = self.cluster_check_status.iter().flat_map(|s| &s.items_status);
        let addon = self.addon_check_status.iter().flat_map(|s| &s.items_status);
        let nodes = self
            .node_check_status
            .iter()
            .flat_map(|s| &s.node_stage_status)
            .flat_map(|n| &n.items_status);
        cluster.chain(addon).chain(nodes)
    }

    /// One item per name, for a flat report (a table, JUnit): the cluster and add-on items
    /// as they are, each node item merged over the nodes (Failed when it failed on any
    /// node, with every node's evidence; else Error when it could not run on one; else
    /// Success when it passed on one; else Skipped).
    pub fn merged_items(&self) -> Vec<CheckItem> {
        let mut out: Vec<CheckItem> = Vec::new();
        let mut node_items: Vec<CheckItem> = Vec::new();
        let mut failed_on: Vec<usize> = Vec::new();
        for part in [&self.cluster_check_status, &self.addon_check_status].into_iter().flatten() {
            out.extend(part.items_status.iter().map(|i| i.item.clone()));
        }
        let stages = self.node_check_status.iter().flat_map(|s| &s.node_stage_status);
        for stage in stages {
            for status in &stage.items_status {
                let item = &status.item;
                let at = match node_items.iter().position(|m| m.name == item.name) {
                    Some(at) => at,
                    None => {
                        node_items.push(CheckItem { evidence: Vec::new(), ..item.clone() });
                        failed_on.push(0);
                        node_items.len() - 1
                    }
                };
                let merged = &mut node_items[at];
                let rank = |p: ItemPhase| match p {
                    ItemPhase::Failed => 3,
                    ItemPhase::Error => 2,
                    ItemPhase::Success => 1,
                    ItemPhase::Skipped => 0,
                };
                if item.phase == ItemPhase::Failed {
                    failed_on[at] += 1;
                }
                if rank(item.phase) > rank(merged.phase) {
                    merged.phase = item.phase;
                    merged.message = item.message.clone();
                }
                merged.level = merged.level.max(item.level);
                merged.evidence.extend(item.evidence.iter().cloned());
            }
        }
        for (item, failed) in node_items.iter_mut().zip(failed_on) {
            if item.phase == ItemPhase::Failed {
                item.message = format!("failed on {failed} node(s)");
            }
        }
        out.extend(node_items);
        out
    }
}

/// CCE's `ClusterCheckStatus` and `AddonCheckStatus`: a part's phase and its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ItemsCheckStatus {
    /// The part's phase.
    pub phase: PrecheckPhase,
    /// The part's items.
    #[serde(default)]
    pub items_status: Vec<PreCheckItemStatus>,
}

/// CCE's `NodeCheckStatus`: the nodes' phase and each node's items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeCheckStatus {
    /// The nodes' phase.
    pub phase: PrecheckPhase,
    /// One entry per node that has items.
    #[serde(default)]
    pub node_stage_status: Vec<NodeStageStatus>,
}

/// CCE's `NodeStageStatus`: one node and its items.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeStageStatus {
    /// Which node.
    pub node_info: NodeInfo,
    /// The node's items.
    #[serde(default)]
    pub items_status: Vec<PreCheckItemStatus>,
}

/// CCE's `NodeInfo`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// The node's UID (`metadata.uid`), what `skippedCheckItemList` selects on.
    pub uid: String,
    /// The node's name.
    pub name: String,
    /// CCE's node status (`Active`, `Abnormal`...): here `Active` for a Ready node,
    /// `Abnormal` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// `master` or `node`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_type: Option<String>,
}

/// CCE's `PreCheckItemStatus`: the item fields a post-check item has (and its evidence,
/// postcheck's extension), plus where the risk comes from and CCE's error codes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreCheckItemStatus {
    /// `name`, `kind`, `group`, `level`, `phase`, `message`, `evidence`.
    #[serde(flatten)]
    pub item: CheckItem,
    /// Where the risk comes from, as CCE fills it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub risk_source: Option<RiskSource>,
    /// CCE's error codes for the item; empty when it passed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub error_codes: Vec<String>,
}

/// CCE's `RiskSource`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct RiskSource {
    /// Configuration that the upgrade would change (node-level; postcheck reads none).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub configuration_risks: Vec<ConfigurationRisk>,
    /// Clients calling deprecated or removed APIs.
    #[serde(rename = "deprecatedAPIRisks", default, skip_serializing_if = "Vec::is_empty")]
    pub deprecated_api_risks: Vec<DeprecatedApiRisk>,
    /// Nodes at risk.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub node_risks: Vec<NodeRisk>,
    /// Add-ons at risk.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub addon_risks: Vec<AddonRisk>,
}

impl RiskSource {
    /// Whether nothing is named.
    pub fn is_empty(&self) -> bool {
        self.configuration_risks.is_empty()
            && self.deprecated_api_risks.is_empty()
            && self.node_risks.is_empty()
            && self.addon_risks.is_empty()
    }
}

/// CCE's `ConfigurationRisks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ConfigurationRisk {
    /// The package the configuration belongs to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub package: Option<String>,
    /// The file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_file: Option<String>,
    /// Which node, for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_msg: Option<String>,
    /// The field.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// What the upgrade would do to it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub operation: Option<String>,
    /// Its value now.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub original_value: Option<String>,
    /// Its value after.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
}

/// CCE's `DeprecatedAPIRisks`: a deprecated or removed API still called, and by whom.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct DeprecatedApiRisk {
    /// The API's path (`/apis/GROUP/VERSION/RESOURCE`).
    pub url: String,
    /// The caller's user agent, when known (from the audit annotation); empty when only
    /// the API server's metric says the API is called.
    #[serde(default)]
    pub user_agent: String,
}

/// CCE's `NodeRisks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct NodeRisk {
    /// The node's UID.
    #[serde(rename = "NodeID")]
    pub node_id: String,
}

/// CCE's `AddonRisks`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct AddonRisk {
    /// The add-on's template name (here the component: `coredns`, `kube-proxy`...).
    pub addon_template_name: String,
    /// Its alias, when it has one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alias: Option<String>,
}

/// A pre-check task: the answer of `POST .../operation/precheck` and of
/// `GET .../operation/precheck/tasks/{task_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreCheckTask {
    /// Always `PreCheckTask`.
    pub kind: String,
    /// Always `v3`.
    pub api_version: String,
    /// Task ID and timestamps.
    pub metadata: TaskMetadata,
    /// The spec as requested.
    pub spec: PrecheckSpec,
    /// The outcome.
    pub status: PrecheckStatus,
}

impl PreCheckTask {
    /// A task document with CCE's kind and apiVersion.
    pub fn new(metadata: TaskMetadata, spec: PrecheckSpec, status: PrecheckStatus) -> Self {
        Self {
            kind: PRECHECK_KIND.to_owned(),
            api_version: API_VERSION.to_owned(),
            metadata,
            spec,
            status,
        }
    }
}

/// A page of pre-check tasks, in CCE's list shape `{apiVersion, kind, metadata, items}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PreCheckTaskList {
    /// Always `v3`.
    pub api_version: String,
    /// Always `List`.
    pub kind: String,
    /// Pagination, as for post-check tasks.
    pub metadata: ListMetadata,
    /// The tasks, newest first.
    pub items: Vec<PreCheckTask>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::item::{Evidence, ItemGroup, ItemKind, Level};
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn a_request_as_the_sdk_sends_it_parses() {
        let body = json!({
            "apiVersion": "v3",
            "kind": "PreCheckTask",
            "spec": {
                "clusterID": "c1",
                "clusterVersion": "v1.36",
                "targetVersion": "v1.37",
                "skippedCheckItemList": [
                    {"name": "node-ready", "resourceSelector":
                        {"key": "node.uid", "values": ["u1"], "operator": "In"}}
                ]
            }
        });
        let request: PreCheckRequest = serde_json::from_value(body).unwrap();
        let spec = request.spec.unwrap();
        assert_eq!(spec.target_version.as_deref(), Some("v1.37"));
        let skipped = &spec.skipped_check_item_list[0];
        assert_eq!(skipped.name, "node-ready");
        assert_eq!(skipped.resource_selector.as_ref().unwrap().values, ["u1"]);
    }

    #[test]
    fn an_item_serializes_with_cce_names_and_the_evidence_beside_them() {
        let item = PreCheckItemStatus {
            item: CheckItem {
                name: "deprecated-api-clients".into(),
                kind: ItemKind::Risk,
                group: ItemGroup::MasterCheck,
                level: Level::Warning,
                phase: ItemPhase::Failed,
                message: "1 API still called".into(),
                evidence: vec![],
            },
            risk_source: Some(RiskSource {
                deprecated_api_risks: vec![DeprecatedApiRisk {
                    url: "/apis/faults.postcheck.dev/v1beta1/widgets".into(),
                    user_agent: String::new(),
                }],
                node_risks: vec![NodeRisk { node_id: "u1".into() }],
                ..RiskSource::default()
            }),
            error_codes: vec![],
        };
        assert_eq!(
            serde_json::to_value(&item).unwrap(),
            json!({
                "name": "deprecated-api-clients", "kind": "Risk", "group": "MasterCheck",
                "level": "Warning", "phase": "Failed", "message": "1 API still called",
                "riskSource": {
                    "deprecatedAPIRisks": [
                        {"url": "/apis/faults.postcheck.dev/v1beta1/widgets", "userAgent": ""}
                    ],
                    "nodeRisks": [{"NodeID": "u1"}]
                }
            })
        );
    }

    fn node_item(phase: ItemPhase, node: &str) -> PreCheckItemStatus {
        PreCheckItemStatus {
            item: CheckItem {
                name: "node-ready".into(),
                kind: ItemKind::Exception,
                group: ItemGroup::NodeCheck,
                level: Level::Fatal,
                phase,
                message: "m".into(),
                evidence: if phase == ItemPhase::Failed {
                    vec![Evidence::cluster("Node", node, "Ready is False")]
                } else {
                    vec![]
                },
            },
            risk_source: None,
            error_codes: vec![],
        }
    }

    #[test]
    fn node_items_merge_into_one_per_name_failed_when_any_node_failed() {
        let stage = |name: &str, phase| NodeStageStatus {
            node_info: NodeInfo {
                uid: format!("u-{name}"),
                name: name.into(),
                ..NodeInfo::default()
            },
            items_status: vec![node_item(phase, name)],
        };
        let mut status = PrecheckStatus::bare(PrecheckPhase::Failed, "x");
        status.node_check_status = Some(NodeCheckStatus {
            phase: PrecheckPhase::Failed,
            node_stage_status: vec![
                stage("a", ItemPhase::Success),
                stage("b", ItemPhase::Failed),
                stage("c", ItemPhase::Skipped),
            ],
        });
        let merged = status.merged_items();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].phase, ItemPhase::Failed);
        assert_eq!(merged[0].message, "failed on 1 node(s)");
        assert_eq!(merged[0].evidence[0].name, "b");
        assert_eq!(status.items().count(), 3);
    }

    #[test]
    fn phases_round_trip_as_cce_spells_them() {
        for p in ["Init", "Running", "Success", "Failed", "Error"] {
            assert_eq!(PrecheckPhase::parse(p).unwrap().as_str(), p);
        }
        assert!(!PrecheckPhase::Init.is_final());
        assert!(PrecheckPhase::Error.is_final());
    }
}
