//! The Snapshot: what one gathering pass learned about a cluster, kept compact.
//!
//! Checks judge a Snapshot, never the API, so every check is a pure function that unit
//! tests feed with hand-built snapshots (see [`crate::fixture`]). The same type, written to
//! a file, is the pre-upgrade baseline (`postcheck baseline -o FILE`), so it is versioned
//! with `snapshotVersion` and records when it was taken and what the API server said.
//!
//! Only the fields some check reads are kept: never whole k8s-openapi objects, so that a
//! cluster with 150,000 pods still fits in little memory. Each list is a [`Gathered`]: it
//! was listed, it could not be (forbidden, absent: the reason is kept), or it was not asked
//! for. Later lists (workloads, services, storage, API extensions) are added as new
//! `#[serde(default)]` fields, so older baseline files still read.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The snapshot format this build writes. Readers accept this version and older ones.
pub const SNAPSHOT_VERSION: u32 = 1;

/// One gathering pass over a cluster.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Snapshot {
    /// The format version ([`SNAPSHOT_VERSION`] when written by this build).
    pub snapshot_version: u32,
    /// When the pass started, by the local clock.
    pub taken_at: DateTime<Utc>,
    /// The API server's clock (its `Date` header) when the pass started; ages of leases
    /// and pods are measured against it so a skewed local clock does not matter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_time: Option<DateTime<Utc>>,
    /// The API server's `gitVersion` from `/version`.
    #[serde(default)]
    pub server_version: Gathered<String>,
    /// The individual checks of `/readyz?verbose` and `/livez?verbose`.
    #[serde(default)]
    pub health: Gathered<Vec<HealthCheck>>,
    /// Every node.
    #[serde(default)]
    pub nodes: Gathered<Vec<Node>>,
    /// Every pod, in all namespaces.
    #[serde(default)]
    pub pods: Gathered<Vec<Pod>>,
    /// The Leases of `kube-system` (leader election of the control plane).
    #[serde(default)]
    pub leases: Gathered<Vec<Lease>>,
    /// Deployments, StatefulSets and DaemonSets.
    #[serde(default)]
    pub workloads: Gathered<Vec<crate::snapshot_objects::Workload>>,
    /// Services (but ExternalName ones) and their ready endpoints.
    #[serde(default)]
    pub services: Gathered<Vec<crate::snapshot_objects::ServiceEndpoints>>,
    /// PersistentVolumeClaims.
    #[serde(default)]
    pub claims: Gathered<Vec<crate::snapshot_objects::Claim>>,
    /// APIServices.
    #[serde(default)]
    pub api_services: Gathered<Vec<crate::snapshot_objects::ApiService>>,
    /// Admission and CRD conversion webhooks that call Services.
    #[serde(default)]
    pub webhooks: Gathered<Vec<crate::snapshot_objects::Webhook>>,
    /// Objects and Helm releases recorded with removed API versions.
    #[serde(default)]
    pub removed_apis: Gathered<crate::snapshot_objects::RemovedApiUses>,
    /// Warning events.
    #[serde(default)]
    pub events: Gathered<Vec<crate::snapshot_objects::WarningEvent>>,
    /// The synthetic pod's run (opt-in; never part of a baseline).
    #[serde(default)]
    pub synthetic: Gathered<crate::synthetic::SyntheticOutcome>,
}

impl Snapshot {
    /// An empty snapshot taken `at`, with nothing gathered.
    pub fn empty(at: DateTime<Utc>) -> Self {
        Self {
            snapshot_version: SNAPSHOT_VERSION,
            taken_at: at,
            server_time: None,
            server_version: Gathered::NotGathered,
            health: Gathered::NotGathered,
            nodes: Gathered::NotGathered,
            pods: Gathered::NotGathered,
            leases: Gathered::NotGathered,
            workloads: Gathered::NotGathered,
            services: Gathered::NotGathered,
            claims: Gathered::NotGathered,
            api_services: Gathered::NotGathered,
            webhooks: Gathered::NotGathered,
            removed_apis: Gathered::NotGathered,
            events: Gathered::NotGathered,
            synthetic: Gathered::NotGathered,
        }
    }

    /// "Now" for ages: the API server's clock when known, the local one otherwise.
    pub fn now(&self) -> DateTime<Utc> {
        self.server_time.unwrap_or(self.taken_at)
    }

    /// Whether `source` was gathered; the reason when it was not.
    pub fn availability(&self, source: Source) -> Result<(), String> {
        let state = match source {
            Source::Version => self.server_version.state(),
            Source::Health => self.health.state(),
            Source::Nodes => self.nodes.state(),
            Source::Pods => self.pods.state(),
            Source::Leases => self.leases.state(),
            Source::Workloads => self.workloads.state(),
            Source::Services => self.services.state(),
            Source::Claims => self.claims.state(),
            Source::ApiServices => self.api_services.state(),
            Source::Webhooks => self.webhooks.state(),
            Source::RemovedApis => self.removed_apis.state(),
            Source::Events => self.events.state(),
            Source::Synthetic => self.synthetic.state(),
        };
        match state {
            Ok(()) => Ok(()),
            Err(None) => Err(format!("{} were not gathered", source.describe())),
            Err(Some(u)) => Err(format!("{} could not be read: {}", source.describe(), u.reason)),
        }
    }

    /// The nodes, or none when they were not gathered.
    pub fn node_list(&self) -> &[Node] {
        self.nodes.ok().map_or(&[], Vec::as_slice)
    }

    /// The pods, or none when they were not gathered.
    pub fn pod_list(&self) -> &[Pod] {
        self.pods.ok().map_or(&[], Vec::as_slice)
    }

    /// The kube-system Leases, or none when they were not gathered.
    pub fn lease_list(&self) -> &[Lease] {
        self.leases.ok().map_or(&[], Vec::as_slice)
    }

    /// A node by name.
    pub fn find_node(&self, name: &str) -> Option<&Node> {
        self.node_list().iter().find(|n| n.name == name)
    }
}

/// What a gathering pass can read. Each check declares the sources it needs; a pass
/// reads only what the selected checks need (a baseline reads everything).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Source {
    /// `/version`; always read: it is how we learn the cluster can be examined at all.
    Version,
    /// `/readyz?verbose` and `/livez?verbose`.
    Health,
    /// The node list.
    Nodes,
    /// The pod list, all namespaces.
    Pods,
    /// The Leases of kube-system.
    Leases,
    /// Deployments, StatefulSets and DaemonSets, all namespaces.
    Workloads,
    /// Services and their EndpointSlices, all namespaces.
    Services,
    /// PersistentVolumeClaims, all namespaces.
    Claims,
    /// APIServices.
    ApiServices,
    /// Validating and mutating webhook configurations, and CRDs' conversion webhooks.
    Webhooks,
    /// Metadata of the kinds of the removed-API rules, and Helm v3 release Secrets.
    RemovedApis,
    /// Warning events, all namespaces.
    Events,
    /// The synthetic pod's run: an action, opt-in, so not in [`Source::ALL`].
    Synthetic,
}

impl Source {
    /// Every source, in gathering order.
    pub const ALL: [Source; 12] = [
        Source::Version,
        Source::Health,
        Source::Nodes,
        Source::Pods,
        Source::Leases,
        Source::Workloads,
        Source::Services,
        Source::Claims,
        Source::ApiServices,
        Source::Webhooks,
        Source::RemovedApis,
        Source::Events,
    ];

    /// The source's name in progress lines and the catalogue.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Version => "version",
            Self::Health => "health",
            Self::Nodes => "nodes",
            Self::Pods => "pods",
            Self::Leases => "leases",
            Self::Workloads => "workloads",
            Self::Services => "services",
            Self::Claims => "claims",
            Self::ApiServices => "apiservices",
            Self::Webhooks => "webhooks",
            Self::RemovedApis => "removed-apis",
            Self::Events => "events",
            Self::Synthetic => "synthetic",
        }
    }

    /// The source in a sentence ("the nodes were not gathered").
    pub fn describe(self) -> &'static str {
        match self {
            Self::Version => "the API server's version",
            Self::Health => "the API server's health checks",
            Self::Nodes => "the nodes",
            Self::Pods => "the pods",
            Self::Leases => "the kube-system Leases",
            Self::Workloads => "the Deployments, StatefulSets and DaemonSets",
            Self::Services => "the Services and EndpointSlices",
            Self::Claims => "the PersistentVolumeClaims",
            Self::ApiServices => "the APIServices",
            Self::Webhooks => "the webhook configurations and CRDs",
            Self::RemovedApis => "the objects and Helm releases checked for removed APIs",
            Self::Events => "the Warning events",
            Self::Synthetic => "the synthetic pod's run",
        }
    }
}

/// The outcome of reading one source.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Gathered<T> {
    /// No selected check needed it.
    #[default]
    NotGathered,
    /// Read in full.
    Ok(T),
    /// Could not be read; the checks that need it report that they could not run.
    Unavailable(Unavailable),
}

/// Why a source could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unavailable {
    /// The HTTP status, when the API server answered (403 forbidden, 404 absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// What went wrong, for a person.
    pub reason: String,
}

impl<T> Gathered<T> {
    /// The value, when it was read.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Self::Ok(v) => Some(v),
            _ => None,
        }
    }

    /// `Ok` when read; `Err(None)` when not asked for; `Err(Some(why))` when unreadable.
    pub fn state(&self) -> Result<(), Option<&Unavailable>> {
        match self {
            Self::Ok(_) => Ok(()),
            Self::NotGathered => Err(None),
            Self::Unavailable(u) => Err(Some(u)),
        }
    }
}

/// One line of `/readyz?verbose` or `/livez?verbose` (`[+]ping ok`, `[-]etcd failed: ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// `readyz` or `livez`.
    pub endpoint: String,
    /// The check's name (`etcd`, `poststarthook/start-apiextensions-controllers`).
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// The rest of the line (`ok`, `failed: reason withheld`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The fields of a Node that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Node {
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// `spec.taints`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub taints: Vec<Taint>,
    /// `spec.unschedulable` (cordoned).
    #[serde(default)]
    pub unschedulable: bool,
    /// `status.conditions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub conditions: Vec<Condition>,
    /// `status.nodeInfo.kubeletVersion`.
    #[serde(default)]
    pub kubelet_version: String,
    /// `status.nodeInfo.kubeProxyVersion` (deprecated; often empty, then not judged).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub kube_proxy_version: String,
}

impl Node {
    /// The condition of type `kind` (`Ready`, `MemoryPressure`...).
    pub fn condition(&self, kind: &str) -> Option<&Condition> {
        self.conditions.iter().find(|c| c.kind == kind)
    }

    /// Whether the node's `Ready` condition is `True`.
    pub fn is_ready(&self) -> bool {
        self.condition("Ready").is_some_and(|c| c.status == "True")
    }
}

/// A node taint.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Taint {
    /// The key.
    pub key: String,
    /// The value, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<String>,
    /// `NoSchedule`, `PreferNoSchedule` or `NoExecute`.
    pub effect: String,
}

impl std::fmt::Display for Taint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.value {
            Some(v) => write!(f, "{}={}:{}", self.key, v, self.effect),
            None => write!(f, "{}:{}", self.key, self.effect),
        }
    }
}

/// A status condition (of a node or a pod).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Condition {
    /// The condition's type (`Ready`, `DiskPressure`...).
    #[serde(rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    pub status: String,
    /// The machine-readable reason.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The human message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

impl Condition {
    /// `Ready is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)`.
    pub fn describe(&self) -> String {
        let mut s = format!("{} is {}", self.kind, self.status);
        match (&self.reason, &self.message) {
            (Some(r), Some(m)) if !m.is_empty() => s.push_str(&format!(" ({r}: {m})")),
            (Some(r), _) => s.push_str(&format!(" ({r})")),
            (None, Some(m)) if !m.is_empty() => s.push_str(&format!(" ({m})")),
            _ => {}
        }
        s
    }
}

/// The fields of a Pod that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pod {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `metadata.labels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The controlling owner (`DaemonSet/kube-proxy`, `ReplicaSet/coredns-5d78c9869d`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub owner: Option<Owner>,
    /// `metadata.creationTimestamp`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<DateTime<Utc>>,
    /// `metadata.deletionTimestamp`: when the pod is due to be gone (Terminating).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deleting: Option<DateTime<Utc>>,
    /// `spec.nodeName`; absent until scheduled.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub node_name: Option<String>,
    /// `spec.priorityClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub priority_class: Option<String>,
    /// `status.phase`: `Pending`, `Running`, `Succeeded`, `Failed`, `Unknown`.
    pub phase: String,
    /// Whether the pod's `Ready` condition is `True`.
    #[serde(default)]
    pub ready: bool,
    /// Why the pod is not scheduled (`PodScheduled` False: reason and message).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unschedulable: Option<String>,
    /// Each container's state.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub containers: Vec<Container>,
}

/// A pod's controlling owner.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Owner {
    /// The owner's kind.
    pub kind: String,
    /// The owner's name.
    pub name: String,
}

/// The fields of a container (spec and status merged) that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Container {
    /// The container's name.
    pub name: String,
    /// The image, as the spec names it.
    #[serde(default)]
    pub image: String,
    /// Whether the container is ready.
    #[serde(default)]
    pub ready: bool,
    /// How many times it restarted.
    #[serde(default)]
    pub restart_count: i32,
    /// Why it is waiting (`CrashLoopBackOff`, `ImagePullBackOff`), when it is.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub waiting_reason: Option<String>,
    /// Why it last terminated (`Error`, `OOMKilled`), when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_terminated_reason: Option<String>,
}

/// The fields of a Lease that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.holderIdentity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// `spec.renewTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<DateTime<Utc>>,
    /// `spec.leaseDurationSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i32>,
}
