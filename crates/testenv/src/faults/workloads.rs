//! Workload faults: a Deployment whose pods never become Ready, and a DaemonSet that cannot
//! place its pod on one node; the real Deployment and DaemonSet controllers report both.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kube::api::ListParams;
use serde_json::json;

use super::pods::is_unschedulable;
use super::{Ctx, FaultTarget, POLL, image_for};
use crate::apply::create_namespaced;
use crate::error::TestEnvError;
use crate::stages::POD_FAULT_LABEL;
use crate::wait::{Look, poll_until};
use crate::workloads;

/// A two-replica Deployment whose pods run but never pass their readiness probe (kwok's
/// `not-ready` stage): the controller reports them unavailable.
pub(super) async fn deployment_unavailable(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    let mut manifest = workloads::deployment(namespace, name, 2, &image_for(name), 8080);
    manifest["spec"]["template"]["metadata"]["labels"][POD_FAULT_LABEL] = json!("not-ready");
    manifest["spec"]["progressDeadlineSeconds"] = json!(600);
    create_namespaced::<Deployment>(&ctx.client, manifest).await?;
    let api: Api<Deployment> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("Deployment {namespace}/{name} to have unavailable replicas"),
        Duration::from_secs(60),
        POLL,
        async || {
            let d = api
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading Deployment {namespace}/{name}")))?;
            let status = d.status.clone().unwrap_or_default();
            let available = status
                .conditions
                .as_ref()
                .and_then(|cs| cs.iter().find(|c| c.type_ == "Available"))
                .map(|c| c.status.clone());
            let pods_running = status.replicas.unwrap_or(0) >= 2;
            if pods_running
                && status.unavailable_replicas.unwrap_or(0) >= 2
                && available.as_deref() == Some("False")
                && running_pods(ctx, namespace, name).await? >= 2
            {
                return Ok(Look::Done(FaultTarget::new("Deployment", Some(namespace), name)));
            }
            Ok(Look::waiting(format!(
                "replicas {:?}, unavailable {:?}, Available={available:?}",
                status.replicas, status.unavailable_replicas
            )))
        },
    )
    .await
}

/// How many pods `app=<name>` run (phase Running).
async fn running_pods(ctx: &Ctx<'_>, namespace: &str, name: &str) -> Result<usize, TestEnvError> {
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let listed = pods
        .list(&ListParams::default().labels(&format!("app={name}")))
        .await
        .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
    Ok(listed
        .items
        .iter()
        .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
        .count())
}

/// A pod squatting host port 9100 on `node`, then a DaemonSet wanting that port on every
/// node: the scheduler cannot place its pod on `node`.
pub(super) async fn daemonset_missing_pod(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
    node: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    let squatter = format!("{name}-port-squatter");
    create_namespaced::<Pod>(&ctx.client, json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": { "name": squatter, "namespace": namespace, "labels": { "app": squatter } },
        "spec": {
            "nodeName": node,
            "tolerations": [{ "operator": "Exists" }],
            "containers": [{ "name": "legacy-exporter", "image": "prom/node-exporter:v1.3.1", "ports": [{ "containerPort": 9100, "hostPort": 9100 }] }],
        },
    }))
    .await?;
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("pod {namespace}/{squatter} to run on {node}"),
        Duration::from_secs(60),
        POLL,
        async || {
            let pod = pods
                .get(&squatter)
                .await
                .map_err(TestEnvError::kube(format!("reading pod {namespace}/{squatter}")))?;
            let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
            if phase == "Running" {
                return Ok(Look::Done(()));
            }
            Ok(Look::waiting(format!("phase {phase:?}")))
        },
    )
    .await?;
    let labels = json!({ "app": name });
    let (_, affinity) = workloads::kwok_placement();
    create_namespaced::<DaemonSet>(&ctx.client, json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": { "name": name, "namespace": namespace, "labels": labels },
        "spec": {
            "selector": { "matchLabels": labels },
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "tolerations": [{ "operator": "Exists" }],
                    "affinity": affinity,
                    "containers": [{ "name": "node-exporter", "image": "prom/node-exporter:v1.8.2", "ports": [{ "containerPort": 9100, "hostPort": 9100, "name": "metrics" }] }],
                },
            },
        },
    }))
    .await?;
    let api: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("DaemonSet {namespace}/{name} to miss its pod on {node}"),
        Duration::from_secs(60),
        POLL,
        async || {
            let ds = api
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading DaemonSet {namespace}/{name}")))?;
            let status = ds.status.unwrap_or_default();
            let listed = pods
                .list(&ListParams::default().labels(&format!("app={name}")))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            let blocked = listed.items.iter().any(|p| targets_node(p, node) && is_unschedulable(p));
            if blocked
                && status.desired_number_scheduled > 0
                && status.number_unavailable.unwrap_or(0) >= 1
                && status.number_ready < status.desired_number_scheduled
            {
                return Ok(Look::Done(FaultTarget::new("DaemonSet", Some(namespace), name)));
            }
            Ok(Look::waiting(format!(
                "desired {}, ready {}, unavailable {:?}, blocked pod seen: {blocked}",
                status.desired_number_scheduled, status.number_ready, status.number_unavailable
            )))
        },
    )
    .await
}

/// Whether a DaemonSet pod is meant for `node` (bound to it, or its node affinity names it,
/// as the DaemonSet controller writes it).
pub(super) fn targets_node(pod: &Pod, node: &str) -> bool {
    pod.spec.as_ref().is_some_and(|spec| {
        spec.node_name.as_deref() == Some(node)
            || spec
                .affinity
                .as_ref()
                .and_then(|a| a.node_affinity.as_ref())
                .and_then(|na| na.required_during_scheduling_ignored_during_execution.as_ref())
                .is_some_and(|req| {
                    req.node_selector_terms.iter().any(|t| {
                        t.match_fields.iter().flatten().any(|f| {
                            f.key == "metadata.name" && f.values.iter().flatten().any(|v| v == node)
                        })
                    })
                })
    })
}
