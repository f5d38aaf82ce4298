//! The compact Pod: phase, readiness, owner and each container's state.
//!
//! Pods are most of a large cluster's Snapshot, so every text a pod shares with others
//! (namespace, labels, owner, node, priority class, phase, container names, images and
//! reasons) is an [`Atom`] or a [`Labels`] from the pass's interner; only the name is its own.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Snapshot;
use super::intern::{Atom, Labels};

/// The fields of a Pod that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    /// `metadata.namespace`.
    pub namespace: Atom,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "Labels::is_empty")]
    pub labels: Labels,
    /// The controlling owner (`DaemonSet/kube-proxy`, `ReplicaSet/coredns-5d78c9869d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// `metadata.creationTimestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// `metadata.deletionTimestamp`: when the pod is due to be gone (Terminating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<DateTime<Utc>>,
    /// `spec.nodeName`; absent until scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<Atom>,
    /// `spec.priorityClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class: Option<Atom>,
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: Atom,
    /// Whether the pod's `Ready` condition is `True`.
    #[serde(default)]
    pub ready: bool,
    /// Why the pod is not scheduled (`PodScheduled` False: reason and message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unschedulable: Option<String>,
    /// Each container's state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
}

/// A pod's controlling owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// The owner's kind.
    pub kind: Atom,
    /// The owner's name.
    pub name: Atom,
}

/// The fields of a container (spec and status merged) that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// The container's name.
    pub name: Atom,
    /// The image, as the spec names it.
    #[serde(default)]
    pub image: Atom,
    /// Whether the container is ready.
    #[serde(default)]
    pub ready: bool,
    /// How many times it restarted.
    #[serde(default)]
    pub restart_count: i32,
    /// Why it is waiting (`CrashLoopBackOff`, `ImagePullBackOff`), when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<Atom>,
    /// Why it last terminated (`Error`, `OOMKilled`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_terminated_reason: Option<Atom>,
}

impl Snapshot {
    /// The pods, or none when they were not gathered.
    pub fn pod_list(&self) -> &[Pod] {
        self.pods.ok().map_or(&[], Vec::as_slice)
    }
}
