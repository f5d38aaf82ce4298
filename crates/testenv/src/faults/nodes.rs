//! Node faults, each acting on an existing kwok node as a real node would go wrong: its
//! kubelet stops heartbeating, it is cordoned, its kubelet stays on an old version (one
//! upgrade behind, or so far behind that the next minor would leave it outside the skew
//! policy), it loses a label, it gains a taint.
//!
//! kwok's node-initialize stage writes each `nodeInfo` field only where it is empty
//! (`or .status.nodeInfo.kubeletVersion kwok-VERSION`), so a version set here stays.

use std::time::Duration;

use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use kube::Api;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::json;

use super::{Ctx, FAULT_TAINT_KEY, FaultTarget, LOST_LABEL, POLL};
use crate::cluster::TestCluster;
use crate::error::TestEnvError;
use crate::nodes;
use crate::wait::{Look, poll_until};

/// Takes over the node's lease as a kubelet that then dies would leave it: renewed once,
/// never again. kwok sees another holder and stops renewing; the node-lifecycle controller
/// marks the node Unknown after its grace period.
pub(super) async fn not_ready(ctx: &Ctx<'_>, node: &str) -> Result<FaultTarget, TestEnvError> {
    ctx.node(node).await?;
    let leases: Api<Lease> = Api::namespaced(ctx.client.clone(), "kube-node-lease");
    poll_until(
        format!("taking over the lease of node {node}"),
        Duration::from_secs(30),
        POLL,
        async || {
            let last = match leases.get_opt(node).await {
                Ok(Some(mut lease)) => {
                    let spec = lease.spec.get_or_insert_with(Default::default);
                    spec.holder_identity = Some(format!("{node}-stopped-kubelet"));
                    spec.lease_duration_seconds = Some(86_400);
                    spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
                    match leases.replace(node, &PostParams::default(), &lease).await {
                        Ok(_) => return Ok(Look::Done(())),
                        Err(e) => e.to_string(),
                    }
                }
                Ok(None) => "no lease yet".into(),
                Err(e) => e.to_string(),
            };
            Ok(Look::waiting(last))
        },
    )
    .await?;
    let grace = ctx.cluster.heartbeat().grace_seconds;
    poll_until(
        format!("node {node} to become NotReady"),
        Duration::from_secs(grace + 60),
        POLL,
        async || {
            let n = ctx.node(node).await?;
            let ready = nodes::condition_status(&n, "Ready");
            if ready.as_deref() != Some("True") {
                return Ok(Look::Done(FaultTarget::new("Node", None, node)));
            }
            Ok(Look::waiting(format!("Ready={ready:?}")))
        },
    )
    .await
}

/// Cordons the node; the node-lifecycle controller answers with its unschedulable taint.
pub(super) async fn cordoned(ctx: &Ctx<'_>, node: &str) -> Result<FaultTarget, TestEnvError> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    api.patch(
        node,
        &PatchParams::default(),
        &Patch::Merge(json!({ "spec": { "unschedulable": true } })),
    )
    .await
    .map_err(TestEnvError::kube(format!("cordoning node {node}")))?;
    poll_until(
        format!("node {node} to carry the unschedulable taint"),
        Duration::from_secs(30),
        POLL,
        async || {
            let n = ctx.node(node).await?;
            let taints = taint_keys(&n);
            if taints.iter().any(|t| t == "node.kubernetes.io/unschedulable") {
                return Ok(Look::Done(FaultTarget::new("Node", None, node)));
            }
            Ok(Look::waiting(format!("taints {taints:?}")))
        },
    )
    .await
}

/// The node's kubelet and kube-proxy report the version an upgrade left behind.
pub(super) async fn old_kubelet(ctx: &Ctx<'_>, node: &str) -> Result<FaultTarget, TestEnvError> {
    let old = previous_version(ctx.cluster)?;
    report_version(ctx, node, &old).await
}

/// How many minors a kubelet (and kube-proxy) may trail the API server: the upstream
/// version-skew policy since 1.28.
pub const KUBELET_SKEW_MINORS: u32 = 3;

/// The node's kubelet and kube-proxy report `MAJOR.(MINOR-3).0`: the oldest the skew policy
/// allows today, outside it once the control plane moves to the next minor (the target of a
/// pre-check): on 1.36, v1.33.0, which 1.37 no longer supports.
pub(super) async fn kubelet_skew_at_target(
    ctx: &Ctx<'_>,
    node: &str,
) -> Result<FaultTarget, TestEnvError> {
    let (major, minor, _) = crate::binaries::parse_version(&ctx.cluster.version())?;
    let oldest = format!("{major}.{}.0", minor.saturating_sub(KUBELET_SKEW_MINORS));
    report_version(ctx, node, &oldest).await
}

/// Sets the kubelet and kube-proxy versions the node reports and waits until they read back
/// so after a heartbeat could have run (kwok fills `nodeInfo` only where it is empty).
async fn report_version(
    ctx: &Ctx<'_>,
    node: &str,
    version: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.node(node).await?;
    nodes::set_versions(&ctx.client, &[node.to_string()], version).await?;
    let want = format!("v{version}");
    poll_until(
        format!("node {node} to report kubelet {want}"),
        Duration::from_secs(20),
        POLL,
        async || {
            let n = ctx.node(node).await?;
            let got = nodes::kubelet_version(&n);
            if got.as_deref() == Some(want.as_str()) {
                return Ok(Look::Done(FaultTarget::new("Node", None, node)));
            }
            Ok(Look::waiting(format!("kubelet {got:?}")))
        },
    )
    .await
}

/// Removes the node's zone label.
pub(super) async fn lost_label(ctx: &Ctx<'_>, node: &str) -> Result<FaultTarget, TestEnvError> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    api.patch(
        node,
        &PatchParams::default(),
        &Patch::Merge(json!({ "metadata": { "labels": { LOST_LABEL: null } } })),
    )
    .await
    .map_err(TestEnvError::kube(format!("removing the label {LOST_LABEL} of node {node}")))?;
    let n = ctx.node(node).await?;
    if n.metadata.labels.as_ref().is_some_and(|l| l.contains_key(LOST_LABEL)) {
        return Err(TestEnvError::Invalid(format!("node {node} still has the label {LOST_LABEL}")));
    }
    Ok(FaultTarget::new("Node", None, node))
}

/// Adds a NoSchedule taint to the node, keeping the taints it has.
pub(super) async fn new_taint(ctx: &Ctx<'_>, node: &str) -> Result<FaultTarget, TestEnvError> {
    let api: Api<Node> = Api::all(ctx.client.clone());
    poll_until(
        format!("adding a taint to node {node}"),
        Duration::from_secs(30),
        POLL,
        async || {
            let n = ctx.node(node).await?;
            let mut taints = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
            if taints.iter().any(|t| t.key == FAULT_TAINT_KEY) {
                return Ok(Look::Done(FaultTarget::new("Node", None, node)));
            }
            taints.push(Taint {
                key: FAULT_TAINT_KEY.into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
                time_added: None,
            });
            // The resourceVersion makes this fail, not clobber, if a controller changed the
            // taints meanwhile.
            let patch = json!({
                "metadata": { "resourceVersion": n.metadata.resource_version },
                "spec": { "taints": taints },
            });
            let last = match api.patch(node, &PatchParams::default(), &Patch::Merge(patch)).await {
                Ok(_) => return Ok(Look::Done(FaultTarget::new("Node", None, node))),
                Err(e) => e.to_string(),
            };
            Ok(Look::waiting(last))
        },
    )
    .await
}

/// The version a node left behind by an upgrade reports: the cluster's previous version, or
/// the previous minor (`.0`) if it was never upgraded.
fn previous_version(cluster: &TestCluster) -> Result<String, TestEnvError> {
    if let Some(previous) = cluster.previous_version() {
        return Ok(previous);
    }
    let (major, minor, _) = crate::binaries::parse_version(&cluster.version())?;
    Ok(format!("{major}.{}.0", minor.saturating_sub(1)))
}

fn taint_keys(node: &Node) -> Vec<String> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map(|ts| ts.iter().map(|t| t.key.clone()).collect())
        .unwrap_or_default()
}
