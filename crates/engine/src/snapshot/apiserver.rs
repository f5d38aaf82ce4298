//! What the API server says about itself beyond `/version` and health: the deprecated APIs
//! clients still call (its `apiserver_requested_deprecated_apis` metric) and the serving
//! certificate it presents (read from a TLS handshake).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Snapshot;

/// One series of `apiserver_requested_deprecated_apis`: a deprecated API version that a
/// client requested since the API server started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DeprecatedApiCall {
    /// The API group (empty for the core group).
    #[serde(default)]
    pub group: String,
    /// The deprecated version.
    pub version: String,
    /// The resource (`widgets`).
    pub resource: String,
    /// The subresource, when one was called.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub subresource: String,
    /// The release the version is removed in (`1.38`), when the API server says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub removed_release: Option<String>,
}

impl DeprecatedApiCall {
    /// The API's path, as CCE's `deprecatedAPIRisks[].url` names it.
    pub fn url(&self) -> String {
        let base = if self.group.is_empty() {
            format!("/api/{}/{}", self.version, self.resource)
        } else {
            format!("/apis/{}/{}/{}", self.group, self.version, self.resource)
        };
        if self.subresource.is_empty() { base } else { format!("{base}/{}", self.subresource) }
    }
}

/// The leaf certificate the API server presented in a TLS handshake.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServingCertificate {
    /// Where the handshake went (`host:port`).
    pub endpoint: String,
    /// The certificate's subject.
    pub subject: String,
    /// The start of its validity.
    pub not_before: DateTime<Utc>,
    /// The end of its validity.
    pub not_after: DateTime<Utc>,
}

impl Snapshot {
    /// The deprecated APIs called, or none when not gathered.
    pub fn deprecated_api_calls(&self) -> &[DeprecatedApiCall] {
        self.deprecated_apis.ok().map_or(&[], Vec::as_slice)
    }

    /// The serving certificates read, or none when not gathered.
    pub fn serving_certificates(&self) -> &[ServingCertificate] {
        self.serving_cert.ok().map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_name_the_core_group_and_named_groups_as_the_api_does() {
        let call = |group: &str, sub: &str| DeprecatedApiCall {
            group: group.into(),
            version: "v1beta1".into(),
            resource: "widgets".into(),
            subresource: sub.into(),
            removed_release: None,
        };
        assert_eq!(
            call("faults.postcheck.dev", "").url(),
            "/apis/faults.postcheck.dev/v1beta1/widgets"
        );
        assert_eq!(call("", "status").url(), "/api/v1beta1/widgets/status");
    }
}
