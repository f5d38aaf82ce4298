//! [`NodeFixture`]: a node under construction.

use std::collections::BTreeMap;

use crate::snapshot::{Condition, Labels, Node, Taint};

/// A node under construction.
#[derive(Debug, Clone)]
pub struct NodeFixture(pub Node);

impl NodeFixture {
    /// A Ready, schedulable node on v1.37.2 with the usual labels and no pressure.
    pub fn ready(name: &str) -> Self {
        let labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_owned(), name.to_owned()),
            ("kubernetes.io/os".to_owned(), "linux".to_owned()),
            ("topology.kubernetes.io/zone".to_owned(), "zone-a".to_owned()),
        ]);
        let mut conditions = vec![cond("Ready", "True", "KubeletReady")];
        for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
            conditions.push(cond(kind, "False", "KubeletHasSufficientResources"));
        }
        conditions.push(cond("NetworkUnavailable", "False", "RouteCreated"));
        Self(Node {
            uid: format!("uid-{name}"),
            name: name.into(),
            labels: Labels::from(labels),
            taints: vec![],
            unschedulable: false,
            conditions,
            kubelet_version: "v1.37.2".into(),
            kube_proxy_version: "v1.37.2".into(),
        })
    }

    /// Sets the node's UID (fixtures default to `uid-<name>`).
    pub fn uid(mut self, uid: &str) -> Self {
        self.0.uid = uid.into();
        self
    }

    /// Sets the kubelet's and kube-proxy's version.
    pub fn kubelet(mut self, version: &str) -> Self {
        self.0.kubelet_version = version.into();
        self.0.kube_proxy_version = version.into();
        self
    }

    /// Sets only kube-proxy's version (empty: not reported).
    pub fn kube_proxy(mut self, version: &str) -> Self {
        self.0.kube_proxy_version = version.into();
        self
    }

    /// Sets a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.labels = self.0.labels.with(key, value);
        self
    }

    /// Removes a label.
    pub fn without_label(mut self, key: &str) -> Self {
        self.0.labels = self.0.labels.without(key);
        self
    }

    /// Adds a taint without a value.
    pub fn taint(mut self, key: &str, effect: &str) -> Self {
        self.0.taints.push(Taint { key: key.into(), value: None, effect: effect.into() });
        self
    }

    /// Cordons the node, as `kubectl cordon` and the node controller's taint do.
    pub fn cordoned(mut self) -> Self {
        self.0.unschedulable = true;
        self.taint("node.kubernetes.io/unschedulable", "NoSchedule")
    }

    /// Sets condition `kind` to `status` with `reason`.
    pub fn condition(mut self, kind: &str, status: &str, reason: &str) -> Self {
        self.0.conditions.retain(|c| c.kind != kind);
        self.0.conditions.push(cond(kind, status, reason));
        self
    }

    /// The node stopped reporting: Ready Unknown and the node controller's taints.
    pub fn unreachable(self) -> Self {
        self.condition("Ready", "Unknown", "NodeStatusUnknown")
            .taint("node.kubernetes.io/unreachable", "NoSchedule")
            .taint("node.kubernetes.io/unreachable", "NoExecute")
    }
}

fn cond(kind: &str, status: &str, reason: &str) -> Condition {
    Condition {
        kind: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: None,
    }
}
