//! What the removed-APIs pass keeps: objects whose recorded configuration or managedFields
//! name an API version some rule removes, and Helm releases whose manifest does. Only the
//! parsed apiVersion of `last-applied-configuration` is kept, never the annotation; a Helm
//! release keeps only the manifest objects that match a rule.

use serde::{Deserialize, Serialize};

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
    /// Why the Helm releases could not be read, when they could not (their Secrets are
    /// forbidden: reading them is a deployment's choice, `rbac.helmReleases` in the chart);
    /// the objects were still checked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub helm_unavailable: Option<String>,
}
