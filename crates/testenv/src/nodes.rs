//! The kwok nodes: created with what a kubelet would register (realistic labels, capacity,
//! `nodeInfo` with the kubelet and kube-proxy versions), annotated so kwok keeps their
//! heartbeats and Ready condition; and the node side of an upgrade, which moves their
//! `nodeInfo` versions.

use std::time::Duration;

use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::components::KWOK_NODE_ANNOTATION;
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};

/// The name of the `index`th kwok node.
pub fn node_name(index: usize) -> String {
    format!("kwok-node-{index}")
}

/// The zones the nodes are spread over, round robin.
pub const ZONES: [&str; 3] = ["ap-southeast-1a", "ap-southeast-1b", "ap-southeast-1c"];

/// How many node writes run at once.
const PARALLEL: usize = 16;

/// The node object a kubelet of `version` would register as `kwok-node-{index}`.
pub fn manifest(index: usize, version: &str) -> Result<Node, TestEnvError> {
    let name = node_name(index);
    let zone = ZONES[index % ZONES.len()];
    let node = json!({
        "apiVersion": "v1",
        "kind": "Node",
        "metadata": {
            "name": name,
            "labels": {
                "beta.kubernetes.io/arch": "amd64",
                "beta.kubernetes.io/os": "linux",
                "kubernetes.io/arch": "amd64",
                "kubernetes.io/hostname": name,
                "kubernetes.io/os": "linux",
                "node.kubernetes.io/instance-type": "c7.xlarge.2",
                "topology.kubernetes.io/region": "ap-southeast-1",
                "topology.kubernetes.io/zone": zone,
                "type": "kwok",
            },
            "annotations": {
                KWOK_NODE_ANNOTATION.0: KWOK_NODE_ANNOTATION.1,
                "node.alpha.kubernetes.io/ttl": "0",
            },
        },
        "spec": {
            "taints": [{ "key": KWOK_NODE_ANNOTATION.0, "value": KWOK_NODE_ANNOTATION.1, "effect": "NoSchedule" }],
        },
        "status": {
            "allocatable": { "cpu": "4", "memory": "15Gi", "pods": "110", "ephemeral-storage": "95Gi" },
            "capacity": { "cpu": "4", "memory": "16Gi", "pods": "110", "ephemeral-storage": "100Gi" },
            "nodeInfo": node_info(index, version),
            "addresses": [
                { "type": "InternalIP", "address": format!("10.240.{}.{}", index / 250, index % 250 + 2) },
                { "type": "Hostname", "address": name },
            ],
        },
    });
    serde_json::from_value(node)
        .map_err(|e| TestEnvError::Invalid(format!("building the manifest of node {name}: {e}")))
}

fn node_info(index: usize, version: &str) -> serde_json::Value {
    json!({
        "architecture": "amd64",
        "bootID": format!("00000000-0000-4000-8000-{index:012}"),
        "containerRuntimeVersion": "containerd://1.7.22",
        "kernelVersion": "5.10.0-182.0.0.95.r1941_123.hce2.x86_64",
        "kubeProxyVersion": format!("v{version}"),
        "kubeletVersion": format!("v{version}"),
        // Letters up front: kwok's template writes these unquoted, and digits would turn into a number.
        "machineID": format!("ec2d{index:028x}"),
        "operatingSystem": "linux",
        "osImage": "Huawei Cloud EulerOS 2.0 (x86_64)",
        "systemUUID": format!("10000000-0000-4000-8000-{index:012}"),
    })
}

/// Creates nodes `kwok-node-0..count` (an existing one is left as it is).
pub async fn create(
    client: &kube::Client,
    count: usize,
    version: &str,
) -> Result<(), TestEnvError> {
    let api: Api<Node> = Api::all(client.clone());
    futures::stream::iter(0..count)
        .map(|index| {
            let api = api.clone();
            async move {
                let node = manifest(index, version)?;
                match api.create(&PostParams::default(), &node).await {
                    Ok(_) => Ok(()),
                    Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
                    Err(e) => {
                        Err(TestEnvError::kube(format!("creating node {}", node_name(index)))(e))
                    }
                }
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// Sets the kubelet and kube-proxy versions a node reports (what its kubelet would report
/// after being upgraded; kwok leaves `nodeInfo` alone).
pub async fn set_versions(
    client: &kube::Client,
    names: &[String],
    version: &str,
) -> Result<(), TestEnvError> {
    let api: Api<Node> = Api::all(client.clone());
    let patch = json!({ "status": { "nodeInfo": {
        "kubeletVersion": format!("v{version}"),
        "kubeProxyVersion": format!("v{version}"),
    }}});
    futures::stream::iter(names.iter().cloned())
        .map(|name| {
            let api = api.clone();
            let patch = patch.clone();
            async move {
                api.patch_status(&name, &PatchParams::default(), &Patch::Merge(&patch))
                    .await
                    .map(|_| ())
                    .map_err(TestEnvError::kube(format!(
                        "setting the kubelet version of node {name}"
                    )))
            }
        })
        .buffer_unordered(PARALLEL)
        .try_collect::<Vec<()>>()
        .await?;
    Ok(())
}

/// The kwok nodes, sorted by their index.
pub async fn list(client: &kube::Client) -> Result<Vec<Node>, TestEnvError> {
    let api: Api<Node> = Api::all(client.clone());
    let mut nodes = api
        .list(&ListParams::default().labels("type=kwok"))
        .await
        .map_err(TestEnvError::kube("listing the kwok nodes"))?
        .items;
    nodes.sort_by_key(|n| {
        n.metadata
            .name
            .as_deref()
            .and_then(|n| n.strip_prefix("kwok-node-"))
            .and_then(|i| i.parse::<usize>().ok())
            .unwrap_or(usize::MAX)
    });
    Ok(nodes)
}

/// Whether a node's Ready condition is True.
pub fn is_ready(node: &Node) -> bool {
    condition_status(node, "Ready").as_deref() == Some("True")
}

/// The status of one of a node's conditions.
pub fn condition_status(node: &Node, kind: &str) -> Option<String> {
    node.status
        .as_ref()?
        .conditions
        .as_ref()?
        .iter()
        .find(|c| c.type_ == kind)
        .map(|c| c.status.clone())
}

/// The kubelet version a node reports (`v1.36.3`).
pub fn kubelet_version(node: &Node) -> Option<String> {
    node.status.as_ref()?.node_info.as_ref().map(|i| i.kubelet_version.clone())
}

/// Waits until the first `count` nodes report kubelet `version`.
pub(crate) async fn wait_versions(
    client: &kube::Client,
    version: &str,
    count: usize,
    timeout: Duration,
) -> Result<(), TestEnvError> {
    let want = format!("v{version}");
    poll_until(
        format!("{count} nodes to report kubelet {want}"),
        timeout,
        Duration::from_millis(500),
        async || {
            let listed = list(client).await?;
            let wrong: Vec<String> = listed
                .iter()
                .take(count)
                .filter(|n| kubelet_version(n).as_deref() != Some(want.as_str()))
                .map(|n| {
                    format!(
                        "{} has {:?}",
                        n.metadata.name.clone().unwrap_or_default(),
                        kubelet_version(n)
                    )
                })
                .collect();
            if wrong.is_empty() && listed.len() >= count {
                return Ok(Look::Done(()));
            }
            Ok(Look::waiting(wrong.join(", ")))
        },
    )
    .await
}
