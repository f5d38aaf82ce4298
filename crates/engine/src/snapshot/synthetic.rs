//! The synthetic pod's run as the Snapshot records it (the action that produces it is
//! [`crate::actions::synthetic`]; this is only its outcome, data like every other source).

use serde::{Deserialize, Serialize};

/// What one run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SyntheticOutcome {
    /// The namespace it worked in.
    pub namespace: String,
    /// How many schedulable nodes were expected to run the pod.
    pub nodes: usize,
    /// The nodes that did not get a Ready pod in time, with why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_nodes: Vec<FailedNode>,
    /// Why the DaemonSet could not be set up (then nothing was judged).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_error: Option<String>,
    /// What could not be cleaned up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_error: Option<String>,
    /// How long the pods took (or the deadline), in milliseconds.
    pub elapsed_ms: u64,
}

/// A node that did not run a Ready synthetic pod.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FailedNode {
    /// The node's name.
    pub node: String,
    /// What its pod was doing (or that it had none).
    pub reason: String,
}
