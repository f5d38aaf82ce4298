//! How a new node would join, as the Snapshot records it: the outcome of the node-join
//! action ([`NodeJoinOutcome`], produced by `crate::actions::node_join`: a kubelet client
//! certificate requested, approved, issued and read back) and the read-only evidence that
//! TLS bootstrap is configured ([`BootstrapToken`], [`BootstrapBinding`], gathered). Only
//! non-secret facts are kept: a bootstrap token's id, expiration, usages and groups, never
//! its secret half.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What one node-join run found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeJoinOutcome {
    /// The CertificateSigningRequest it created (and deleted).
    pub csr: String,
    /// The node name it asked a certificate for (`system:node:<node>`).
    pub node: String,
    /// The certificate the signer issued, as read back; `None` when none was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub certificate: Option<IssuedCertificate>,
    /// Why the path a new node takes did not complete (denied, failed, not issued in
    /// time, unreadable certificate): the item fails.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
    /// Why the run could not be set up (forbidden, no API): nothing was judged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub setup_error: Option<String>,
    /// What could not be cleaned up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cleanup_error: Option<String>,
    /// How long it waited, at most, for the signer, in milliseconds.
    pub wait_ms: u64,
    /// How long the run took, in milliseconds.
    pub elapsed_ms: u64,
}

/// The facts of an issued certificate that the `node-join` item judges.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct IssuedCertificate {
    /// The subject's common names.
    pub common_names: Vec<String>,
    /// The subject's organizations.
    pub organizations: Vec<String>,
    /// The issuer, as a distinguished name (empty when the certificate names none).
    pub issuer: String,
    /// Valid from.
    pub not_before: DateTime<Utc>,
    /// Valid until.
    pub not_after: DateTime<Utc>,
    /// Whether its extended key usage allows client authentication.
    pub client_auth: bool,
    /// Whether it certifies the public key of the request (not someone else's).
    pub key_matches: bool,
}

/// A bootstrap token Secret of kube-system (type `bootstrap.kubernetes.io/token`), without
/// its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapToken {
    /// The token's public id (`data.token-id`, or the Secret's name after `bootstrap-token-`).
    pub id: String,
    /// When it expires; `None`: never.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiration: Option<DateTime<Utc>>,
    /// Whether a `data.expiration` was given that does not parse (treated as expired).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub expiration_unreadable: bool,
    /// Its usages: `authentication`, `signing` (the `usage-bootstrap-*` keys set to true).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub usages: Vec<String>,
    /// The extra groups it authenticates as (`auth-extra-groups`), besides
    /// `system:bootstrappers`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub extra_groups: Vec<String>,
}

/// A ClusterRoleBinding granting a `system:bootstrappers` group (or one of its
/// `system:bootstrappers:…` subgroups) a role.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BootstrapBinding {
    /// The binding's name.
    pub name: String,
    /// The ClusterRole it grants.
    pub role: String,
    /// Its bootstrapper groups.
    pub groups: Vec<String>,
}

/// The group every bootstrap token authenticates as.
pub const BOOTSTRAPPERS: &str = "system:bootstrappers";
/// The ClusterRole that lets a bootstrapping kubelet create its CSR.
pub const NODE_BOOTSTRAPPER_ROLE: &str = "system:node-bootstrapper";
/// The ClusterRole the CSR approving controller checks to auto-approve a new node's CSR.
pub const NODE_CLIENT_AUTO_APPROVAL_ROLE: &str =
    "system:certificates.k8s.io:certificatesigningrequests:nodeclient";

impl BootstrapToken {
    /// Whether a kubelet can authenticate with it at `now`: not expired, and its usages
    /// include authentication.
    pub fn usable_at(&self, now: DateTime<Utc>) -> bool {
        !self.expiration_unreadable
            && self.expiration.is_none_or(|e| e > now)
            && self.usages.iter().any(|u| u == "authentication")
    }

    /// The groups it authenticates as: `system:bootstrappers` and its extra groups.
    pub fn groups(&self) -> impl Iterator<Item = &str> {
        std::iter::once(BOOTSTRAPPERS).chain(self.extra_groups.iter().map(String::as_str))
    }
}

impl BootstrapBinding {
    /// Whether the group `group` (a bootstrap token's) is granted `role` by this binding.
    pub fn grants(&self, role: &str, group: &str) -> bool {
        self.role == role && self.groups.iter().any(|g| g == group)
    }
}
