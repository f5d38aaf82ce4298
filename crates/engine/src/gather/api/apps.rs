//! Views of Deployments, StatefulSets and DaemonSets: their specs and statuses share the
//! fields a check reads, by name.

use serde::Deserialize;

use super::{Condition, Meta, null_default};

/// A Deployment, StatefulSet or DaemonSet: their specs and statuses share the fields a
/// check reads, by name.
#[derive(Debug, Deserialize)]
pub(crate) struct Workload {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: WorkloadSpec,
    /// Status.
    #[serde(default)]
    pub(crate) status: WorkloadStatus,
}

/// A workload's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkloadSpec {
    /// Wanted replicas (Deployment, StatefulSet; default 1).
    #[serde(default)]
    pub(crate) replicas: Option<i32>,
    /// The update strategy (StatefulSet, DaemonSet).
    #[serde(default)]
    pub(crate) update_strategy: Option<UpdateStrategy>,
}

/// An update strategy.
#[derive(Debug, Deserialize)]
pub(crate) struct UpdateStrategy {
    /// `RollingUpdate` or `OnDelete`.
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
}

/// A workload's status: Deployment and StatefulSet fields, then DaemonSet's.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct WorkloadStatus {
    /// Ready replicas.
    #[serde(default)]
    pub(crate) ready_replicas: Option<i32>,
    /// Available replicas.
    #[serde(default)]
    pub(crate) available_replicas: Option<i32>,
    /// Replicas on the current template.
    #[serde(default)]
    pub(crate) updated_replicas: Option<i32>,
    /// Conditions (Deployment).
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) conditions: Vec<Condition>,
    /// DaemonSet: nodes that should run it.
    #[serde(default)]
    pub(crate) desired_number_scheduled: i32,
    /// DaemonSet: nodes where it is ready.
    #[serde(default)]
    pub(crate) number_ready: i32,
    /// DaemonSet: nodes where it is available.
    #[serde(default)]
    pub(crate) number_available: Option<i32>,
    /// DaemonSet: nodes on the current template.
    #[serde(default)]
    pub(crate) updated_number_scheduled: Option<i32>,
}
