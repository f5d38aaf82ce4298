//! The metadata that records how an object was written (last-applied-configuration,
//! managedFields), read metadata-only by the removed-APIs source.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde::de::IgnoredAny;

use super::null_default;

/// The annotations a check reads: `kubectl apply`'s record of the last applied object.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Annotations {
    /// `kubectl.kubernetes.io/last-applied-configuration`.
    #[serde(default, rename = "kubectl.kubernetes.io/last-applied-configuration")]
    pub(crate) last_applied: Option<String>,
}

/// One managedFields entry, without the field set itself except for whether it holds the
/// last-applied annotation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ManagedFields {
    /// The API version the manager wrote through.
    #[serde(default)]
    pub(crate) api_version: Option<String>,
    /// When.
    #[serde(default)]
    pub(crate) time: Option<DateTime<Utc>>,
    /// The subresource written (`status`, `scale`), empty for the object itself.
    #[serde(default)]
    pub(crate) subresource: Option<String>,
    /// The fields written, reduced to the one path a check reads.
    #[serde(default, rename = "fieldsV1")]
    pub(crate) fields: Option<FieldsV1>,
}

/// `fieldsV1`, reduced to `f:metadata` / `f:annotations` / `f:<last-applied>`.
#[derive(Debug, Deserialize)]
pub(crate) struct FieldsV1 {
    #[serde(default, rename = "f:metadata")]
    metadata: Option<FieldsMetadata>,
}

#[derive(Debug, Deserialize)]
struct FieldsMetadata {
    #[serde(default, rename = "f:annotations")]
    annotations: Option<FieldsAnnotations>,
}

#[derive(Debug, Deserialize)]
struct FieldsAnnotations {
    #[serde(default, rename = "f:kubectl.kubernetes.io/last-applied-configuration")]
    last_applied: Option<IgnoredAny>,
}

impl FieldsV1 {
    /// Whether these fields include the last-applied annotation.
    pub(crate) fn owns_last_applied(&self) -> bool {
        self.metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .is_some_and(|a| a.last_applied.is_some())
    }
}

/// A metadata-only object (`PartialObjectMetadata`), read for the API versions it was
/// written through.
#[derive(Debug, Deserialize)]
pub(crate) struct MetadataOnly {
    /// Its metadata.
    #[serde(default)]
    pub(crate) metadata: HistoryMeta,
}

/// The metadata that records how an object was written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct HistoryMeta {
    /// Namespace (absent for cluster-scoped objects).
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    /// Name.
    #[serde(default)]
    pub(crate) name: String,
    /// The one annotation a check reads.
    #[serde(default)]
    pub(crate) annotations: Option<Annotations>,
    /// Who wrote which fields, through which API version.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) managed_fields: Vec<ManagedFields>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_last_applied_path_of_managed_fields_is_read() {
        let entry: ManagedFields = serde_json::from_str(
            r#"{"manager":"kubectl","operation":"Update","apiVersion":"apps/v1","time":"2026-11-29T04:00:00Z",
                "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},
                "f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:spec":{"f:replicas":{}}}}"#,
        )
        .unwrap();
        assert!(entry.fields.as_ref().is_some_and(FieldsV1::owns_last_applied));
        let other: ManagedFields = serde_json::from_str(
            r#"{"apiVersion":"apps/v1","fieldsV1":{"f:metadata":{"f:labels":{}}}}"#,
        )
        .unwrap();
        assert!(!other.fields.as_ref().is_some_and(FieldsV1::owns_last_applied));
    }
}
