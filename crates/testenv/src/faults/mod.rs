//! Faults: each one puts the cluster in a state a real post-upgrade cluster can be in, produced
//! the way a real cluster produces it (a kubelet that stops renewing its lease, kwok stages
//! playing a kubelet whose container crashes, the real controllers reacting), never by
//! writing a status that a real controller would overwrite. Faults create their own objects
//! (namespace `faults` by default) rather than breaking the starting set, and return once
//! the fault is visible through the API.
//!
//! This file holds what a fault *is* ([`Fault`], its name [`FaultKind`], parsed by clap's
//! `ValueEnum`, and the [`FaultTarget`] it reports) and the dispatcher [`inject`]; each
//! family of recipes lives in its own file:
//! - `nodes`: a node NotReady, cordoned, with an old kubelet, without its zone label, tainted;
//! - `pods`: pods crash-looping, failing to pull their image, unschedulable;
//! - `workloads`: a Deployment without available replicas, a DaemonSet missing a pod;
//! - `services`: a Service whose pods went away; `storage`: a PVC nothing binds;
//! - `extensions`: an unavailable APIService, a fail-closed webhook without endpoints;
//! - `removed_apis`: objects and Helm releases still written on removed APIs;
//! - `system`: the cluster's own components: DNS scaled to zero, a CNI DaemonSet missing
//!   pods, the controller-manager stopped;
//! - `disruption`: a PodDisruptionBudget that allows no disruption;
//! - `crds`: a CRD storing a version it no longer serves, a client calling a deprecated
//!   CRD version.
//!
//! The faults that block a pre-check on 1.36 targeting 1.37 (issue 13): `pdb-no-disruption`,
//! `node-kubelet-skew-at-target`, `webhook-no-endpoints`, `crd-stored-version-not-served`,
//! `deprecated-api-client`.

mod crds;
mod disruption;
mod extensions;
mod nodes;
mod pods;
mod removed_apis;
mod services;
mod storage;
mod system;
mod workloads;

pub use crds::{CRD_GROUP, DEPRECATED_CLIENT_USER_AGENT, deprecated_metric_line};
pub use nodes::KUBELET_SKEW_MINORS;
pub use system::{DNS_SERVICE, cni_missing_nodes};

use std::time::Duration;

use clap::ValueEnum;
use k8s_openapi::api::core::v1::Node;
use kube::Api;
use serde::Serialize;

use crate::cluster::TestCluster;
use crate::error::TestEnvError;

/// The namespace faults create their objects in unless told otherwise.
pub const FAULTS_NAMESPACE: &str = "faults";
/// The namespace the WebhookNoEndpoints fault's webhook applies to (and only it).
pub const WEBHOOK_TARGET_NAMESPACE: &str = "faults-webhook-target";
/// The key of the taint NodeNewTaint adds.
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
    NodeNotReady {
        /// The node (default: the last one).
        node: Option<String>,
    },
    /// The node is cordoned (spec.unschedulable), and the controller taints it.
    NodeCordoned {
        /// The node (default: the second to last).
        node: Option<String>,
    },
    /// The node's kubelet and kube-proxy report the previous minor version.
    NodeOldKubelet {
        /// The node (default: the third to last).
        node: Option<String>,
    },
    /// The node lost its `topology.kubernetes.io/zone` label.
    NodeLostLabel {
        /// The node (default: the fourth to last).
        node: Option<String>,
    },
    /// The node carries a new NoSchedule taint.
    NodeNewTaint {
        /// The node (default: the fifth to last).
        node: Option<String>,
    },
    /// A Deployment whose pod's container is in CrashLoopBackOff.
    PodCrashLoop {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The Deployment's name (default: `crash-loop`).
        name: Option<String>,
    },
    /// A Deployment whose pod cannot pull its image (ImagePullBackOff).
    PodImagePull {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The Deployment's name (default: `image-pull`).
        name: Option<String>,
    },
    /// A Deployment whose pod cannot be scheduled (a nodeSelector nothing matches).
    PodPending {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The Deployment's name (default: `unschedulable`).
        name: Option<String>,
    },
    /// A Deployment whose pods run but never become Ready.
    DeploymentUnavailable {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The Deployment's name (default: `unavailable`).
        name: Option<String>,
    },
    /// A DaemonSet whose pod on one node cannot be scheduled (its host port is taken there).
    DaemonSetMissingPod {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The DaemonSet's name (default: `node-exporter`).
        name: Option<String>,
    },
    /// A Service whose pods went away (its Deployment scaled to zero).
    ServiceNoEndpoints {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The Service's and Deployment's name (default: `checkout`).
        name: Option<String>,
    },
    /// A PVC that no PV matches.
    PvcPending {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The claim's name (default: `unbound-claim`).
        name: Option<String>,
    },
    /// An APIService backed by a Service with no endpoints (the aggregator marks it
    /// Available=False).
    ApiServiceUnavailable {
        /// The namespace of its Service (default: `faults`).
        namespace: Option<String>,
        /// Its Service's name; the group is `<name>.faults.postcheck.dev` (default: `metrics-gone`).
        name: Option<String>,
    },
    /// A `failurePolicy: Fail` validating webhook whose Service has no endpoints, scoped to
    /// ConfigMaps in the namespace `faults-webhook-target`.
    WebhookNoEndpoints {
        /// The namespace of its Service (default: `faults`).
        namespace: Option<String>,
        /// Its Service's name (default: `admission-gone`).
        name: Option<String>,
    },
    /// A FlowSchema whose last-applied-configuration says `flowcontrol.apiserver.k8s.io/v1beta3`.
    RemovedApiLastApplied {
        /// Ignored (a FlowSchema is cluster-scoped).
        namespace: Option<String>,
        /// The FlowSchema's name (default: `legacy-batch-jobs`).
        name: Option<String>,
    },
    /// A Helm v3 release Secret whose manifest holds a `policy/v1beta1` PodDisruptionBudget.
    HelmReleaseRemovedApi {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The release's name (default: `legacy-pdb`).
        name: Option<String>,
    },
    /// The cluster DNS Deployment scaled to zero replicas: no DNS pod, and the Service
    /// `kube-dns` (which stays) has no endpoint.
    DnsScaledToZero {
        /// The namespace (default: `kube-system`).
        namespace: Option<String>,
        /// The DNS Deployment (default: `coredns`).
        name: Option<String>,
    },
    /// A CNI-like DaemonSet (host network, system-node-critical, every Linux node) whose pods
    /// are gone from a third of its nodes (at least one, from `kwok-node-0`): they were
    /// deleted and an admission policy refuses their recreation, so the DaemonSet controller
    /// reports `FailedCreate` and `currentNumberScheduled < desiredNumberScheduled`.
    CniDaemonSetMissingPods {
        /// The namespace (default: `kube-system`).
        namespace: Option<String>,
        /// The DaemonSet (default: `calico-node`).
        name: Option<String>,
    },
    /// kube-controller-manager stopped (by its pid): nothing reconciles any more, and an
    /// approved CertificateSigningRequest is never issued. An upgrade starts it again.
    ControllerManagerStopped,
    /// The node's kubelet and kube-proxy report `MAJOR.(MINOR-3).0`: within the skew policy
    /// today, outside it once the control plane moves to the next minor.
    NodeKubeletSkewAtTarget {
        /// The node (default: the sixth to last).
        node: Option<String>,
    },
    /// A two-replica Deployment covered by a PodDisruptionBudget `maxUnavailable: 0`:
    /// `disruptionsAllowed: 0`, evictions refused (a drain blocks).
    PdbNoDisruption {
        /// The namespace (default: `faults`).
        namespace: Option<String>,
        /// The Deployment's and PDB's name (default: `ledger`).
        name: Option<String>,
    },
    /// A CRD whose `status.storedVersions` holds `v1alpha1`, a version it no longer serves
    /// (`served: false`); `v1` is the storage version.
    CrdStoredVersionNotServed {
        /// The CRD's plural; it is `<plural>.faults.postcheck.dev` (default: `snapshots`).
        name: Option<String>,
    },
    /// A CRD whose `v1beta1` is marked `deprecated: true`, and a client that called it, as
    /// the API server's `apiserver_requested_deprecated_apis` metric shows.
    DeprecatedApiClient {
        /// The CRD's plural; it is `<plural>.faults.postcheck.dev` (default: `widgets`).
        name: Option<String>,
    },
}

/// The name of a fault, as `testcluster fault NAME` takes it (clap's `ValueEnum` parses it and
/// prints each one's line below in `--help`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum FaultKind {
    /// A node's kubelet stops renewing its lease: Ready turns Unknown (takes --node).
    NodeNotReady,
    /// A node is cordoned; the controller taints it unschedulable (takes --node).
    NodeCordoned,
    /// A node's kubelet and kube-proxy report the previous minor version (takes --node).
    NodeOldKubelet,
    /// A node lost its topology.kubernetes.io/zone label (takes --node).
    NodeLostLabel,
    /// A node carries a new NoSchedule taint (takes --node).
    NodeNewTaint,
    /// A Deployment's pod in CrashLoopBackOff.
    PodCrashLoop,
    /// A Deployment's pod in ImagePullBackOff.
    PodImagePull,
    /// A Deployment's pod that cannot be scheduled.
    PodPending,
    /// A Deployment whose pods run but never become Ready.
    DeploymentUnavailable,
    /// A DaemonSet whose pod on kwok-node-0 cannot be scheduled (host port taken).
    #[value(name = "daemonset-missing-pod")]
    DaemonSetMissingPod,
    /// A Service whose Deployment was scaled to zero: no endpoints.
    ServiceNoEndpoints,
    /// A PVC that no PV matches: Pending.
    PvcPending,
    /// An APIService whose Service has no endpoints: Available=False.
    #[value(name = "apiservice-unavailable")]
    ApiServiceUnavailable,
    /// A failurePolicy Fail webhook without endpoints (ConfigMaps in faults-webhook-target).
    WebhookNoEndpoints,
    /// A FlowSchema last applied as flowcontrol.apiserver.k8s.io/v1beta3 (removed in 1.32).
    RemovedApiLastApplied,
    /// A Helm release Secret whose manifest holds a policy/v1beta1 PodDisruptionBudget.
    HelmReleaseRemovedApi,
    /// The cluster DNS Deployment (kube-system/coredns) scaled to zero; kube-dns stays.
    #[value(name = "dns-scaled-to-zero")]
    DnsScaledToZero,
    /// A CNI-like DaemonSet (kube-system/calico-node) missing its pods on a third of the nodes.
    #[value(name = "cni-daemonset-missing-pods")]
    CniDaemonSetMissingPods,
    /// kube-controller-manager stopped: nothing reconciles, CSRs are never issued (no target).
    ControllerManagerStopped,
    /// A node's kubelet on MINOR-3: within skew now, outside it at the next minor (takes --node).
    NodeKubeletSkewAtTarget,
    /// A PodDisruptionBudget maxUnavailable 0 over 2 pods: no disruption allowed.
    PdbNoDisruption,
    /// A CRD storing v1alpha1, a version it no longer serves (--name: its plural).
    CrdStoredVersionNotServed,
    /// A client calling a CRD version marked deprecated, seen in /metrics (--name: its plural).
    DeprecatedApiClient,
}

/// What a fault is aimed at, as `testcluster fault` takes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Aim {
    /// `--node`.
    Node,
    /// `--namespace` and `--name`.
    Object,
    /// `--name` only (a cluster-scoped object).
    Name,
    /// Nothing (the control plane itself).
    Nothing,
}

impl FaultKind {
    /// The name `testcluster fault` takes (`node-not-ready`...).
    pub fn name(self) -> String {
        self.to_possible_value().map(|v| v.get_name().to_string()).unwrap_or_default()
    }

    /// Whether the fault acts on a node (`--node`) rather than creating an object
    /// (`--namespace`, `--name`).
    pub fn takes_node(self) -> bool {
        self.aim() == Aim::Node
    }

    fn aim(self) -> Aim {
        match self {
            FaultKind::NodeNotReady
            | FaultKind::NodeCordoned
            | FaultKind::NodeOldKubelet
            | FaultKind::NodeLostLabel
            | FaultKind::NodeNewTaint
            | FaultKind::NodeKubeletSkewAtTarget => Aim::Node,
            FaultKind::CrdStoredVersionNotServed | FaultKind::DeprecatedApiClient => Aim::Name,
            FaultKind::ControllerManagerStopped => Aim::Nothing,
            _ => Aim::Object,
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.name())
    }
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
    pub(crate) fn new(kind: &str, namespace: Option<&str>, name: &str) -> FaultTarget {
        FaultTarget {
            kind: kind.to_string(),
            namespace: namespace.map(str::to_string),
            name: name.to_string(),
        }
    }
}

impl Fault {
    /// The fault's name (`node-not-ready`...), as the CLI takes it.
    pub fn name(&self) -> String {
        self.kind().name()
    }

    /// Which fault this is.
    pub fn kind(&self) -> FaultKind {
        match self {
            Fault::NodeNotReady { .. } => FaultKind::NodeNotReady,
            Fault::NodeCordoned { .. } => FaultKind::NodeCordoned,
            Fault::NodeOldKubelet { .. } => FaultKind::NodeOldKubelet,
            Fault::NodeLostLabel { .. } => FaultKind::NodeLostLabel,
            Fault::NodeNewTaint { .. } => FaultKind::NodeNewTaint,
            Fault::PodCrashLoop { .. } => FaultKind::PodCrashLoop,
            Fault::PodImagePull { .. } => FaultKind::PodImagePull,
            Fault::PodPending { .. } => FaultKind::PodPending,
            Fault::DeploymentUnavailable { .. } => FaultKind::DeploymentUnavailable,
            Fault::DaemonSetMissingPod { .. } => FaultKind::DaemonSetMissingPod,
            Fault::ServiceNoEndpoints { .. } => FaultKind::ServiceNoEndpoints,
            Fault::PvcPending { .. } => FaultKind::PvcPending,
            Fault::ApiServiceUnavailable { .. } => FaultKind::ApiServiceUnavailable,
            Fault::WebhookNoEndpoints { .. } => FaultKind::WebhookNoEndpoints,
            Fault::RemovedApiLastApplied { .. } => FaultKind::RemovedApiLastApplied,
            Fault::HelmReleaseRemovedApi { .. } => FaultKind::HelmReleaseRemovedApi,
            Fault::DnsScaledToZero { .. } => FaultKind::DnsScaledToZero,
            Fault::CniDaemonSetMissingPods { .. } => FaultKind::CniDaemonSetMissingPods,
            Fault::ControllerManagerStopped => FaultKind::ControllerManagerStopped,
            Fault::NodeKubeletSkewAtTarget { .. } => FaultKind::NodeKubeletSkewAtTarget,
            Fault::PdbNoDisruption { .. } => FaultKind::PdbNoDisruption,
            Fault::CrdStoredVersionNotServed { .. } => FaultKind::CrdStoredVersionNotServed,
            Fault::DeprecatedApiClient { .. } => FaultKind::DeprecatedApiClient,
        }
    }

    /// The fault `kind` with its optional target. A target of the wrong sort (a node given
    /// to an object fault, a namespace or name to a node fault...) is refused.
    pub fn new(
        kind: FaultKind,
        node: Option<String>,
        namespace: Option<String>,
        name: Option<String>,
    ) -> Result<Fault, TestEnvError> {
        let refused = match kind.aim() {
            Aim::Node => (namespace.is_some() || name.is_some()).then_some("--node"),
            Aim::Object => node.is_some().then_some("--namespace/--name"),
            Aim::Name => (node.is_some() || namespace.is_some()).then_some("--name"),
            Aim::Nothing => {
                (node.is_some() || namespace.is_some() || name.is_some()).then_some("no target")
            }
        };
        if let Some(takes) = refused {
            return Err(TestEnvError::Invalid(format!(
                "the fault {kind} takes {takes}, not the target given"
            )));
        }
        Ok(match kind {
            FaultKind::NodeNotReady => Fault::NodeNotReady { node },
            FaultKind::NodeCordoned => Fault::NodeCordoned { node },
            FaultKind::NodeOldKubelet => Fault::NodeOldKubelet { node },
            FaultKind::NodeLostLabel => Fault::NodeLostLabel { node },
            FaultKind::NodeNewTaint => Fault::NodeNewTaint { node },
            FaultKind::PodCrashLoop => Fault::PodCrashLoop { namespace, name },
            FaultKind::PodImagePull => Fault::PodImagePull { namespace, name },
            FaultKind::PodPending => Fault::PodPending { namespace, name },
            FaultKind::DeploymentUnavailable => Fault::DeploymentUnavailable { namespace, name },
            FaultKind::DaemonSetMissingPod => Fault::DaemonSetMissingPod { namespace, name },
            FaultKind::ServiceNoEndpoints => Fault::ServiceNoEndpoints { namespace, name },
            FaultKind::PvcPending => Fault::PvcPending { namespace, name },
            FaultKind::ApiServiceUnavailable => Fault::ApiServiceUnavailable { namespace, name },
            FaultKind::WebhookNoEndpoints => Fault::WebhookNoEndpoints { namespace, name },
            FaultKind::RemovedApiLastApplied => Fault::RemovedApiLastApplied { namespace, name },
            FaultKind::HelmReleaseRemovedApi => Fault::HelmReleaseRemovedApi { namespace, name },
            FaultKind::DnsScaledToZero => Fault::DnsScaledToZero { namespace, name },
            FaultKind::CniDaemonSetMissingPods => {
                Fault::CniDaemonSetMissingPods { namespace, name }
            }
            FaultKind::ControllerManagerStopped => Fault::ControllerManagerStopped,
            FaultKind::NodeKubeletSkewAtTarget => Fault::NodeKubeletSkewAtTarget { node },
            FaultKind::PdbNoDisruption => Fault::PdbNoDisruption { namespace, name },
            FaultKind::CrdStoredVersionNotServed => Fault::CrdStoredVersionNotServed { name },
            FaultKind::DeprecatedApiClient => Fault::DeprecatedApiClient { name },
        })
    }

    /// Parses a fault by its name (`node-not-ready`, any case) with its optional target.
    pub fn parse(
        name: &str,
        node: Option<String>,
        namespace: Option<String>,
        object: Option<String>,
    ) -> Result<Fault, TestEnvError> {
        let kind = FaultKind::from_str(name, true).map_err(|_| {
            let known: Vec<String> = FaultKind::value_variants().iter().map(|k| k.name()).collect();
            TestEnvError::Invalid(format!("unknown fault {name:?}; known: {}", known.join(", ")))
        })?;
        Fault::new(kind, node, namespace, object)
    }
}

/// Injects `fault` into `cluster` and returns once it is visible through the API.
pub(crate) async fn inject(
    cluster: &TestCluster,
    fault: Fault,
) -> Result<FaultTarget, TestEnvError> {
    let client = cluster.client().await?;
    let ctx = Ctx { client, cluster };
    let default_node = |offset: usize| -> String {
        let n = cluster.node_count().max(1);
        crate::nodes::node_name((n - 1).saturating_sub(offset % n))
    };
    let at = |namespace: Option<String>, name: Option<String>, default: &str| {
        (
            namespace.unwrap_or_else(|| FAULTS_NAMESPACE.to_string()),
            name.unwrap_or_else(|| default.to_string()),
        )
    };
    match fault {
        Fault::NodeNotReady { node } => {
            nodes::not_ready(&ctx, &node.unwrap_or_else(|| default_node(0))).await
        }
        Fault::NodeCordoned { node } => {
            nodes::cordoned(&ctx, &node.unwrap_or_else(|| default_node(1))).await
        }
        Fault::NodeOldKubelet { node } => {
            nodes::old_kubelet(&ctx, &node.unwrap_or_else(|| default_node(2))).await
        }
        Fault::NodeLostLabel { node } => {
            nodes::lost_label(&ctx, &node.unwrap_or_else(|| default_node(3))).await
        }
        Fault::NodeNewTaint { node } => {
            nodes::new_taint(&ctx, &node.unwrap_or_else(|| default_node(4))).await
        }
        Fault::PodCrashLoop { namespace, name } => {
            let (ns, name) = at(namespace, name, "crash-loop");
            pods::waiting(&ctx, &ns, &name, "crash-loop", "CrashLoopBackOff").await
        }
        Fault::PodImagePull { namespace, name } => {
            let (ns, name) = at(namespace, name, "image-pull");
            pods::waiting(&ctx, &ns, &name, "image-pull", "ImagePullBackOff").await
        }
        Fault::PodPending { namespace, name } => {
            let (ns, name) = at(namespace, name, "unschedulable");
            pods::pending(&ctx, &ns, &name).await
        }
        Fault::DeploymentUnavailable { namespace, name } => {
            let (ns, name) = at(namespace, name, "unavailable");
            workloads::deployment_unavailable(&ctx, &ns, &name).await
        }
        Fault::DaemonSetMissingPod { namespace, name } => {
            let (ns, name) = at(namespace, name, "node-exporter");
            workloads::daemonset_missing_pod(&ctx, &ns, &name, &crate::nodes::node_name(0)).await
        }
        Fault::ServiceNoEndpoints { namespace, name } => {
            let (ns, name) = at(namespace, name, "checkout");
            services::no_endpoints(&ctx, &ns, &name).await
        }
        Fault::PvcPending { namespace, name } => {
            let (ns, name) = at(namespace, name, "unbound-claim");
            storage::pvc_pending(&ctx, &ns, &name).await
        }
        Fault::ApiServiceUnavailable { namespace, name } => {
            let (ns, name) = at(namespace, name, "metrics-gone");
            extensions::apiservice_unavailable(&ctx, &ns, &name).await
        }
        Fault::WebhookNoEndpoints { namespace, name } => {
            let (ns, name) = at(namespace, name, "admission-gone");
            extensions::webhook_no_endpoints(&ctx, &ns, &name).await
        }
        Fault::RemovedApiLastApplied { name, .. } => {
            let name = name.unwrap_or_else(|| "legacy-batch-jobs".into());
            removed_apis::last_applied(&ctx, &name).await
        }
        Fault::HelmReleaseRemovedApi { namespace, name } => {
            let (ns, name) = at(namespace, name, "legacy-pdb");
            removed_apis::helm_release(&ctx, &ns, &name).await
        }
        Fault::DnsScaledToZero { namespace, name } => {
            let ns = namespace.unwrap_or_else(|| "kube-system".into());
            system::dns_scaled_to_zero(&ctx, &ns, &name.unwrap_or_else(|| "coredns".into())).await
        }
        Fault::CniDaemonSetMissingPods { namespace, name } => {
            let ns = namespace.unwrap_or_else(|| "kube-system".into());
            let name = name.unwrap_or_else(|| "calico-node".into());
            system::cni_daemonset_missing_pods(&ctx, &ns, &name).await
        }
        Fault::ControllerManagerStopped => system::controller_manager_stopped(&ctx).await,
        Fault::NodeKubeletSkewAtTarget { node } => {
            nodes::kubelet_skew_at_target(&ctx, &node.unwrap_or_else(|| default_node(5))).await
        }
        Fault::PdbNoDisruption { namespace, name } => {
            let (ns, name) = at(namespace, name, "ledger");
            disruption::pdb_no_disruption(&ctx, &ns, &name).await
        }
        Fault::CrdStoredVersionNotServed { name } => {
            crds::stored_version_not_served(&ctx, &name.unwrap_or_else(|| "snapshots".into())).await
        }
        Fault::DeprecatedApiClient { name } => {
            crds::deprecated_api_client(&ctx, &name.unwrap_or_else(|| "widgets".into())).await
        }
    }
}

/// What every recipe works with: an admin client and the cluster (its nodes, versions).
struct Ctx<'a> {
    client: kube::Client,
    cluster: &'a TestCluster,
}

/// How often recipes poll the API while waiting for their fault to show.
const POLL: Duration = Duration::from_millis(250);

impl Ctx<'_> {
    async fn node(&self, name: &str) -> Result<Node, TestEnvError> {
        let api: Api<Node> = Api::all(self.client.clone());
        api.get(name).await.map_err(TestEnvError::kube(format!("reading node {name}")))
    }

    async fn ensure_namespace(&self, namespace: &str) -> Result<(), TestEnvError> {
        crate::workloads::ensure_namespace(&self.client, namespace).await
    }
}

/// The image a fault's Deployment runs (one that cannot be pulled for `image-pull`).
fn image_for(name: &str) -> String {
    match name {
        "image-pull" => "registry.example.com/shop/payments:9.9.9-missing".to_string(),
        _ => format!("ghcr.io/example/{name}:1.0.0"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_fault_name_round_trips_through_parse() {
        for kind in FaultKind::value_variants() {
            let (node, object) = match kind.aim() {
                Aim::Node => (Some("n1".to_string()), None),
                Aim::Object | Aim::Name => (None, Some("o".to_string())),
                Aim::Nothing => (None, None),
            };
            let fault = Fault::parse(&kind.name(), node, None, object).unwrap();
            assert_eq!(fault.kind(), *kind);
            assert_eq!(fault.name(), kind.name());
        }
        assert_eq!(FaultKind::value_variants().len(), 23);
    }

    #[test]
    fn names_are_the_documented_ones() {
        assert_eq!(FaultKind::ApiServiceUnavailable.name(), "apiservice-unavailable");
        assert_eq!(FaultKind::DaemonSetMissingPod.name(), "daemonset-missing-pod");
        assert_eq!(FaultKind::HelmReleaseRemovedApi.name(), "helm-release-removed-api");
        assert_eq!(
            Fault::parse("Node-Not-Ready", Some("n1".into()), None, None).unwrap(),
            Fault::NodeNotReady { node: Some("n1".into()) }
        );
    }

    #[test]
    fn a_target_of_the_wrong_sort_is_refused() {
        assert!(Fault::parse("node-cordoned", None, Some("ns".into()), None).is_err());
        assert!(Fault::parse("pvc-pending", Some("n".into()), None, None).is_err());
        assert!(Fault::parse("no-such-fault", None, None, None).is_err());
        assert!(Fault::parse("controller-manager-stopped", None, None, Some("x".into())).is_err());
        assert!(Fault::parse("deprecated-api-client", None, Some("ns".into()), None).is_err());
    }
}
