//! The node list, each node compacted to its labels, taints, conditions and versions.

use k8s_openapi::api::core::v1::Node as K8sNode;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Condition, Interner, Node, Source, Taint};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Node>, kube::Error> {
    let interner = &pass.interner;
    list_all(pass, ListRequest::all::<K8sNode>(), Source::Nodes, |n| node(n, interner)).await
}

fn node(n: api::Node, interner: &Interner) -> Option<Node> {
    Some(Node {
        uid: n.metadata.uid,
        name: n.metadata.name,
        labels: interner.labels(n.metadata.labels),
        taints: n
            .spec
            .taints
            .into_iter()
            .map(|t| Taint {
                key: t.key,
                value: t.value.filter(|v| !v.is_empty()),
                effect: t.effect,
            })
            .collect(),
        unschedulable: n.spec.unschedulable.unwrap_or(false),
        conditions: n.status.conditions.into_iter().map(condition).collect(),
        kubelet_version: n.status.node_info.kubelet_version,
        kube_proxy_version: n.status.node_info.kube_proxy_version,
    })
}

fn condition(c: api::Condition) -> Condition {
    Condition { kind: c.kind, status: c.status, reason: c.reason, message: c.message }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_node_into_its_compact_form() {
        let raw = serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "uid": "0d7c1f1e-uid", "labels": {"kubernetes.io/hostname": "n1"}, "annotations": {"big": "x"}},
            "spec": {"unschedulable": true, "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}],
                "nodeInfo": {"kubeletVersion": "v1.37.2", "kubeProxyVersion": "", "architecture": "amd64", "bootID": "",
                    "containerRuntimeVersion": "", "kernelVersion": "", "machineID": "", "operatingSystem": "linux",
                    "osImage": "", "systemUUID": ""}
            }
        });
        let n = node(serde_json::from_value(raw).unwrap(), &Interner::default()).unwrap();
        assert_eq!((n.name.as_str(), n.uid.as_str()), ("n1", "0d7c1f1e-uid"));
        assert!(n.unschedulable && n.is_ready());
        assert_eq!(n.taints[0].to_string(), "node.kubernetes.io/unschedulable:NoSchedule");
        assert_eq!(n.kubelet_version, "v1.37.2");
        assert_eq!(n.kube_proxy_version, "");
    }
}
