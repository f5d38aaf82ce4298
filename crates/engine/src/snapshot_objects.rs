//! The compact forms of the objects the second half of the catalogue judges: workloads,
//! Services with their ready endpoints, PersistentVolumeClaims, API extensions (APIServices,
//! admission webhooks, CRD conversion webhooks), uses of removed API versions and Warning
//! events.
//!
//! Kept apart from [`crate::snapshot`] so each file has one job; the [`Snapshot`] holds them
//! as `#[serde(default)]` fields, so baselines written before they existed still read. As
//! there, only the fields some check reads are kept: a removed-API use keeps the parsed
//! apiVersion of `last-applied-configuration`, never the annotation; a Helm release keeps
//! only the manifest objects that match a removal rule.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::snapshot::Snapshot;

/// A Deployment, StatefulSet or DaemonSet: desired against ready, available and updated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Workload {
    /// `Deployment`, `StatefulSet` or `DaemonSet`.
    pub kind: String,
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// Replicas wanted (`spec.replicas`; a DaemonSet's `desiredNumberScheduled`).
    pub desired: i32,
    /// Ready replicas.
    #[serde(default)]
    pub ready: i32,
    /// Available replicas.
    #[serde(default)]
    pub available: i32,
    /// Replicas on the current template; `None` when the update strategy is `OnDelete`
    /// (then old replicas are expected).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated: Option<i32>,
    /// The `Progressing` condition's message when its reason is `ProgressDeadlineExceeded`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stuck: Option<String>,
}

impl Workload {
    /// Whether every wanted replica is ready, available and updated.
    pub fn is_complete(&self) -> bool {
        self.shortfall().is_none() && self.stuck.is_none()
    }

    /// What is short (`1/3 available, 2/3 ready`), or `None` when nothing is.
    pub fn shortfall(&self) -> Option<String> {
        let d = self.desired;
        let mut parts = Vec::new();
        if self.available < d {
            parts.push(format!("{}/{d} available", self.available));
        }
        if self.ready < d {
            parts.push(format!("{}/{d} ready", self.ready));
        }
        if let Some(u) = self.updated.filter(|u| *u < d) {
            parts.push(format!("{u}/{d} updated"));
        }
        if parts.is_empty() { None } else { Some(parts.join(", ")) }
    }
}

/// A Service (not ExternalName), and how many ready endpoints its EndpointSlices list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceEndpoints {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// Whether `spec.selector` is set (without one, endpoints are managed by hand).
    #[serde(default)]
    pub has_selector: bool,
    /// Endpoints whose `conditions.ready` is true (or unset, which means ready).
    #[serde(default)]
    pub ready: u32,
}

/// A PersistentVolumeClaim's phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `status.phase`: `Pending`, `Bound` or `Lost`.
    pub phase: String,
}

/// A reference to a Service by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceRef {
    /// The Service's namespace.
    pub namespace: String,
    /// The Service's name.
    pub name: String,
}

impl std::fmt::Display for ServiceRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.namespace, self.name)
    }
}

/// An APIService and its `Available` condition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiService {
    /// `metadata.name` (`v1beta1.metrics.k8s.io`).
    pub name: String,
    /// The backing Service; `None` for APIServices the API server serves itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub service: Option<ServiceRef>,
    /// Whether `Available` is `True`.
    pub available: bool,
    /// The condition's reason and message, when not available.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// A webhook that calls a Service: an admission webhook or a CRD's conversion webhook.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Webhook {
    /// `ValidatingWebhookConfiguration`, `MutatingWebhookConfiguration` or
    /// `CustomResourceDefinition`.
    pub owner_kind: String,
    /// The configuration's (or CRD's) name.
    pub owner_name: String,
    /// The webhook's name inside the configuration (the CRD's name for conversions).
    pub name: String,
    /// Whether a call that fails rejects the request (`failurePolicy: Fail`; always true
    /// for conversion webhooks: a failed conversion fails the request).
    pub fails_closed: bool,
    /// The Service it calls (webhooks that call a URL are not kept).
    pub service: ServiceRef,
}

/// An object whose recorded configuration uses an API version some rule removes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ApiUse {
    /// The object's kind.
    pub kind: String,
    /// Its namespace, for namespaced objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// Its name.
    pub name: String,
    /// The `apiVersion` of `kubectl.kubernetes.io/last-applied-configuration`, when set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_applied: Option<String>,
    /// The managedFields entries of the object itself (not of a subresource), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub managed: Vec<ManagedEntry>,
}

/// One managedFields entry, reduced to what tells whether an object was migrated.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedEntry {
    /// The apiVersion the manager wrote through.
    pub api_version: String,
    /// Whether this entry owns the last-applied-configuration annotation (it is the
    /// client-side apply that wrote it).
    #[serde(default)]
    pub owns_last_applied: bool,
}

/// The latest deployed revision of a Helm v3 release, reduced to its manifest objects that
/// match a removal rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HelmRelease {
    /// The release's namespace.
    pub namespace: String,
    /// The release's name.
    pub name: String,
    /// The revision.
    pub version: i64,
    /// `deployed`, `failed`, `superseded`...
    pub status: String,
    /// The manifest's objects whose apiVersion and kind match a rule.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ManifestObject>,
}

/// One document of a Helm manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManifestObject {
    /// Its `apiVersion`.
    pub api_version: String,
    /// Its `kind`.
    pub kind: String,
    /// Its `metadata.name`.
    pub name: String,
}

/// What the removed-APIs pass found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RemovedApiUses {
    /// Objects whose last-applied configuration or managedFields name a removed version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub objects: Vec<ApiUse>,
    /// Helm releases whose manifest uses a removed version.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<HelmRelease>,
}

/// A Warning event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarningEvent {
    /// The event's namespace.
    pub namespace: String,
    /// The involved object's kind.
    pub kind: String,
    /// The involved object's name.
    pub name: String,
    /// The machine-readable reason (`BackOff`, `FailedScheduling`).
    pub reason: String,
    /// The message, cut to 300 characters.
    #[serde(default)]
    pub message: String,
    /// How many times it happened.
    #[serde(default)]
    pub count: i32,
    /// When it last happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
}

impl Snapshot {
    /// The workloads, or none when they were not gathered.
    pub fn workload_list(&self) -> &[Workload] {
        self.workloads.ok().map_or(&[], Vec::as_slice)
    }

    /// The Services with their ready endpoints, or none when not gathered.
    pub fn service_list(&self) -> &[ServiceEndpoints] {
        self.services.ok().map_or(&[], Vec::as_slice)
    }

    /// The Service `namespace/name`.
    pub fn find_service(&self, namespace: &str, name: &str) -> Option<&ServiceEndpoints> {
        self.service_list().iter().find(|s| s.namespace == namespace && s.name == name)
    }

    /// The PersistentVolumeClaims, or none when not gathered.
    pub fn claim_list(&self) -> &[Claim] {
        self.claims.ok().map_or(&[], Vec::as_slice)
    }

    /// The APIServices, or none when not gathered.
    pub fn api_service_list(&self) -> &[ApiService] {
        self.api_services.ok().map_or(&[], Vec::as_slice)
    }

    /// The webhooks that call Services, or none when not gathered.
    pub fn webhook_list(&self) -> &[Webhook] {
        self.webhooks.ok().map_or(&[], Vec::as_slice)
    }

    /// The Warning events, or none when not gathered.
    pub fn event_list(&self) -> &[WarningEvent] {
        self.events.ok().map_or(&[], Vec::as_slice)
    }
}
