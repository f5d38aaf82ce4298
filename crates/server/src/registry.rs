//! Registered clusters: the clusters a project may check, and their credentials.
//!
//! A registration carries either a kubeconfig (with an optional context) or an endpoint,
//! CA and bearer token. The credentials are sealed with the master key, bound to the
//! project and cluster, before they reach the store; what the API shows back is only the
//! cluster's ID, name and endpoint, never a credential. A kubeconfig is kept only as its
//! sanitized form; an endpoint must be allowed by the endpoint policy.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use postcheck_engine::access::ClusterCredentials;
use postcheck_store::{Store, StoredCluster};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::MasterKey;
use crate::domain::{ClusterId, ProjectId};
use crate::endpoint_policy::{Endpoint, EndpointPolicy};
use crate::error::ApiError;
use crate::tenant_kubeconfig::{KubeconfigPolicy, sanitize};

/// The body of `POST /api/v3/projects/{project_id}/clusters`.
#[derive(Clone, Default, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterRegistration {
    /// The cluster's ID (a UUID); one is made when absent.
    #[serde(rename = "clusterID", default)]
    pub cluster_id: Option<String>,
    /// A display name; the kubeconfig context or the endpoint's host when absent.
    #[serde(default)]
    pub name: Option<String>,
    /// A kubeconfig document (YAML or JSON).
    #[serde(default)]
    pub kubeconfig: Option<String>,
    /// The kubeconfig context to use; its current context when absent.
    #[serde(default)]
    pub context: Option<String>,
    /// `https://host:port` of the API server (with `token`, instead of a kubeconfig).
    #[serde(default)]
    pub endpoint: Option<String>,
    /// PEM of the CA that signs the API server's certificate (with `endpoint`).
    #[serde(default)]
    pub ca_pem: Option<String>,
    /// A bearer token (with `endpoint`).
    #[serde(default)]
    pub token: Option<String>,
}

impl std::fmt::Debug for ClusterRegistration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterRegistration")
            .field("cluster_id", &self.cluster_id)
            .field("name", &self.name)
            .field("endpoint", &self.endpoint)
            .finish_non_exhaustive()
    }
}

/// A registered cluster as the API shows it: no credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterView {
    /// Always `Cluster`.
    pub kind: String,
    /// Always `v3`.
    pub api_version: String,
    /// ID, name, creation time.
    pub metadata: ClusterMetadata,
    /// Where the cluster is.
    pub spec: ClusterSpecView,
}

/// `metadata` of a registered cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterMetadata {
    /// The cluster ID.
    pub uid: String,
    /// The display name.
    pub name: String,
    /// When it was registered.
    pub creation_timestamp: DateTime<Utc>,
}

/// `spec` of a registered cluster.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ClusterSpecView {
    /// The API server's address.
    pub endpoint: String,
}

/// A page of registered clusters, in CCE's list shape.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ClusterList {
    /// Always `List`.
    pub kind: String,
    /// Always `v3`.
    pub api_version: String,
    /// The clusters, oldest first.
    pub items: Vec<ClusterView>,
}

impl From<&StoredCluster> for ClusterView {
    fn from(c: &StoredCluster) -> Self {
        Self {
            kind: "Cluster".into(),
            api_version: "v3".into(),
            metadata: ClusterMetadata {
                uid: c.cluster_id.clone(),
                name: c.name.clone(),
                creation_timestamp: c.created_at,
            },
            spec: ClusterSpecView { endpoint: c.endpoint.clone() },
        }
    }
}

impl ClusterList {
    /// A list page of clusters.
    pub fn of(clusters: &[StoredCluster]) -> Self {
        Self {
            kind: "List".into(),
            api_version: "v3".into(),
            items: clusters.iter().map(ClusterView::from).collect(),
        }
    }
}

/// What sealed credentials are bound to.
fn credentials_purpose(project: &str, cluster: &str) -> String {
    format!("postcheck:cluster-credentials:{project}/{cluster}")
}

/// What a registration must respect: the service's policies and quota.
#[derive(Debug, Clone)]
pub struct RegistrationPolicy {
    /// What a kubeconfig may hold.
    pub kubeconfigs: KubeconfigPolicy,
    /// Where an endpoint may point.
    pub endpoints: Arc<EndpointPolicy>,
    /// How many clusters one project may register.
    pub max_clusters_per_project: u32,
}

/// The longest display name accepted, in characters.
pub const MAX_NAME_CHARS: usize = 128;
/// The longest context name accepted, in characters.
pub const MAX_CONTEXT_CHARS: usize = 253;
/// The longest bearer token accepted, in bytes.
pub const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Checks a registration and stores it with its credentials sealed: a kubeconfig is
/// reduced to its chosen context with inline credentials only
/// ([`crate::tenant_kubeconfig`]), and the endpoint must be one the policy allows
/// ([`crate::endpoint_policy`]), resolved now.
pub async fn register(
    store: &dyn Store,
    key: &MasterKey,
    policy: &RegistrationPolicy,
    project: &ProjectId,
    registration: ClusterRegistration,
) -> Result<StoredCluster, ApiError> {
    let invalid = ApiError::InvalidRequest;
    let cluster_id = match registration.cluster_id.as_deref() {
        Some(id) => ClusterId::parse(id).map_err(|e| invalid(format!("clusterID: {e}.")))?,
        None => ClusterId::random(),
    };
    let name = registration.name.filter(|n| !n.trim().is_empty());
    if name.as_ref().is_some_and(|n| n.chars().count() > MAX_NAME_CHARS) {
        return Err(invalid(format!("name is longer than {MAX_NAME_CHARS} characters.")));
    }
    if registration.context.as_ref().is_some_and(|c| c.chars().count() > MAX_CONTEXT_CHARS) {
        return Err(invalid(format!("context is longer than {MAX_CONTEXT_CHARS} characters.")));
    }
    let (credentials, endpoint, default_name) = match (
        registration.kubeconfig,
        registration.endpoint,
        registration.token,
    ) {
        (Some(kubeconfig), None, None) => {
            let safe = sanitize(&kubeconfig, registration.context.as_deref(), policy.kubeconfigs)
                .map_err(|e| invalid(format!("{e}.")))?;
            let endpoint = Endpoint::parse(&safe.server)
                .map_err(|e| invalid(format!("kubeconfig server: {e}.")))?;
            let credentials = ClusterCredentials::Kubeconfig {
                kubeconfig: safe.document,
                context: Some(safe.context.clone()),
            };
            (credentials, endpoint, safe.context)
        }
        (None, Some(text), Some(token)) => {
            let endpoint =
                Endpoint::parse(&text).map_err(|e| invalid(format!("endpoint: {e}.")))?;
            if token.trim().is_empty() || token.len() > MAX_TOKEN_BYTES {
                return Err(invalid(format!("token must be 1 to {MAX_TOKEN_BYTES} bytes.")));
            }
            let host = endpoint.host().to_owned();
            let credentials = ClusterCredentials::Token {
                endpoint: endpoint.as_str().to_owned(),
                ca_pem: registration.ca_pem,
                token,
            };
            (credentials, endpoint, host)
        }
        _ => {
            return Err(invalid(
                    "Give either kubeconfig (and optionally context), or endpoint and token (and optionally caPem).".into(),
                ));
        }
    };
    policy.endpoints.resolve(&endpoint).await.map_err(|e| invalid(format!("{e}.")))?;
    let plaintext = serde_json::to_vec(&credentials)
        .map_err(|e| ApiError::internal("encoding credentials", e))?;
    let sealed = key
        .seal(&credentials_purpose(project.as_str(), cluster_id.as_str()), &plaintext)
        .map_err(|e| ApiError::internal("encrypting credentials", e))?;
    let default_name: String = default_name.chars().take(MAX_NAME_CHARS).collect();
    let cluster = StoredCluster {
        project_id: project.to_string(),
        cluster_id: cluster_id.to_string(),
        name: name.unwrap_or(default_name),
        endpoint: endpoint.as_str().to_owned(),
        encrypted_credentials: sealed,
        created_at: Utc::now(),
    };
    store.create_cluster(&cluster, policy.max_clusters_per_project).await?;
    Ok(cluster)
}

/// Opens the sealed credentials of a registered cluster.
pub fn credentials_of(
    key: &MasterKey,
    cluster: &StoredCluster,
) -> Result<ClusterCredentials, String> {
    let plain = key
        .open(&credentials_purpose(&cluster.project_id, &cluster.cluster_id), &cluster.encrypted_credentials)
        .map_err(|e| format!("the stored credentials of the cluster could not be read ({e}); was the encryption key changed?"))?;
    serde_json::from_slice(&plain)
        .map_err(|e| format!("the stored credentials of the cluster are not readable: {e}"))
}

/// Seals `credentials` for a cluster as [`register`] does (for tools and tests that write
/// rows directly).
pub fn seal_credentials(
    key: &MasterKey,
    project: &str,
    cluster: &str,
    credentials: &ClusterCredentials,
) -> Result<Vec<u8>, ApiError> {
    let plaintext = serde_json::to_vec(credentials)
        .map_err(|e| ApiError::internal("encoding credentials", e))?;
    key.seal(&credentials_purpose(project, cluster), &plaintext)
        .map_err(|e| ApiError::internal("encrypting credentials", e))
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: one
clusters:
- name: c1
  cluster: {server: "https://127.0.0.1:6443"}
- name: c2
  cluster: {server: "https://10.0.0.2:6443"}
contexts:
- name: one
  context: {cluster: c1, user: u}
- name: two
  context: {cluster: c2, user: u}
users:
- name: u
  user: {token: secret-token-value}
"#;

    #[test]
    fn the_view_of_a_cluster_shows_no_credential() {
        let key = MasterKey::generate().unwrap();
        let creds = ClusterCredentials::Kubeconfig { kubeconfig: KUBECONFIG.into(), context: None };
        let sealed =
            key.seal(&credentials_purpose("p", "c"), &serde_json::to_vec(&creds).unwrap()).unwrap();
        let stored = StoredCluster {
            project_id: "p".into(),
            cluster_id: "c".into(),
            name: "one".into(),
            endpoint: "https://127.0.0.1:6443".into(),
            encrypted_credentials: sealed,
            created_at: Utc::now(),
        };
        let shown = serde_json::to_string(&ClusterView::from(&stored)).unwrap();
        assert!(
            !shown.contains("secret-token-value") && shown.contains("127.0.0.1:6443"),
            "{shown}"
        );
        match credentials_of(&key, &stored).unwrap() {
            ClusterCredentials::Kubeconfig { kubeconfig, .. } => {
                assert!(kubeconfig.contains("secret-token-value"))
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
