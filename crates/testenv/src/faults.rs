//! Faults: each one puts the cluster in a state a real post-upgrade cluster can be in, produced
//! the way a real cluster produces it (a kubelet that stops renewing its lease, kwok stages
//! playing a kubelet whose container crashes, the real controllers reacting), never by
//! writing a status that a real controller would overwrite. Faults create their own objects
//! (namespace `faults` by default) rather than breaking the starting set, and return once
//! the fault is visible through the API.

use std::collections::BTreeMap;
use std::io::Write;
use std::time::Duration;

use base64::Engine;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{
    ConfigMap, Event, Namespace, Node, PersistentVolumeClaim, Pod, Secret, Service,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::MicroTime;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams, PostParams};
use serde::Serialize;
use serde_json::json;

use crate::apply::{create_cluster, create_namespaced};
use crate::cluster::TestCluster;
use crate::error::TestEnvError;
use crate::nodes;
use crate::stages::POD_FAULT_LABEL;
use crate::wait::Waiter;
use crate::workloads::{self, STORAGE_CLASS};

/// The namespace faults create their objects in unless told otherwise.
pub const FAULTS_NAMESPACE: &str = "faults";
/// The namespace the WebhookNoEndpoints fault's webhook applies to (and only it).
pub const WEBHOOK_TARGET_NAMESPACE: &str = "faults-webhook-target";
/// The label a node fault's taint uses.
pub const FAULT_TAINT_KEY: &str = "faults.postcheck.dev/injected";
/// The label NodeLostLabel removes.
pub const LOST_LABEL: &str = "topology.kubernetes.io/zone";

/// A fault to inject. Node faults act on `node` (by default a node chosen per fault, counting
/// from the last one, so that several node faults hit different nodes); the others create
/// their object as `namespace/name` (by default in `faults`, named after the fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// The node's kubelet stops renewing its lease; the node-lifecycle controller marks its
    /// Ready condition Unknown after the grace period.
    NodeNotReady { node: Option<String> },
    /// The node is cordoned (spec.unschedulable), and the controller taints it.
    NodeCordoned { node: Option<String> },
    /// The node's kubelet and kube-proxy report the previous minor version.
    NodeOldKubelet { node: Option<String> },
    /// The node lost its `topology.kubernetes.io/zone` label.
    NodeLostLabel { node: Option<String> },
    /// The node carries a new NoSchedule taint.
    NodeNewTaint { node: Option<String> },
    /// A Deployment whose pod's container is in CrashLoopBackOff.
    PodCrashLoop { namespace: Option<String>, name: Option<String> },
    /// A Deployment whose pod cannot pull its image (ImagePullBackOff).
    PodImagePull { namespace: Option<String>, name: Option<String> },
    /// A Deployment whose pod cannot be scheduled (a nodeSelector nothing matches).
    PodPending { namespace: Option<String>, name: Option<String> },
    /// A Deployment whose pods run but never become Ready.
    DeploymentUnavailable { namespace: Option<String>, name: Option<String> },
    /// A DaemonSet whose pod on one node cannot be scheduled (its host port is taken there).
    DaemonSetMissingPod { namespace: Option<String>, name: Option<String> },
    /// A Service whose pods went away (its Deployment scaled to zero).
    ServiceNoEndpoints { namespace: Option<String>, name: Option<String> },
    /// A PVC that no PV matches.
    PvcPending { namespace: Option<String>, name: Option<String> },
    /// An APIService backed by a Service with no endpoints (the aggregator marks it
    /// Available=False).
    ApiServiceUnavailable { namespace: Option<String>, name: Option<String> },
    /// A `failurePolicy: Fail` validating webhook whose Service has no endpoints, scoped to
    /// ConfigMaps in the namespace `faults-webhook-target`.
    WebhookNoEndpoints { namespace: Option<String>, name: Option<String> },
    /// A FlowSchema whose last-applied-configuration says `flowcontrol.apiserver.k8s.io/v1beta3`.
    RemovedApiLastApplied { namespace: Option<String>, name: Option<String> },
    /// A Helm v3 release Secret whose manifest holds a `policy/v1beta1` PodDisruptionBudget.
    HelmReleaseRemovedApi { namespace: Option<String>, name: Option<String> },
}

/// Which object a fault made faulty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FaultTarget {
    /// Its kind (`Node`, `Pod`, `Deployment`, `APIService`...).
    pub kind: String,
    /// Its namespace (None for cluster-scoped objects).
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
}

impl std::fmt::Display for FaultTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.namespace {
            Some(ns) => write!(f, "{} {}/{}", self.kind, ns, self.name),
            None => write!(f, "{} {}", self.kind, self.name),
        }
    }
}

impl FaultTarget {
    fn new(kind: &str, namespace: Option<&str>, name: &str) -> FaultTarget {
        FaultTarget {
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }
}

/// The names of the faults, as the CLI takes them.
pub const FAULT_NAMES: [&str; 16] = [
    "node-not-ready",
    "node-cordoned",
    "node-old-kubelet",
    "node-lost-label",
    "node-new-taint",
    "pod-crash-loop",
    "pod-image-pull",
    "pod-pending",
    "deployment-unavailable",
    "daemonset-missing-pod",
    "service-no-endpoints",
    "pvc-pending",
    "apiservice-unavailable",
    "webhook-no-endpoints",
    "removed-api-last-applied",
    "helm-release-removed-api",
];

impl Fault {
    /// The fault's CLI name (`node-not-ready`...).
    pub fn name(&self) -> &'static str {
        FAULT_NAMES[self.index()]
    }

    fn index(&self) -> usize {
        match self {
            Fault::NodeNotReady { .. } => 0,
            Fault::NodeCordoned { .. } => 1,
            Fault::NodeOldKubelet { .. } => 2,
            Fault::NodeLostLabel { .. } => 3,
            Fault::NodeNewTaint { .. } => 4,
            Fault::PodCrashLoop { .. } => 5,
            Fault::PodImagePull { .. } => 6,
            Fault::PodPending { .. } => 7,
            Fault::DeploymentUnavailable { .. } => 8,
            Fault::DaemonSetMissingPod { .. } => 9,
            Fault::ServiceNoEndpoints { .. } => 10,
            Fault::PvcPending { .. } => 11,
            Fault::ApiServiceUnavailable { .. } => 12,
            Fault::WebhookNoEndpoints { .. } => 13,
            Fault::RemovedApiLastApplied { .. } => 14,
            Fault::HelmReleaseRemovedApi { .. } => 15,
        }
    }

    /// Parses a fault by name (`node-not-ready`, `NodeNotReady` and `node_not_ready` alike)
    /// with its optional target. A node given to an object fault (or the reverse) is refused.
    pub fn parse(
        name: &str,
        node: Option<String>,
        namespace: Option<String>,
        object: Option<String>,
    ) -> Result<Fault, TestEnvError> {
        let wanted: String = name
            .chars()
            .filter(|c| c.is_ascii_alphanumeric())
            .collect::<String>()
            .to_ascii_lowercase();
        let index = FAULT_NAMES
            .iter()
            .position(|n| {
                n.replace('-', "") == wanted
                    || (wanted == "apiserviceunavailable" && *n == "apiservice-unavailable")
            })
            .ok_or_else(|| {
                TestEnvError::Invalid(format!(
                    "unknown fault {name:?}; known: {}",
                    FAULT_NAMES.join(", ")
                ))
            })?;
        if index < 5 {
            if namespace.is_some() || object.is_some() {
                return Err(TestEnvError::Invalid(format!(
                    "the fault {} takes --node, not --namespace/--name",
                    FAULT_NAMES[index]
                )));
            }
            return Ok(match index {
                0 => Fault::NodeNotReady { node },
                1 => Fault::NodeCordoned { node },
                2 => Fault::NodeOldKubelet { node },
                3 => Fault::NodeLostLabel { node },
                _ => Fault::NodeNewTaint { node },
            });
        }
        if node.is_some() {
            return Err(TestEnvError::Invalid(format!(
                "the fault {} takes --namespace/--name, not --node",
                FAULT_NAMES[index]
            )));
        }
        let (namespace, name) = (namespace, object);
        Ok(match index {
            5 => Fault::PodCrashLoop { namespace, name },
            6 => Fault::PodImagePull { namespace, name },
            7 => Fault::PodPending { namespace, name },
            8 => Fault::DeploymentUnavailable { namespace, name },
            9 => Fault::DaemonSetMissingPod { namespace, name },
            10 => Fault::ServiceNoEndpoints { namespace, name },
            11 => Fault::PvcPending { namespace, name },
            12 => Fault::ApiServiceUnavailable { namespace, name },
            13 => Fault::WebhookNoEndpoints { namespace, name },
            14 => Fault::RemovedApiLastApplied { namespace, name },
            _ => Fault::HelmReleaseRemovedApi { namespace, name },
        })
    }
}

/// Injects `fault` into `cluster` and returns once it is visible through the API.
pub async fn inject(cluster: &TestCluster, fault: Fault) -> Result<FaultTarget, TestEnvError> {
    let client = cluster.client().await?;
    let ctx = Ctx { client, cluster };
    let default_node = |offset: usize| -> String {
        let n = cluster.node_count().max(1);
        nodes::node_name((n - 1).saturating_sub(offset % n))
    };
    let ns_name = |namespace: Option<String>, name: Option<String>, default: &str| {
        (
            namespace.unwrap_or_else(|| FAULTS_NAMESPACE.to_string()),
            name.unwrap_or_else(|| default.to_string()),
        )
    };
    match fault {
        Fault::NodeNotReady { node } => {
            ctx.node_not_ready(&node.unwrap_or_else(|| default_node(0))).await
        }
        Fault::NodeCordoned { node } => {
            ctx.node_cordoned(&node.unwrap_or_else(|| default_node(1))).await
        }
        Fault::NodeOldKubelet { node } => {
            ctx.node_old_kubelet(&node.unwrap_or_else(|| default_node(2))).await
        }
        Fault::NodeLostLabel { node } => {
            ctx.node_lost_label(&node.unwrap_or_else(|| default_node(3))).await
        }
        Fault::NodeNewTaint { node } => {
            ctx.node_new_taint(&node.unwrap_or_else(|| default_node(4))).await
        }
        Fault::PodCrashLoop { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "crash-loop");
            ctx.pod_waiting(&ns, &name, Some("crash-loop"), "CrashLoopBackOff").await
        }
        Fault::PodImagePull { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "image-pull");
            ctx.pod_waiting(&ns, &name, Some("image-pull"), "ImagePullBackOff").await
        }
        Fault::PodPending { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "unschedulable");
            ctx.pod_pending(&ns, &name).await
        }
        Fault::DeploymentUnavailable { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "unavailable");
            ctx.deployment_unavailable(&ns, &name).await
        }
        Fault::DaemonSetMissingPod { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "node-exporter");
            ctx.daemonset_missing_pod(&ns, &name, &nodes::node_name(0)).await
        }
        Fault::ServiceNoEndpoints { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "checkout");
            ctx.service_no_endpoints(&ns, &name).await
        }
        Fault::PvcPending { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "unbound-claim");
            ctx.pvc_pending(&ns, &name).await
        }
        Fault::ApiServiceUnavailable { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "metrics-gone");
            ctx.apiservice_unavailable(&ns, &name).await
        }
        Fault::WebhookNoEndpoints { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "admission-gone");
            ctx.webhook_no_endpoints(&ns, &name).await
        }
        Fault::RemovedApiLastApplied { name, .. } => {
            ctx.removed_api_last_applied(&name.unwrap_or_else(|| "legacy-batch-jobs".into())).await
        }
        Fault::HelmReleaseRemovedApi { namespace, name } => {
            let (ns, name) = ns_name(namespace, name, "legacy-pdb");
            ctx.helm_release_removed_api(&ns, &name).await
        }
    }
}

struct Ctx<'a> {
    client: kube::Client,
    cluster: &'a TestCluster,
}

const POLL: Duration = Duration::from_millis(250);

impl Ctx<'_> {
    async fn node(&self, name: &str) -> Result<Node, TestEnvError> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.get(name).await.map_err(TestEnvError::kube(format!("reading node {name}")))
    }

    /// Takes over the node's lease as a kubelet that then dies would leave it: renewed once,
    /// never again. kwok sees another holder and stops renewing; the node-lifecycle
    /// controller marks the node Unknown after its grace period.
    async fn node_not_ready(&self, node: &str) -> Result<FaultTarget, TestEnvError> {
        self.node(node).await?;
        let leases: Api<Lease> = Api::namespaced(self.client.clone(), "kube-node-lease");
        let waiter = Waiter::new(
            format!("taking over the lease of node {node}"),
            Duration::from_secs(30),
            POLL,
        );
        loop {
            let last = match leases.get_opt(node).await {
                Ok(Some(mut lease)) => {
                    let spec = lease.spec.get_or_insert_with(Default::default);
                    spec.holder_identity = Some(format!("{node}-stopped-kubelet"));
                    spec.lease_duration_seconds = Some(86_400);
                    spec.renew_time = Some(MicroTime(k8s_openapi::jiff::Timestamp::now()));
                    match leases.replace(node, &PostParams::default(), &lease).await {
                        Ok(_) => break,
                        Err(e) => e.to_string(),
                    }
                }
                Ok(None) => "no lease yet".into(),
                Err(e) => e.to_string(),
            };
            waiter.tick(last).await?;
        }
        let grace = self.cluster.heartbeat().grace_seconds;
        let waiter = Waiter::new(
            format!("node {node} to become NotReady"),
            Duration::from_secs(grace + 60),
            POLL,
        );
        loop {
            let n = self.node(node).await?;
            let ready = nodes::condition_status(&n, "Ready");
            if ready.as_deref() != Some("True") {
                return Ok(FaultTarget::new("Node", None, node));
            }
            waiter.tick(format!("Ready={ready:?}")).await?;
        }
    }

    async fn node_cordoned(&self, node: &str) -> Result<FaultTarget, TestEnvError> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.patch(
            node,
            &PatchParams::default(),
            &Patch::Merge(json!({ "spec": { "unschedulable": true } })),
        )
        .await
        .map_err(TestEnvError::kube(format!("cordoning node {node}")))?;
        // The node-lifecycle controller answers with its unschedulable taint.
        let waiter = Waiter::new(
            format!("node {node} to carry the unschedulable taint"),
            Duration::from_secs(30),
            POLL,
        );
        loop {
            let n = self.node(node).await?;
            let taints = taint_keys(&n);
            if taints.iter().any(|t| t == "node.kubernetes.io/unschedulable") {
                return Ok(FaultTarget::new("Node", None, node));
            }
            waiter.tick(format!("taints {taints:?}")).await?;
        }
    }

    async fn node_old_kubelet(&self, node: &str) -> Result<FaultTarget, TestEnvError> {
        self.node(node).await?;
        let old = previous_version(self.cluster)?;
        nodes::set_versions(&self.client, &[node.to_string()], &old).await?;
        let want = format!("v{old}");
        // kwok must leave it as we set it: read it back after a heartbeat could have run.
        let waiter = Waiter::new(
            format!("node {node} to report kubelet {want}"),
            Duration::from_secs(20),
            POLL,
        );
        loop {
            let n = self.node(node).await?;
            let got = nodes::kubelet_version(&n);
            if got.as_deref() == Some(want.as_str()) {
                return Ok(FaultTarget::new("Node", None, node));
            }
            waiter.tick(format!("kubelet {got:?}")).await?;
        }
    }

    async fn node_lost_label(&self, node: &str) -> Result<FaultTarget, TestEnvError> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.patch(
            node,
            &PatchParams::default(),
            &Patch::Merge(json!({ "metadata": { "labels": { LOST_LABEL: null } } })),
        )
        .await
        .map_err(TestEnvError::kube(format!("removing the label {LOST_LABEL} of node {node}")))?;
        let n = self.node(node).await?;
        if n.metadata.labels.as_ref().is_some_and(|l| l.contains_key(LOST_LABEL)) {
            return Err(TestEnvError::Invalid(format!(
                "node {node} still has the label {LOST_LABEL}"
            )));
        }
        Ok(FaultTarget::new("Node", None, node))
    }

    async fn node_new_taint(&self, node: &str) -> Result<FaultTarget, TestEnvError> {
        let api: Api<Node> = Api::all(self.client.clone());
        let waiter =
            Waiter::new(format!("adding a taint to node {node}"), Duration::from_secs(30), POLL);
        loop {
            let n = self.node(node).await?;
            let mut taints = n.spec.as_ref().and_then(|s| s.taints.clone()).unwrap_or_default();
            if taints.iter().any(|t| t.key == FAULT_TAINT_KEY) {
                return Ok(FaultTarget::new("Node", None, node));
            }
            taints.push(k8s_openapi::api::core::v1::Taint {
                key: FAULT_TAINT_KEY.into(),
                value: Some("true".into()),
                effect: "NoSchedule".into(),
                time_added: None,
            });
            // The resourceVersion makes this fail, not clobber, if a controller changed the taints meanwhile.
            let patch = json!({ "metadata": { "resourceVersion": n.metadata.resource_version }, "spec": { "taints": taints } });
            let last = match api.patch(node, &PatchParams::default(), &Patch::Merge(patch)).await {
                Ok(_) => continue,
                Err(e) => e.to_string(),
            };
            waiter.tick(last).await?;
        }
    }

    async fn ensure_namespace(&self, namespace: &str) -> Result<(), TestEnvError> {
        workloads::ensure_namespace(&self.client, namespace).await
    }

    /// A one-replica Deployment whose pods carry the fault label `stage` (kwok's stage for it
    /// plays the kubelet), and a wait until its pod's container waits with `reason`.
    async fn pod_waiting(
        &self,
        namespace: &str,
        name: &str,
        stage: Option<&str>,
        reason: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        let mut manifest = workloads::deployment(namespace, name, 1, &image_for(name), 8080);
        if let Some(stage) = stage {
            manifest["spec"]["template"]["metadata"]["labels"][POD_FAULT_LABEL] = json!(stage);
        }
        create_namespaced::<Deployment>(&self.client, manifest).await?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let waiter = Waiter::new(
            format!("a pod of {namespace}/{name} to wait in {reason}"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let listed = pods
                .list(&ListParams::default().labels(&format!("app={name}")))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            let mut seen = Vec::new();
            for pod in &listed.items {
                let waiting = waiting_reasons(pod);
                if waiting.iter().any(|r| r == reason) {
                    return Ok(FaultTarget::new(
                        "Pod",
                        Some(namespace),
                        &pod.metadata.name.clone().unwrap_or_default(),
                    ));
                }
                seen.push(format!(
                    "{}: {waiting:?}",
                    pod.metadata.name.clone().unwrap_or_default()
                ));
            }
            waiter.tick(seen.join(", ")).await?;
        }
    }

    async fn pod_pending(&self, namespace: &str, name: &str) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        let mut manifest = workloads::deployment(namespace, name, 1, &image_for(name), 8080);
        manifest["spec"]["template"]["spec"]["nodeSelector"] =
            json!({ "node.kubernetes.io/pool": "gpu-a100" });
        create_namespaced::<Deployment>(&self.client, manifest).await?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let waiter = Waiter::new(
            format!("a pod of {namespace}/{name} to be Unschedulable"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let listed = pods
                .list(&ListParams::default().labels(&format!("app={name}")))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            for pod in &listed.items {
                let unschedulable =
                    pod.status.as_ref().and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
                        cs.iter().any(|c| {
                            c.type_ == "PodScheduled"
                                && c.status == "False"
                                && c.reason.as_deref() == Some("Unschedulable")
                        })
                    });
                if unschedulable {
                    return Ok(FaultTarget::new(
                        "Pod",
                        Some(namespace),
                        &pod.metadata.name.clone().unwrap_or_default(),
                    ));
                }
            }
            waiter.tick(format!("{} pods, none Unschedulable yet", listed.items.len())).await?;
        }
    }

    async fn deployment_unavailable(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        let mut manifest = workloads::deployment(namespace, name, 2, &image_for(name), 8080);
        manifest["spec"]["template"]["metadata"]["labels"][POD_FAULT_LABEL] = json!("not-ready");
        manifest["spec"]["progressDeadlineSeconds"] = json!(600);
        create_namespaced::<Deployment>(&self.client, manifest).await?;
        let api: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        let waiter = Waiter::new(
            format!("Deployment {namespace}/{name} to have unavailable replicas"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
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
                && self.pods_running(namespace, name, 2).await?
            {
                return Ok(FaultTarget::new("Deployment", Some(namespace), name));
            }
            waiter
                .tick(format!(
                    "replicas {:?}, unavailable {:?}, Available={available:?}",
                    status.replicas, status.unavailable_replicas
                ))
                .await?;
        }
    }

    /// Whether at least `count` pods `app=<name>` run (phase Running).
    async fn pods_running(
        &self,
        namespace: &str,
        name: &str,
        count: usize,
    ) -> Result<bool, TestEnvError> {
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let listed = pods
            .list(&ListParams::default().labels(&format!("app={name}")))
            .await
            .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
        Ok(listed
            .items
            .iter()
            .filter(|p| p.status.as_ref().and_then(|s| s.phase.as_deref()) == Some("Running"))
            .count()
            >= count)
    }

    /// A pod squatting host port 9100 on `node`, then a DaemonSet wanting that port on every
    /// node: the scheduler cannot place its pod on `node`.
    async fn daemonset_missing_pod(
        &self,
        namespace: &str,
        name: &str,
        node: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        let squatter = format!("{name}-port-squatter");
        create_namespaced::<Pod>(&self.client, json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": { "name": squatter, "namespace": namespace, "labels": { "app": squatter } },
            "spec": {
                "nodeName": node,
                "tolerations": [{ "operator": "Exists" }],
                "containers": [{ "name": "legacy-exporter", "image": "prom/node-exporter:v1.3.1", "ports": [{ "containerPort": 9100, "hostPort": 9100 }] }],
            },
        }))
        .await?;
        let pods: Api<Pod> = Api::namespaced(self.client.clone(), namespace);
        let waiter = Waiter::new(
            format!("pod {namespace}/{squatter} to run on {node}"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let pod = pods
                .get(&squatter)
                .await
                .map_err(TestEnvError::kube(format!("reading pod {namespace}/{squatter}")))?;
            let phase = pod.status.and_then(|s| s.phase).unwrap_or_default();
            if phase == "Running" {
                break;
            }
            waiter.tick(format!("phase {phase:?}")).await?;
        }
        let labels = json!({ "app": name });
        let (_, affinity) = workloads::kwok_placement();
        create_namespaced::<DaemonSet>(&self.client, json!({
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
        let api: Api<DaemonSet> = Api::namespaced(self.client.clone(), namespace);
        let waiter = Waiter::new(
            format!("DaemonSet {namespace}/{name} to miss its pod on {node}"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let ds = api
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading DaemonSet {namespace}/{name}")))?;
            let status = ds.status.unwrap_or_default();
            let listed = pods
                .list(&ListParams::default().labels(&format!("app={name}")))
                .await
                .map_err(TestEnvError::kube(format!("listing the pods of {namespace}/{name}")))?;
            let blocked = listed.items.iter().any(|p| {
                let conditions =
                    p.status.as_ref().and_then(|s| s.conditions.clone()).unwrap_or_default();
                targets_node(p, node)
                    && conditions.iter().any(|c| {
                        c.type_ == "PodScheduled"
                            && c.status == "False"
                            && c.reason.as_deref() == Some("Unschedulable")
                    })
            });
            if blocked
                && status.desired_number_scheduled > 0
                && status.number_unavailable.unwrap_or(0) >= 1
                && status.number_ready < status.desired_number_scheduled
            {
                return Ok(FaultTarget::new("DaemonSet", Some(namespace), name));
            }
            waiter
                .tick(format!(
                    "desired {}, ready {}, unavailable {:?}, blocked pod seen: {blocked}",
                    status.desired_number_scheduled, status.number_ready, status.number_unavailable
                ))
                .await?;
        }
    }

    /// A Deployment with a Service; once the Service has a ready endpoint, the Deployment is
    /// scaled to zero and the endpoints go away.
    async fn service_no_endpoints(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        create_namespaced::<Deployment>(
            &self.client,
            workloads::deployment(namespace, name, 1, &image_for(name), 8080),
        )
        .await?;
        create_namespaced::<Service>(&self.client, workloads::service(namespace, name, 8080))
            .await?;
        let slices: Api<EndpointSlice> = Api::namespaced(self.client.clone(), namespace);
        let by_service =
            ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
        let waiter = Waiter::new(
            format!("Service {namespace}/{name} to get a ready endpoint"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let listed = slices.list(&by_service).await.map_err(TestEnvError::kube(format!(
                "listing the EndpointSlices of {namespace}/{name}"
            )))?;
            if workloads::ready_endpoints(&listed.items, name) > 0 {
                break;
            }
            waiter.tick("").await?;
        }
        let deployments: Api<Deployment> = Api::namespaced(self.client.clone(), namespace);
        deployments
            .patch(
                name,
                &PatchParams::default(),
                &Patch::Merge(json!({ "spec": { "replicas": 0 } })),
            )
            .await
            .map_err(TestEnvError::kube(format!(
                "scaling Deployment {namespace}/{name} to zero"
            )))?;
        let waiter = Waiter::new(
            format!("Service {namespace}/{name} to lose its endpoints"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let listed = slices.list(&by_service).await.map_err(TestEnvError::kube(format!(
                "listing the EndpointSlices of {namespace}/{name}"
            )))?;
            let endpoints: usize =
                listed.items.iter().map(|s| s.endpoints.as_ref().map_or(0, Vec::len)).sum();
            if endpoints == 0 && !listed.items.is_empty() {
                return Ok(FaultTarget::new("Service", Some(namespace), name));
            }
            waiter.tick(format!("{endpoints} endpoints")).await?;
        }
    }

    /// A claim bigger than any PV of its class: the PV controller leaves it Pending.
    async fn pvc_pending(&self, namespace: &str, name: &str) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        create_namespaced::<PersistentVolumeClaim>(&self.client, json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": { "name": name, "namespace": namespace },
            "spec": { "accessModes": ["ReadWriteOnce"], "storageClassName": STORAGE_CLASS, "resources": { "requests": { "storage": "500Gi" } } },
        }))
        .await?;
        // Visible once the PV controller has looked at it and said why it stays Pending.
        let events: Api<Event> = Api::namespaced(self.client.clone(), namespace);
        let claims: Api<PersistentVolumeClaim> = Api::namespaced(self.client.clone(), namespace);
        let waiter = Waiter::new(
            format!("the PV controller to leave PVC {namespace}/{name} Pending"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let claim = claims
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading PVC {namespace}/{name}")))?;
            let phase = claim.status.and_then(|s| s.phase).unwrap_or_default();
            let listed = events
                .list(&ListParams::default().fields(&format!(
                    "involvedObject.kind=PersistentVolumeClaim,involvedObject.name={name}"
                )))
                .await
                .map_err(TestEnvError::kube(format!(
                    "listing the events of PVC {namespace}/{name}"
                )))?;
            if phase == "Pending" && !listed.items.is_empty() {
                return Ok(FaultTarget::new("PersistentVolumeClaim", Some(namespace), name));
            }
            waiter.tick(format!("phase {phase:?}, {} events", listed.items.len())).await?;
        }
    }

    /// An APIService for `v1beta1.<name>.faults.postcheck.dev` served by a Service that selects
    /// no pod; the aggregator's availability controller marks it Available=False.
    async fn apiservice_unavailable(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        create_namespaced::<Service>(&self.client, json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": name, "namespace": namespace },
            "spec": { "selector": { "app": name }, "ports": [{ "name": "https", "port": 443, "targetPort": 6443 }] },
        }))
        .await?;
        let group = format!("{name}.faults.postcheck.dev");
        let apiservice = format!("v1beta1.{group}");
        create_cluster::<APIService>(
            &self.client,
            json!({
                "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
                "metadata": { "name": apiservice },
                "spec": {
                    "group": group, "version": "v1beta1",
                    "service": { "namespace": namespace, "name": name, "port": 443 },
                    "insecureSkipTLSVerify": true,
                    "groupPriorityMinimum": 100, "versionPriority": 100,
                },
            }),
        )
        .await?;
        let api: Api<APIService> = Api::all(self.client.clone());
        let waiter = Waiter::new(
            format!("APIService {apiservice} to be Available=False"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let a = api
                .get(&apiservice)
                .await
                .map_err(TestEnvError::kube(format!("reading APIService {apiservice}")))?;
            let available = a
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "Available");
            if available.as_ref().is_some_and(|c| c.status == "False") {
                return Ok(FaultTarget::new("APIService", None, &apiservice));
            }
            waiter.tick(format!("{available:?}")).await?;
        }
    }

    /// A Fail-policy validating webhook for ConfigMaps in `faults-webhook-target` only, served
    /// by a Service without endpoints: creating a ConfigMap there is refused.
    async fn webhook_no_endpoints(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        create_cluster::<Namespace>(&self.client, json!({
            "apiVersion": "v1", "kind": "Namespace",
            "metadata": { "name": WEBHOOK_TARGET_NAMESPACE, "labels": { "faults.postcheck.dev/webhook": "target" } },
        }))
        .await?;
        create_namespaced::<Service>(&self.client, json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": name, "namespace": namespace },
            "spec": { "selector": { "app": name }, "ports": [{ "name": "https", "port": 443, "targetPort": 9443 }] },
        }))
        .await?;
        let config = format!("{namespace}-{name}");
        create_cluster::<ValidatingWebhookConfiguration>(&self.client, json!({
            "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
            "metadata": { "name": config },
            "webhooks": [{
                "name": format!("{name}.faults.postcheck.dev"),
                "clientConfig": { "service": { "namespace": namespace, "name": name, "path": "/validate", "port": 443 } },
                "rules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"], "scope": "Namespaced" }],
                "namespaceSelector": { "matchLabels": { "faults.postcheck.dev/webhook": "target" } },
                "failurePolicy": "Fail",
                "sideEffects": "None",
                "admissionReviewVersions": ["v1"],
                "timeoutSeconds": 5,
            }],
        }))
        .await?;
        let configmaps: Api<ConfigMap> =
            Api::namespaced(self.client.clone(), WEBHOOK_TARGET_NAMESPACE);
        let probe: ConfigMap =
            serde_json::from_value(json!({ "metadata": { "name": "webhook-probe" } }))
                .expect("a static ConfigMap");
        let dry_run = PostParams { dry_run: true, ..Default::default() };
        let waiter = Waiter::new(
            format!("the webhook {config} to refuse writes"),
            Duration::from_secs(60),
            POLL,
        );
        loop {
            let last = match configmaps.create(&dry_run, &probe).await {
                Err(kube::Error::Api(e)) if e.message.contains("failed calling webhook") => {
                    return Ok(FaultTarget::new("ValidatingWebhookConfiguration", None, &config));
                }
                Err(e) => e.to_string(),
                Ok(_) => "a ConfigMap was still admitted".to_string(),
            };
            waiter.tick(last).await?;
        }
    }

    /// A FlowSchema created as `kubectl apply` of a `flowcontrol.apiserver.k8s.io/v1beta3`
    /// manifest leaves it (the API removed in 1.32).
    async fn removed_api_last_applied(&self, name: &str) -> Result<FaultTarget, TestEnvError> {
        let spec = json!({
            "priorityLevelConfiguration": { "name": "workload-low" },
            "matchingPrecedence": 9000,
            "distinguisherMethod": { "type": "ByUser" },
            "rules": [{
                "subjects": [{ "kind": "ServiceAccount", "serviceAccount": { "name": "batch-runner", "namespace": FAULTS_NAMESPACE } }],
                "resourceRules": [{ "verbs": ["list", "watch"], "apiGroups": ["batch"], "resources": ["jobs"], "namespaces": ["*"] }],
            }],
        });
        let last_applied = json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3",
            "kind": "FlowSchema",
            "metadata": { "annotations": {}, "name": name },
            "spec": spec,
        });
        create_cluster::<FlowSchema>(&self.client, json!({
            "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
            "metadata": { "name": name, "annotations": { "kubectl.kubernetes.io/last-applied-configuration": last_applied.to_string() + "\n" } },
            "spec": spec,
        }))
        .await?;
        let api: Api<FlowSchema> = Api::all(self.client.clone());
        let got = api
            .get(name)
            .await
            .map_err(TestEnvError::kube(format!("reading FlowSchema {name}")))?;
        let annotation = got
            .metadata
            .annotations
            .unwrap_or_default()
            .get("kubectl.kubernetes.io/last-applied-configuration")
            .cloned()
            .unwrap_or_default();
        if !annotation.contains("flowcontrol.apiserver.k8s.io/v1beta3") {
            return Err(TestEnvError::Invalid(format!(
                "FlowSchema {name} lost its last-applied-configuration"
            )));
        }
        Ok(FaultTarget::new("FlowSchema", None, name))
    }

    /// The Secret Helm v3 keeps for revision 1 of release `name`: `data.release` is
    /// base64(gzip(JSON release)), and the manifest holds a `policy/v1beta1` PDB.
    async fn helm_release_removed_api(
        &self,
        namespace: &str,
        name: &str,
    ) -> Result<FaultTarget, TestEnvError> {
        self.ensure_namespace(namespace).await?;
        let secret_name = format!("sh.helm.release.v1.{name}.v1");
        let release = helm_release(namespace, name);
        let encoded = encode_helm_release(&release)?;
        let mut labels = BTreeMap::new();
        for (k, v) in [("name", name), ("owner", "helm"), ("status", "deployed"), ("version", "1")]
        {
            labels.insert(k.to_string(), v.to_string());
        }
        create_namespaced::<Secret>(&self.client, json!({
            "apiVersion": "v1", "kind": "Secret",
            "metadata": { "name": secret_name, "namespace": namespace, "labels": labels },
            "type": "helm.sh/release.v1",
            "data": { "release": base64::engine::general_purpose::STANDARD.encode(encoded.as_bytes()) },
        }))
        .await?;
        let api: Api<Secret> = Api::namespaced(self.client.clone(), namespace);
        let got = api
            .get(&secret_name)
            .await
            .map_err(TestEnvError::kube(format!("reading Secret {namespace}/{secret_name}")))?;
        if got.type_.as_deref() != Some("helm.sh/release.v1") {
            return Err(TestEnvError::Invalid(format!(
                "Secret {namespace}/{secret_name} has type {:?}",
                got.type_
            )));
        }
        Ok(FaultTarget::new("Secret", Some(namespace), &secret_name))
    }
}

/// A Helm v3 release (the JSON Helm stores) of a chart whose manifest has a
/// `policy/v1beta1` PodDisruptionBudget next to a current Deployment.
pub fn helm_release(namespace: &str, name: &str) -> serde_json::Value {
    let manifest = format!(
        "---\n# Source: {name}/templates/pdb.yaml\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\n  labels:\n    app.kubernetes.io/managed-by: Helm\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: {name}\n---\n# Source: {name}/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.21\n"
    );
    json!({
        "name": name,
        "info": {
            "first_deployed": "2023-03-14T09:26:53.123456789Z",
            "last_deployed": "2023-03-14T09:26:53.123456789Z",
            "deleted": "",
            "description": "Install complete",
            "status": "deployed",
        },
        "chart": {
            "metadata": { "name": name, "version": "1.4.2", "description": "A chart from before policy/v1", "apiVersion": "v2", "appVersion": "1.21.6", "type": "application" },
            "lock": null,
            "templates": [],
            "values": { "replicaCount": 2 },
            "schema": null,
            "files": [],
        },
        "config": {},
        "manifest": manifest,
        "version": 1,
        "namespace": namespace,
    })
}

/// Helm's storage encoding of a release: base64(gzip(JSON)).
pub fn encode_helm_release(release: &serde_json::Value) -> Result<String, TestEnvError> {
    let json = serde_json::to_vec(release)
        .map_err(|e| TestEnvError::Invalid(format!("serialising a Helm release: {e}")))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json)
        .and_then(|_| gz.flush())
        .map_err(TestEnvError::io("compressing", "a Helm release"))?;
    let compressed = gz.finish().map_err(TestEnvError::io("compressing", "a Helm release"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(compressed))
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

fn image_for(name: &str) -> String {
    match name {
        "image-pull" => "registry.example.com/shop/payments:9.9.9-missing".to_string(),
        _ => format!("ghcr.io/example/{name}:1.0.0"),
    }
}

fn taint_keys(node: &Node) -> Vec<String> {
    node.spec
        .as_ref()
        .and_then(|s| s.taints.as_ref())
        .map(|ts| ts.iter().map(|t| t.key.clone()).collect())
        .unwrap_or_default()
}

/// The reasons the pod's containers wait for.
pub fn waiting_reasons(pod: &Pod) -> Vec<String> {
    pod.status
        .as_ref()
        .and_then(|s| s.container_statuses.as_ref())
        .map(|cs| {
            cs.iter().filter_map(|c| c.state.as_ref()?.waiting.as_ref()?.reason.clone()).collect()
        })
        .unwrap_or_default()
}

/// Whether a DaemonSet pod is meant for `node` (its node affinity names it).
fn targets_node(pod: &Pod, node: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn fault_names_round_trip_through_parse() {
        for name in FAULT_NAMES {
            assert_eq!(Fault::parse(name, None, None, None).unwrap().name(), name);
        }
        assert_eq!(
            Fault::parse("NodeNotReady", Some("n1".into()), None, None).unwrap(),
            Fault::NodeNotReady { node: Some("n1".into()) }
        );
        assert_eq!(
            Fault::parse("ApiServiceUnavailable", None, None, None).unwrap().name(),
            "apiservice-unavailable"
        );
        assert!(Fault::parse("node-cordoned", None, Some("ns".into()), None).is_err());
        assert!(Fault::parse("pvc-pending", Some("n".into()), None, None).is_err());
        assert!(Fault::parse("no-such-fault", None, None, None).is_err());
    }

    #[test]
    fn helm_release_decodes_to_a_manifest_with_the_removed_pdb_api() {
        let encoded = encode_helm_release(&helm_release("faults", "legacy-pdb")).unwrap();
        let compressed = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_string(&mut json).unwrap();
        let release: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(release["name"], "legacy-pdb");
        assert!(
            release["manifest"]
                .as_str()
                .unwrap()
                .contains("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget")
        );
    }
}
