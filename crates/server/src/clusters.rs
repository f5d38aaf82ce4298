//! Registered clusters: the clusters a project may check, and their credentials.
//!
//! A registration carries either a kubeconfig (with an optional context) or an endpoint,
//! CA and bearer token. The credentials are sealed with the master key, bound to the
//! project and cluster, before they reach the store; what the API shows back is only the
//! cluster's ID, name and endpoint, never a credential.

use chrono::{DateTime, Utc};
use kube::config::Kubeconfig;
use postcheck_engine::access::ClusterCredentials;
use postcheck_store::{Store, StoredCluster};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::crypto::MasterKey;
use crate::domain::{ClusterId, ProjectId};
use crate::error::ApiError;

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

/// Checks a registration and stores it with its credentials sealed.
pub async fn register(
    store: &dyn Store,
    key: &MasterKey,
    project: &ProjectId,
    registration: ClusterRegistration,
) -> Result<StoredCluster, ApiError> {
    let invalid = ApiError::InvalidRequest;
    let cluster_id = match registration.cluster_id.as_deref() {
        Some(id) => ClusterId::parse(id).map_err(|e| invalid(format!("clusterID: {e}.")))?,
        None => ClusterId::random(),
    };
    let (credentials, endpoint, default_name) = match (registration.kubeconfig, registration.endpoint, registration.token) {
        (Some(kubeconfig), None, None) => {
            let (endpoint, context) = kubeconfig_endpoint(&kubeconfig, registration.context.as_deref()).map_err(invalid)?;
            (ClusterCredentials::Kubeconfig { kubeconfig, context: registration.context }, endpoint, context)
        }
        (None, Some(endpoint), Some(token)) => {
            let uri: http::Uri = endpoint.parse().map_err(|_| invalid(format!("endpoint {endpoint:?} is not a URL.")))?;
            if !matches!(uri.scheme_str(), Some("https" | "http")) || uri.host().is_none() {
                return Err(invalid(format!("endpoint {endpoint:?} must look like https://host:port.")));
            }
            if token.trim().is_empty() {
                return Err(invalid("token must not be empty.".into()));
            }
            let host = uri.host().unwrap_or_default().to_owned();
            (ClusterCredentials::Token { endpoint: endpoint.clone(), ca_pem: registration.ca_pem, token }, endpoint, host)
        }
        _ => return Err(invalid("Give either kubeconfig (and optionally context), or endpoint and token (and optionally caPem).".into())),
    };
    let plaintext = serde_json::to_vec(&credentials)
        .map_err(|e| ApiError::internal("encoding credentials", e))?;
    let sealed = key
        .seal(&credentials_purpose(project.as_str(), cluster_id.as_str()), &plaintext)
        .map_err(|e| ApiError::internal("encrypting credentials", e))?;
    let cluster = StoredCluster {
        project_id: project.to_string(),
        cluster_id: cluster_id.to_string(),
        name: registration.name.filter(|n| !n.trim().is_empty()).unwrap_or(default_name),
        endpoint,
        encrypted_credentials: sealed,
        created_at: Utc::now(),
    };
    store.create_cluster(&cluster).await?;
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

/// The API server address and the context name a kubeconfig points at.
fn kubeconfig_endpoint(text: &str, context: Option<&str>) -> Result<(String, String), String> {
    let config = Kubeconfig::from_yaml(text)
        .map_err(|e| format!("kubeconfig is not a readable kubeconfig: {e}."))?;
    let context_name = context
        .map(str::to_owned)
        .or_else(|| config.current_context.clone())
        .ok_or("kubeconfig has no current-context; give context.")?;
    let named = config
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .ok_or_else(|| format!("kubeconfig has no context {context_name:?}."))?;
    let cluster_name = named
        .context
        .as_ref()
        .map(|c| c.cluster.clone())
        .ok_or_else(|| format!("context {context_name:?} names no cluster."))?;
    let server = config
        .clusters
        .iter()
        .find(|c| c.name == cluster_name)
        .and_then(|c| c.cluster.as_ref())
        .and_then(|c| c.server.clone())
        .ok_or_else(|| format!("kubeconfig has no server for cluster {cluster_name:?}."))?;
    Ok((server, context_name))
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
    fn a_kubeconfig_points_at_its_current_or_chosen_context() {
        assert_eq!(
            kubeconfig_endpoint(KUBECONFIG, None).unwrap(),
            ("https://127.0.0.1:6443".into(), "one".into())
        );
        assert_eq!(
            kubeconfig_endpoint(KUBECONFIG, Some("two")).unwrap().0,
            "https://10.0.0.2:6443"
        );
        assert!(kubeconfig_endpoint(KUBECONFIG, Some("three")).unwrap_err().contains("three"));
        assert!(kubeconfig_endpoint("::: not yaml", None).is_err());
    }

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
