//! Faults of the cluster's own components, the ones every workload depends on: the cluster
//! DNS scaled to zero, a CNI-like DaemonSet whose pods are gone from some of its nodes, and
//! the controller-manager stopped (so nothing reconciles, and the CSR signer never issues).
//! Unlike the other faults, these act on kube-system and on the control plane itself.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Event, Pod};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{DeleteParams, ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use super::workloads::targets_node;
use super::{Ctx, FaultTarget, POLL};
use crate::apply::{create_cluster, create_namespaced};
use crate::components::CONTROLLER_MANAGER;
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};
use crate::{nodes, process, workloads};

/// The cluster DNS Service whose endpoints DnsScaledToZero takes away.
pub const DNS_SERVICE: &str = "kube-dns";

/// Scales the DNS Deployment to zero replicas, as an operator or a broken add-on manager
/// would; its Service `kube-dns` stays, with no endpoint left.
pub(super) async fn dns_scaled_to_zero(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), namespace);
    deployments
        .patch(name, &PatchParams::default(), &Patch::Merge(json!({ "spec": { "replicas": 0 } })))
        .await
        .map_err(TestEnvError::kube(format!("scaling Deployment {namespace}/{name} to zero")))?;
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let slices: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("Deployment {namespace}/{name} to have no pod and {DNS_SERVICE} no endpoint"),
        Duration::from_secs(60),
        POLL,
        async || {
            let d = deployments
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading Deployment {namespace}/{name}")))?;
            let selector = d
                .spec
                .as_ref()
                .and_then(|s| s.selector.match_labels.clone())
                .unwrap_or_default()
                .into_iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(",");
            let status = d.status.clone().unwrap_or_default();
            let left = pods
                .list(&ListParams::default().labels(&selector))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?
                .items
                .len();
            let endpoints: usize = slices
                .list(
                    &ListParams::default()
                        .labels(&format!("kubernetes.io/service-name={DNS_SERVICE}")),
                )
                .await
                .map_err(TestEnvError::kube(format!(
                    "listing the EndpointSlices of {DNS_SERVICE}"
                )))?
                .items
                .iter()
                .map(|s| s.endpoints.as_ref().map_or(0, Vec::len))
                .sum();
            let observed = status.observed_generation == d.metadata.generation;
            if observed && status.replicas.unwrap_or(0) == 0 && left == 0 && endpoints == 0 {
                return Ok(Look::Done(FaultTarget::new("Deployment", Some(namespace), name)));
            }
            Ok(Look::waiting(format!("{left} pods, {endpoints} endpoints, status {status:?}")))
        },
    )
    .await
}

/// How many of `nodes` nodes lose their CNI pod: a third, at least one (`kwok-node-0..`).
pub fn cni_missing_nodes(nodes: usize) -> Vec<String> {
    (0..(nodes / 3).max(1)).map(nodes::node_name).collect()
}

/// A CNI-like DaemonSet (`kube-system/calico-node`: host network, system-node-critical,
/// tolerating everything, selecting every Linux node) that runs on every node; then an
/// admission policy refusing its new pods (as a policy engine's rule would), and its pods on
/// a third of the nodes deleted (as a node reboot or an eviction would): the DaemonSet
/// controller cannot recreate them (FailedCreate), so those nodes have no CNI pod while
/// the DaemonSet still selects them (`desiredNumberScheduled` counts them,
/// `currentNumberScheduled` does not).
pub(super) async fn cni_daemonset_missing_pods(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    let node_count = ctx.cluster.node_count();
    let labels = json!({ "k8s-app": name });
    let (_, affinity) = workloads::kwok_placement();
    create_namespaced::<DaemonSet>(&ctx.client, json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": { "name": name, "namespace": namespace, "labels": labels },
        "spec": {
            "selector": { "matchLabels": labels },
            "updateStrategy": { "type": "RollingUpdate", "rollingUpdate": { "maxUnavailable": 1 } },
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "hostNetwork": true,
                    "priorityClassName": "system-node-critical",
                    "nodeSelector": { "kubernetes.io/os": "linux" },
                    "tolerations": [{ "operator": "Exists" }],
                    "affinity": affinity,
                    "containers": [{
                        "name": "calico-node", "image": "docker.io/calico/node:v3.29.1",
                        "env": [{ "name": "DATASTORE_TYPE", "value": "kubernetes" }],
                        "resources": { "requests": { "cpu": "250m" } },
                        "securityContext": { "privileged": true },
                    }],
                },
            },
        },
    }))
    .await?;
    let daemonsets: Api<DaemonSet> = Api::namespaced(ctx.client.clone(), namespace);
    let status = |what: String| {
        let daemonsets = daemonsets.clone();
        async move {
            let ds = daemonsets.get(name).await.map_err(TestEnvError::kube(what))?;
            let observed =
                ds.status.as_ref().and_then(|s| s.observed_generation) == ds.metadata.generation;
            Ok::<_, TestEnvError>((observed, ds.status.unwrap_or_default()))
        }
    };
    // Its pods on the nodes that will lose them must be there first (other faults may
    // have made other nodes NotReady meanwhile: those are not waited for).
    let missing = cni_missing_nodes(node_count);
    let pods: Api<Pod> = Api::namespaced(ctx.client.clone(), namespace);
    let by_label = ListParams::default().labels(&format!("k8s-app={name}"));
    poll_until(
        format!("DaemonSet {namespace}/{name} to run on {}", missing.join(", ")),
        Duration::from_secs(90),
        POLL,
        async || {
            let listed = pods
                .list(&by_label)
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            let running = |node: &String| {
                listed.items.iter().any(|p| {
                    targets_node(p, node)
                        && p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running")
                })
            };
            let waiting: Vec<&String> = missing.iter().filter(|n| !running(n)).collect();
            if waiting.is_empty() {
                return Ok(Look::Done(()));
            }
            Ok(Look::waiting(format!("no running pod yet on {waiting:?}")))
        },
    )
    .await?;

    let policy = format!("faults-deny-{name}");
    create_cluster::<ValidatingAdmissionPolicy>(&ctx.client, json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": { "name": policy },
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"] }],
                "objectSelector": { "matchLabels": labels },
            },
            "validations": [{ "expression": "false", "message": format!("new {name} pods are refused by policy {policy}"), "reason": "Forbidden" }],
        },
    }))
    .await?;
    create_cluster::<ValidatingAdmissionPolicyBinding>(&ctx.client, json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": { "name": policy },
        "spec": {
            "policyName": policy,
            "validationActions": ["Deny"],
            "matchResources": { "namespaceSelector": { "matchLabels": { "kubernetes.io/metadata.name": namespace } } },
        },
    }))
    .await?;
    let probe: Pod = serde_json::from_value(json!({
        "metadata": { "name": format!("{name}-policy-probe"), "labels": labels },
        "spec": { "containers": [{ "name": "probe", "image": "docker.io/calico/node:v3.29.1" }] },
    }))
    .map_err(|e| TestEnvError::Invalid(format!("a probe pod manifest: {e}")))?;
    let dry_run = PostParams { dry_run: true, ..Default::default() };
    poll_until(
        format!("the policy {policy} to refuse new pods"),
        Duration::from_secs(30),
        POLL,
        async || {
            let last = match pods.create(&dry_run, &probe).await {
                Err(kube::Error::Api(e)) if e.message.contains(&policy) => {
                    return Ok(Look::Done(()));
                }
                Err(e) => e.to_string(),
                Ok(_) => "a probe pod was still admitted".to_string(),
            };
            Ok(Look::waiting(last))
        },
    )
    .await?;

    let listed = pods
        .list(&by_label)
        .await
        .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
    for pod in listed.items.iter().filter(|p| missing.iter().any(|n| targets_node(p, n))) {
        let pod_name = pod.metadata.name.clone().unwrap_or_default();
        match pods.delete(&pod_name, &DeleteParams::default()).await {
            Ok(_) => {}
            Err(kube::Error::Api(e)) if e.code == 404 => {}
            Err(e) => {
                return Err(TestEnvError::kube(format!("deleting pod {namespace}/{pod_name}"))(e));
            }
        }
    }
    let events: Api<Event> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("DaemonSet {namespace}/{name} to miss its pods on {}", missing.join(", ")),
        Duration::from_secs(60),
        POLL,
        async || {
            let (observed, s) = status(format!("reading DaemonSet {namespace}/{name}")).await?;
            let listed = pods
                .list(&by_label)
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            let still_there: Vec<&String> = missing
                .iter()
                .filter(|n| listed.items.iter().any(|p| targets_node(p, n)))
                .collect();
            let failed_create = events
                .list(&ListParams::default().fields(&format!(
                    "involvedObject.kind=DaemonSet,involvedObject.name={name},reason=FailedCreate"
                )))
                .await
                .map_err(TestEnvError::kube(format!(
                    "listing the events of DaemonSet {namespace}/{name}"
                )))?
                .items
                .len();
            let gone = missing.len() as i32;
            if observed
                && still_there.is_empty()
                && failed_create > 0
                && s.current_number_scheduled <= s.desired_number_scheduled - gone
                && s.number_unavailable.unwrap_or(0) >= gone
            {
                return Ok(Look::Done(FaultTarget::new("DaemonSet", Some(namespace), name)));
            }
            Ok(Look::waiting(format!(
                "pods still on {still_there:?}, {failed_create} FailedCreate events, status {s:?}"
            )))
        },
    )
    .await
}

/// Stops kube-controller-manager (SIGTERM, by its recorded pid) and waits until its leader
/// Lease is released or goes stale. Its record stays in the state file, so `status` shows it
/// not running; an upgrade starts a new one.
pub(super) async fn controller_manager_stopped(ctx: &Ctx<'_>) -> Result<FaultTarget, TestEnvError> {
    let record = ctx
        .cluster
        .processes()
        .into_iter()
        .find(|p| p.component == CONTROLLER_MANAGER)
        .ok_or_else(|| TestEnvError::Invalid(format!("no {CONTROLLER_MANAGER} is recorded")))?;
    let stopping = record.clone();
    tokio::task::spawn_blocking(move || {
        process::stop(&stopping.component, stopping.pid, &stopping.binary, Duration::from_secs(15))
    })
    .await
    .expect("the stopping task does not panic")?;
    let leases: Api<Lease> = Api::namespaced(ctx.client.clone(), "kube-system");
    poll_until(
        format!("the Lease kube-system/{CONTROLLER_MANAGER} to be released or stale"),
        Duration::from_secs(30),
        POLL,
        async || {
            let lease = leases.get_opt(CONTROLLER_MANAGER).await.map_err(TestEnvError::kube(
                format!("reading the Lease kube-system/{CONTROLLER_MANAGER}"),
            ))?;
            let spec = lease.and_then(|l| l.spec).unwrap_or_default();
            let holder = spec.holder_identity.clone().unwrap_or_default();
            let renewed = spec.renew_time.as_ref().map(|t| t.0);
            let stale = renewed.is_none_or(|t| {
                k8s_openapi::jiff::Timestamp::now().duration_since(t)
                    > k8s_openapi::jiff::SignedDuration::from_secs(5)
            });
            if !process::is_running(record.pid, &record.binary) && (holder.is_empty() || stale) {
                return Ok(Look::Done(FaultTarget::new(
                    "Lease",
                    Some("kube-system"),
                    CONTROLLER_MANAGER,
                )));
            }
            Ok(Look::waiting(format!("held by {holder:?}, renewed {renewed:?}")))
        },
    )
    .await
}
