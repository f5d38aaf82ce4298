//! The compact Service: whether it selects pods and how many ready endpoints its
//! EndpointSlices list; and the reference to a Service that APIServices and webhooks make.

use serde::{Deserialize, Serialize};

use super::Snapshot;

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

impl Snapshot {
    /// The Services with their ready endpoints, or none when not gathered.
    pub fn service_list(&self) -> &[ServiceEndpoints] {
        self.services.ok().map_or(&[], Vec::as_slice)
    }

    /// The Service `namespace/name`.
    pub fn find_service(&self, namespace: &str, name: &str) -> Option<&ServiceEndpoints> {
        self.service_list().iter().find(|s| s.namespace == namespace && s.name == name)
    }
}
