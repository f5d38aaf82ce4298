//! One check item of a post-upgrade report.
//!
//! CCE reports each pre-check item as `{name, kind, group, level, phase, message}`
//! (`PreCheckItemStatus`); post-check items use the same fields so that consoles and SDKs
//! read them alike, and add `evidence`: the objects involved and why each one counts.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// CCE's item kind: must it be fixed, or may it be accepted?
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ItemKind {
    /// Must be fixed.
    Exception,
    /// May be accepted.
    Risk,
}

/// CCE's item group.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ItemGroup {
    /// Quotas and limits; here also workloads, services and storage.
    LimitCheck,
    /// The control plane.
    MasterCheck,
    /// Nodes.
    NodeCheck,
    /// Add-ons and API extensions.
    AddonCheck,
    /// The check itself could not run.
    ExecuteException,
}

/// How much a failed item matters. Only a failed `Fatal` item fails the task.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
pub enum Level {
    /// For information.
    Info,
    /// Worth a look; does not fail the task.
    Warning,
    /// Fails the task.
    Fatal,
}

/// An item's outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub enum ItemPhase {
    /// The item ran and found nothing wrong.
    Success,
    /// The item ran and found something wrong (see `level` for how much it matters).
    Failed,
    /// The item could not run (for example the list it needs was forbidden).
    Error,
    /// The item does not apply here (for example no baseline was given).
    Skipped,
}

/// Whether the upgrade is to blame for a finding: how it compares with the baseline (the
/// cluster before the upgrade). Absent when there was no baseline to compare with.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub enum Blame {
    /// Not there before the upgrade: the upgrade may be to blame. Only new findings can
    /// make an item Fatal.
    New,
    /// Already there before the upgrade: not the upgrade's doing (at most a Warning).
    PreExisting,
}

/// One object an item names, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// The object's kind, as Kubernetes spells it (`Node`, `Pod`, `Deployment`).
    pub kind: String,
    /// The object's namespace, for namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// The object's name.
    pub name: String,
    /// Why this object is named.
    pub reason: String,
    /// Against the baseline: new since it, or there before it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blame: Option<Blame>,
}

impl Evidence {
    /// Evidence about a cluster-scoped object.
    pub fn cluster(kind: &str, name: impl Into<String>, reason: impl Into<String>) -> Self {
        Self {
            kind: kind.to_owned(),
            namespace: None,
            name: name.into(),
            reason: reason.into(),
            blame: None,
        }
    }

    /// Evidence about a namespaced object.
    pub fn namespaced(
        kind: &str,
        namespace: impl Into<String>,
        name: impl Into<String>,
        reason: impl Into<String>,
    ) -> Self {
        Self {
            kind: kind.to_owned(),
            namespace: Some(namespace.into()),
            name: name.into(),
            reason: reason.into(),
            blame: None,
        }
    }
}

/// One item of a report: CCE's item fields plus evidence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CheckItem {
    /// The item's stable kebab-case name (`node-ready`).
    pub name: String,
    /// Must be fixed, or may be accepted.
    pub kind: ItemKind,
    /// CCE's group.
    pub group: ItemGroup,
    /// How much a failure matters.
    pub level: Level,
    /// The outcome.
    pub phase: ItemPhase,
    /// What was found, for a person.
    pub message: String,
    /// The objects involved, each with its reason. Empty on success.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence: Vec<Evidence>,
}

impl CheckItem {
    /// Whether this item fails the task: it failed and it is Fatal.
    pub fn is_fatal_failure(&self) -> bool {
        self.phase == ItemPhase::Failed && self.level == Level::Fatal
    }
}
