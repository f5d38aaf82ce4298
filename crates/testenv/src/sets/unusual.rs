//! The "healthy but unusual" set: every object here is in a state Kubernetes documents as
//! normal, and each is read back until it shows that state:
//! - `PersistentVolumeClaim unusual/awaiting-first-consumer`, of the StorageClass
//!   `wait-for-first-consumer` (`volumeBindingMode: WaitForFirstConsumer`), used by no pod:
//!   Pending by design, with the PV controller's `WaitForFirstConsumer` event;
//! - `Job unusual/nightly-report`, Complete, its pod `Succeeded` (kwok's pod-complete stage);
//! - `Deployment unusual/standby-worker`, scaled to zero, no Service selecting it;
//! - `DaemonSet unusual/gpu-device-plugin`, whose nodeSelector matches no node (0 desired);
//! - `Service unusual/legacy-db` of type ExternalName;
//! - `Service unusual/external-metrics` without a selector, and its hand-managed
//!   `EndpointSlice unusual/external-metrics-1` (one ready endpoint, managed by
//!   `netops.example.com`, which the EndpointSlice controller leaves alone);
//! - `ValidatingWebhookConfiguration unusual-optional-audit`, `failurePolicy: Ignore`, whose
//!   Service has no endpoints, scoped to ConfigMaps in `unusual`: writes there still pass
//!   (the API server counts them in `apiserver_admission_webhook_fail_open_count`);
//! - `CronJob unusual/quarterly-cleanup`, suspended.

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, PersistentVolumeClaim, Pod, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde_json::json;

use crate::apply::{create_cluster, create_namespaced};
use crate::error::TestEnvError;
use crate::faults::FaultTarget;
use crate::wait::{Look, poll_until};
use crate::workloads::{self, kwok_placement};

/// The namespace of the set.
pub const UNUSUAL_NAMESPACE: &str = "unusual";
/// The StorageClass whose claims wait for their first consumer.
pub const UNUSUAL_STORAGE_CLASS: &str = "wait-for-first-consumer";
/// The `failurePolicy: Ignore` webhook configuration.
pub const UNUSUAL_WEBHOOK: &str = "unusual-optional-audit";

const NS: &str = UNUSUAL_NAMESPACE;
const POLL: Duration = Duration::from_millis(250);

/// Creates the set and waits until each object shows its state.
pub(super) async fn apply(client: &kube::Client) -> Result<Vec<FaultTarget>, TestEnvError> {
    workloads::ensure_namespace(client, NS).await?;
    // The webhook's scope: this namespace, by a label.
    Api::<Namespace>::all(client.clone())
        .patch(
            NS,
            &PatchParams::default(),
            &Patch::Merge(
                json!({ "metadata": { "labels": { "unusual.postcheck.dev/audit": "optional" } } }),
            ),
        )
        .await
        .map_err(TestEnvError::kube(format!("labelling the namespace {NS}")))?;
    let (pvc, job, rest) =
        futures::try_join!(claim_awaiting_consumer(client), completed_job(client), async {
            let mut targets = vec![
                scaled_to_zero(client).await?,
                daemonset_matching_no_node(client).await?,
                external_name(client).await?,
            ];
            targets.extend(selectorless_service(client).await?);
            targets.push(ignored_webhook(client).await?);
            targets.push(suspended_cronjob(client).await?);
            Ok::<_, TestEnvError>(targets)
        })?;
    let mut targets = vec![pvc];
    targets.extend(job);
    targets.extend(rest);
    Ok(targets)
}

fn target(kind: &str, name: &str) -> FaultTarget {
    FaultTarget::new(kind, Some(NS), name)
}

/// A PVC of a WaitForFirstConsumer class that no pod uses: Pending, by design.
async fn claim_awaiting_consumer(client: &kube::Client) -> Result<FaultTarget, TestEnvError> {
    create_cluster::<StorageClass>(
        client,
        json!({
            "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
            "metadata": { "name": UNUSUAL_STORAGE_CLASS },
            "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer",
            "reclaimPolicy": "Delete",
        }),
    )
    .await?;
    let name = "awaiting-first-consumer";
    create_namespaced::<PersistentVolumeClaim>(client, json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": { "name": name, "namespace": NS },
        "spec": { "accessModes": ["ReadWriteOnce"], "storageClassName": UNUSUAL_STORAGE_CLASS, "resources": { "requests": { "storage": "10Gi" } } },
    }))
    .await?;
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), NS);
    let events: Api<Event> = Api::namespaced(client.clone(), NS);
    poll_until(format!("PVC {NS}/{name} to wait for its first consumer"),
        Duration::from_secs(60),
        POLL, async || {
        let claim = claims
            .get(name)
            .await
            .map_err(TestEnvError::kube(format!("reading PVC {NS}/{name}")))?;
        let phase = claim.status.and_then(|s| s.phase).unwrap_or_default();
        let waiting = events
            .list(&ListParams::default().fields(&format!(
                "involvedObject.kind=PersistentVolumeClaim,involvedObject.name={name},reason=WaitForFirstConsumer"
            )))
            .await
            .map_err(TestEnvError::kube(format!("listing the events of PVC {NS}/{name}")))?
            .items
            .len();
        if phase == "Pending" && waiting > 0 {
            return Ok(Look::Done(target("PersistentVolumeClaim", name)));
        }
        Ok(Look::waiting(format!("phase {phase:?}, {waiting} WaitForFirstConsumer events")))
    })
    .await
}

/// A one-pod Job that ran to completion: Complete, its pod Succeeded (and kept).
async fn completed_job(client: &kube::Client) -> Result<Vec<FaultTarget>, TestEnvError> {
    let name = "nightly-report";
    let (tolerations, affinity) = kwok_placement();
    create_namespaced::<Job>(client, json!({
        "apiVersion": "batch/v1", "kind": "Job",
        "metadata": { "name": name, "namespace": NS, "labels": { "app": name } },
        "spec": {
            "backoffLimit": 0,
            "template": {
                "metadata": { "labels": { "app": name } },
                "spec": {
                    "restartPolicy": "Never",
                    "tolerations": tolerations, "affinity": affinity,
                    "containers": [{ "name": "report", "image": "ghcr.io/example/report:1.2.0", "args": ["--since=24h"] }],
                },
            },
        },
    }))
    .await?;
    let jobs: Api<Job> = Api::namespaced(client.clone(), NS);
    let pods: Api<Pod> = Api::namespaced(client.clone(), NS);
    poll_until(format!("Job {NS}/{name} to complete"), Duration::from_secs(90), POLL, async || {
        let job =
            jobs.get(name).await.map_err(TestEnvError::kube(format!("reading Job {NS}/{name}")))?;
        let complete = job
            .status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Complete" && c.status == "True"));
        let succeeded: Vec<String> = pods
            .list(&ListParams::default().labels(&format!("job-name={name}")))
            .await
            .map_err(TestEnvError::kube(format!("listing the pods of Job {NS}/{name}")))?
            .items
            .into_iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Succeeded"))
            .filter_map(|p| p.metadata.name)
            .collect();
        if complete && !succeeded.is_empty() {
            let mut targets = vec![target("Job", name)];
            targets.extend(succeeded.iter().map(|p| target("Pod", p)));
            return Ok(Look::Done(targets));
        }
        Ok(Look::waiting(format!("complete {complete}, succeeded pods {succeeded:?}")))
    })
    .await
}

/// A Deployment deliberately at zero replicas, selected by no Service.
async fn scaled_to_zero(client: &kube::Client) -> Result<FaultTarget, TestEnvError> {
    let name = "standby-worker";
    create_namespaced::<Deployment>(
        client,
        workloads::deployment(NS, name, 0, "ghcr.io/example/standby-worker:3.0.1", 9090),
    )
    .await?;
    let api: Api<Deployment> = Api::namespaced(client.clone(), NS);
    poll_until(
        format!("Deployment {NS}/{name} to settle at zero replicas"),
        Duration::from_secs(60),
        POLL,
        async || {
            let d = api
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading Deployment {NS}/{name}")))?;
            let status = d.status.clone().unwrap_or_default();
            let available = status
                .conditions
                .as_ref()
                .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Available" && c.status == "True"));
            if status.observed_generation == d.metadata.generation
                && status.replicas.unwrap_or(0) == 0
                && available
            {
                return Ok(Look::Done(target("Deployment", name)));
            }
            Ok(Look::waiting(format!("{status:?}")))
        },
    )
    .await
}

/// A DaemonSet for GPU nodes on a cluster without any: nothing to schedule.
async fn daemonset_matching_no_node(client: &kube::Client) -> Result<FaultTarget, TestEnvError> {
    let name = "gpu-device-plugin";
    let labels = json!({ "app": name });
    create_namespaced::<DaemonSet>(client, json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": { "name": name, "namespace": NS, "labels": labels },
        "spec": {
            "selector": { "matchLabels": labels },
            "template": {
                "metadata": { "labels": labels },
                "spec": {
                    "nodeSelector": { "nvidia.com/gpu.present": "true" },
                    "tolerations": [{ "operator": "Exists" }],
                    "containers": [{ "name": "plugin", "image": "nvcr.io/nvidia/k8s-device-plugin:v0.17.0" }],
                },
            },
        },
    }))
    .await?;
    let api: Api<DaemonSet> = Api::namespaced(client.clone(), NS);
    poll_until(
        format!("DaemonSet {NS}/{name} to want no pod"),
        Duration::from_secs(60),
        POLL,
        async || {
            let ds = api
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading DaemonSet {NS}/{name}")))?;
            let status = ds.status.clone();
            let observed =
                status.as_ref().and_then(|s| s.observed_generation) == ds.metadata.generation;
            if observed && status.as_ref().is_some_and(|s| s.desired_number_scheduled == 0) {
                return Ok(Look::Done(target("DaemonSet", name)));
            }
            Ok(Look::waiting(format!("{status:?}")))
        },
    )
    .await
}

/// A Service of type ExternalName (no selector, no endpoints, by design).
async fn external_name(client: &kube::Client) -> Result<FaultTarget, TestEnvError> {
    let name = "legacy-db";
    create_namespaced::<Service>(
        client,
        json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": name, "namespace": NS },
            "spec": { "type": "ExternalName", "externalName": "db.legacy.example.com" },
        }),
    )
    .await?;
    Ok(target("Service", name))
}

/// A selector-less Service and the EndpointSlice its owner manages by hand.
async fn selectorless_service(client: &kube::Client) -> Result<Vec<FaultTarget>, TestEnvError> {
    let name = "external-metrics";
    let slice = format!("{name}-1");
    create_namespaced::<Service>(client, json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": name, "namespace": NS },
        "spec": { "ports": [{ "name": "metrics", "port": 9100, "protocol": "TCP", "targetPort": 9100 }] },
    }))
    .await?;
    create_namespaced::<EndpointSlice>(client, json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {
            "name": slice, "namespace": NS,
            "labels": { "kubernetes.io/service-name": name, "endpointslice.kubernetes.io/managed-by": "netops.example.com" },
        },
        "addressType": "IPv4",
        "endpoints": [{ "addresses": ["10.250.0.10"], "conditions": { "ready": true } }],
        "ports": [{ "name": "metrics", "port": 9100, "protocol": "TCP" }],
    }))
    .await?;
    // The EndpointSlice controllers must leave it alone: read it back a little later.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), NS);
    let got = slices
        .get(&slice)
        .await
        .map_err(TestEnvError::kube(format!("reading EndpointSlice {NS}/{slice}")))?;
    if workloads::ready_endpoints(&[got], name) != 1 {
        return Err(TestEnvError::Invalid(format!(
            "EndpointSlice {NS}/{slice} lost its ready endpoint"
        )));
    }
    Ok(vec![target("Service", name), target("EndpointSlice", &slice)])
}

/// A `failurePolicy: Ignore` webhook whose Service has no endpoints: ConfigMap writes in
/// `unusual` still pass.
async fn ignored_webhook(client: &kube::Client) -> Result<FaultTarget, TestEnvError> {
    let service = "optional-audit";
    create_namespaced::<Service>(client, json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": service, "namespace": NS },
        "spec": { "selector": { "app": service }, "ports": [{ "name": "https", "port": 443, "targetPort": 9443 }] },
    }))
    .await?;
    create_cluster::<ValidatingWebhookConfiguration>(client, json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": { "name": UNUSUAL_WEBHOOK },
        "webhooks": [{
            "name": "audit.unusual.postcheck.dev",
            "clientConfig": { "service": { "namespace": NS, "name": service, "path": "/validate", "port": 443 } },
            "rules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"], "scope": "Namespaced" }],
            "namespaceSelector": { "matchLabels": { "unusual.postcheck.dev/audit": "optional" } },
            "failurePolicy": "Ignore",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 2,
        }],
    }))
    .await?;
    let configmaps: Api<ConfigMap> = Api::namespaced(client.clone(), NS);
    let probe: ConfigMap = serde_json::from_value(json!({ "metadata": { "name": "audit-probe" } }))
        .map_err(|e| TestEnvError::Invalid(format!("a ConfigMap manifest: {e}")))?;
    configmaps.create(&PostParams { dry_run: true, ..Default::default() }, &probe).await.map_err(
        TestEnvError::kube(format!(
            "writing a ConfigMap in {NS} past the Ignore webhook {UNUSUAL_WEBHOOK}"
        )),
    )?;
    Ok(FaultTarget::new("ValidatingWebhookConfiguration", None, UNUSUAL_WEBHOOK))
}

/// A CronJob suspended by its owner: no Job runs.
async fn suspended_cronjob(client: &kube::Client) -> Result<FaultTarget, TestEnvError> {
    let name = "quarterly-cleanup";
    let (tolerations, affinity) = kwok_placement();
    let created = create_namespaced::<CronJob>(
        client,
        json!({
            "apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": { "name": name, "namespace": NS },
            "spec": {
                "schedule": "0 3 1 */3 *",
                "suspend": true,
                "jobTemplate": { "spec": { "template": { "spec": {
                    "restartPolicy": "OnFailure",
                    "tolerations": tolerations, "affinity": affinity,
                    "containers": [{ "name": "cleanup", "image": "ghcr.io/example/cleanup:0.4.0" }],
                }}}},
            },
        }),
    )
    .await?;
    if created.spec.suspend != Some(true) {
        return Err(TestEnvError::Invalid(format!("CronJob {NS}/{name} is not suspended")));
    }
    Ok(target("CronJob", name))
}
