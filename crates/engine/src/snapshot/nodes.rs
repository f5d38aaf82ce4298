//! The compact Node: labels, taints, conditions and versions, and the status conditions that
//! nodes and pods share.

use serde::{Deserialize, Serialize};

use super::Snapshot;
use super::intern::Labels;

/// The fields of a Node that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// `metadata.uid`: how CCE names a node (`nodeInfo.uid`, `nodeRisks[].NodeID`,
    /// `skippedCheckItemList`'s `node.uid` selector). Empty in baselines written before it
    /// was kept.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub uid: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// `spec.taints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    #[serde(default)]
    pub unschedulable: bool,
    /// `status.conditions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// `status.nodeInfo.kubeletVersion`.
    #[serde(default)]
    pub kubelet_version: String,
    /// `status.nodeInfo.kubeProxyVersion` (deprecated; often empty, then not judged).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_proxy_version: String,
}

impl Node {
    /// The condition of type `kind` (`Ready`, `MemoryPressure`...).
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// Whether the node runs the control plane (`node-role.kubernetes.io/control-plane` or
    /// the older `master` role label): CCE's `nodeType` `master`.
    pub fn is_control_plane(&self) -> bool {
        self.labels.contains_key("node-role.kubernetes.io/control-plane")
            || self.labels.contains_key("node-role.kubernetes.io/master")
    }

    /// Whether the node's `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition("Ready").is_some_and(|c| c.status == "True")
    }
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    /// The key.
    pub key: String,
    /// The value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

impl std::fmt::Display for Taint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={}:{}", self.key, v, self.effect),
            None => write!(f, "{}:{}", self.key, self.effect),
        }
    }
}

/// A status condition (of a node or a pod).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The condition's type (`Ready`, `DiskPressure`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// The machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The human message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Condition {
    /// `Ready is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} is {}", self.kind, self.status);
        match (&self.reason, &self.message) {
            (Some(r), Some(m)) if !m.is_empty() => s.push_str(&format!(" ({r}: {m})")),
            (Some(r), _) => s.push_str(&format!(" ({r})")),
            (None, Some(m)) if !m.is_empty() => s.push_str(&format!(" ({m})")),
            _ => {}
        }
        s
    }
}

impl Snapshot {
    /// The nodes, or none when they were not gathered.
    pub fn node_list(&self) -> &[Node] {
        self.nodes.ok().map_or(&[], Vec::as_slice)
    }

    /// A node by name.
    pub fn find_node(&self, name: &str) -> Option<&Node> {
        self.node_list().iter().find(|n| n.name == name)
    }
}
