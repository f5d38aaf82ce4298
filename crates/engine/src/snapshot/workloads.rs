//! The compact workload: a Deployment, StatefulSet or DaemonSet's desired replicas against
//! its ready, available and updated ones.

use serde::{Deserialize, Serialize};

use super::Snapshot;

/// A Deployment, StatefulSet or DaemonSet: desired against ready, available and updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// `Deployment`, `StatefulSet` or `DaemonSet`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// Replicas wanted (`spec.replicas`; a DaemonSet's `desiredNumberScheduled`).
    pub desired: i32,
    /// Ready replicas.
    #[serde(default)]
    pub ready: i32,
    /// Available replicas.
    #[serde(default)]
    pub available: i32,
    /// Replicas on the current template; `None` when the update strategy is `OnDelete`
    /// (then old replicas are expected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<i32>,
    /// The `Progressing` condition's message when its reason is `ProgressDeadlineExceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck: Option<String>,
}

impl Workload {
    /// Whether every wanted replica is ready, available and updated.
    pub fn is_complete(&self) -> bool {
        self.shortfall().is_none() && self.stuck.is_none()
    }

    /// What is short (`1/3 available, 2/3 ready`), or `None` when nothing is.
    pub fn shortfall(&self) -> Option<String> {
        let d = self.desired;
        let mut parts = Vec::new();
        if self.available < d {
            parts.push(format!("{}/{d} available", self.available));
        }
        if self.ready < d {
            parts.push(format!("{}/{d} ready", self.ready));
        }
        if let Some(u) = self.updated.filter(|u| *u < d) {
            parts.push(format!("{u}/{d} updated"));
        }
        if parts.is_empty() { None } else { Some(parts.join(", ")) }
    }
}

impl Snapshot {
    /// The workloads, or none when they were not gathered.
    pub fn workload_list(&self) -> &[Workload] {
        self.workloads.ok().map_or(&[], Vec::as_slice)
    }
}
