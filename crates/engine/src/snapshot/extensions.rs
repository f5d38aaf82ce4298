//! The compact API extensions: APIServices, the admission and CRD conversion webhooks that
//! call Services, and CRDs' served and stored versions.

use serde::{Deserialize, Serialize};

use super::{ServiceRef, Snapshot};

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

/// A CustomResourceDefinition's versions: which are served, which its objects are stored in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdVersions {
    /// `metadata.name` (`widgets.example.com`).
    pub name: String,
    /// The versions of `spec.versions` with `served: true`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub served: Vec<String>,
    /// `status.storedVersions`: every version objects may still be stored in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub stored: Vec<String>,
}

impl Snapshot {
    /// The CRDs' versions, or none when not gathered.
    pub fn crd_list(&self) -> &[CrdVersions] {
        self.crd_versions.ok().map_or(&[], Vec::as_slice)
    }

    /// The APIServices, or none when not gathered.
    pub fn api_service_list(&self) -> &[ApiService] {
        self.api_services.ok().map_or(&[], Vec::as_slice)
    }

    /// The webhooks that call Services, or none when not gathered.
    pub fn webhook_list(&self) -> &[Webhook] {
        self.webhooks.ok().map_or(&[], Vec::as_slice)
    }
}
