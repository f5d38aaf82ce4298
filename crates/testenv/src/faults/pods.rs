//! Pod faults: a one-replica Deployment whose pod goes wrong the way a kubelet reports it
//! (kwok's fault stages play that kubelet), or that the scheduler cannot place.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde_json::json;

use super::{Ctx, FaultTarget, POLL, image_for};
use crate::apply::create_namespaced;
use crate::error::TestEnvError;
use crate::stages::POD_FAULT_LABEL;
use crate::wait::{Look, poll_until};
use crate::workloads;

/// A one-replica Deployment whose pods carry the fault label `stage` (kwok's stage for it
/// plays the kubelet), and a wait until its pod's container waits with `reason`.
pub(super) async fn waiting(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
    stage: &str,
    reason: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    let mut manifest = workloads::deployment(namespace, name, 1, &image_for(name), 8080);
    manifest["spec"]["template"]["metadata"]["labels"][POD_FAULT_LABEL] = json!(stage);
    create_namespaced::<Deployment>(&ctx.client, manifest).await?;
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("a pod of {namespace}/{name} to wait in {reason}"),
        Duration::from_secs(60),
        POLL,
        async || {
            let listed = pods
                .list(&ListParams::default().labels(&format!("app={name}")))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            let mut seen = Vec::new();
            for pod in &listed.items {
                let waiting = waiting_reasons(pod);
                let pod_name = pod.metadata.name.clone().unwrap_or_default();
                if waiting.iter().any(|r| r == reason) {
                    return Ok(Look::Done(FaultTarget::new("Pod", Some(namespace), &pod_name)));
                }
                seen.push(format!("{pod_name}: {waiting:?}"));
            }
            Ok(Look::waiting(seen.join(", ")))
        },
    )
    .await
}

/// A one-replica Deployment whose nodeSelector no node matches: its pod stays Unschedulable.
pub(super) async fn pending(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    let mut manifest = workloads::deployment(namespace, name, 1, &image_for(name), 8080);
    manifest["spec"]["template"]["spec"]["nodeSelector"] =
        json!({ "node.kubernetes.io/pool": "gpu-a100" });
    create_namespaced::<Deployment>(&ctx.client, manifest).await?;
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("a pod of {namespace}/{name} to be Unschedulable"),
        Duration::from_secs(60),
        POLL,
        async || {
            let listed = pods
                .list(&ListParams::default().labels(&format!("app={name}")))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            if let Some(pod) = listed.items.iter().find(|p| is_unschedulable(p)) {
                return Ok(Look::Done(FaultTarget::new(
                    "Pod",
                    Some(namespace),
                    &pod.metadata.name.clone().unwrap_or_default(),
                )));
            }
            Ok(Look::waiting(format!("{} pods, none Unschedulable yet", listed.items.len())))
        },
    )
    .await
}

/// Whether the scheduler said it cannot place the pod (PodScheduled False, Unschedulable).
pub(super) fn is_unschedulable(pod: &Pod) -> bool {
    pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
        cs.iter().any(|c| {
            c.type_ == "PodScheduled"
                && c.status == "False"
                && c.reason.as_deref() == Some("Unschedulable")
        })
    })
}

/// The reasons the pod's containers wait for.
fn waiting_reasons(pod: &Pod) -> Vec<String> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter().filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()).collect()
        })
        .unwrap_or_default()
}
