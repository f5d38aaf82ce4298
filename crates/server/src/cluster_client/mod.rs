//! A client for a registered cluster, built from its stored credentials the safe way, every
//! time: open the sealed credentials, sanitize them again ([`crate::tenant_kubeconfig`]),
//! resolve the endpoint and check every address ([`crate::endpoint_policy`]), pin the
//! client to the checked address, then ask the API server for `/version` once. The client
//! speaks HTTP/2 where the API server offers it ([`transport`]).
//!
//! What the tenant is told is deliberately coarse: "could not reach the API server", the
//! same for a refused connection, a timeout or a TLS failure, so the service cannot be used
//! to scan ports. The operator's log has the detail.

use std::sync::Arc;
use std::time::Duration;

use postcheck_engine::access::ClusterCredentials;
use postcheck_store::StoredCluster;

use crate::crypto::MasterKey;
use crate::endpoint_policy::{Endpoint, EndpointError, EndpointPolicy, pin};
use crate::registry::credentials_of;
use crate::tenant_kubeconfig::{KubeconfigPolicy, KubeconfigRefusal, sanitize};

pub mod transport;

/// What a tenant is told when the API server could not be reached, whatever the cause.
pub const UNREACHABLE: &str = "could not reach the API server";

/// Why no client could be made for a registered cluster. The text is safe for the tenant.
#[derive(Debug, thiserror::Error)]
pub enum ConnectError {
    /// The stored credentials could not be opened.
    #[error("{0}")]
    Credentials(String),
    /// The stored kubeconfig holds something the service refuses.
    #[error("the stored credentials are refused: {0}")]
    Refused(#[source] KubeconfigRefusal),
    /// The endpoint is malformed or refused by the policy.
    #[error("{0}")]
    Endpoint(#[source] EndpointError),
    /// The API server did not answer (refused, timed out, TLS failed...).
    #[error("{UNREACHABLE}")]
    Unreachable,
    /// The API server answered `/version` with 401 or 403.
    #[error("the API server refused the credentials")]
    Unauthorized,
}

/// The address a client was pinned to, and the name TLS verifies there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PinnedAddress {
    /// The name the handshake sends and the certificate must carry.
    pub server_name: String,
    /// The checked address connected to.
    pub addr: std::net::SocketAddr,
    /// Whether the endpoint is HTTPS.
    pub https: bool,
}

/// Builds clients for registered clusters.
#[derive(Clone)]
pub struct ClusterConnector {
    key: Arc<MasterKey>,
    endpoints: Arc<EndpointPolicy>,
    kubeconfigs: KubeconfigPolicy,
    connect_timeout: Duration,
}

impl std::fmt::Debug for ClusterConnector {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterConnector")
            .field("endpoints", &self.endpoints)
            .finish_non_exhaustive()
    }
}

impl ClusterConnector {
    /// A connector with these policies; `connect_timeout` bounds reaching the API server.
    pub fn new(
        key: Arc<MasterKey>,
        endpoints: Arc<EndpointPolicy>,
        kubeconfigs: KubeconfigPolicy,
        connect_timeout: Duration,
    ) -> Self {
        Self { key, endpoints, kubeconfigs, connect_timeout }
    }

    /// A client for `cluster`, checked and pinned, whose API server answered.
    pub async fn connect(&self, cluster: &StoredCluster) -> Result<kube::Client, ConnectError> {
        self.connect_pinned(cluster).await.map(|(client, _)| client)
    }

    /// [`connect`](Self::connect), and the address the client is pinned to (for a
    /// pre-check's TLS handshake with the API server: the same checked address, never a
    /// second resolution).
    pub async fn connect_pinned(
        &self,
        cluster: &StoredCluster,
    ) -> Result<(kube::Client, PinnedAddress), ConnectError> {
        let credentials = credentials_of(&self.key, cluster).map_err(ConnectError::Credentials)?;
        let (credentials, endpoint) = match credentials {
            ClusterCredentials::Kubeconfig { kubeconfig, context } => {
                let safe = sanitize(&kubeconfig, context.as_deref(), self.kubeconfigs)
                    .map_err(ConnectError::Refused)?;
                let endpoint = Endpoint::parse(&safe.server).map_err(ConnectError::Endpoint)?;
                let credentials = ClusterCredentials::Kubeconfig {
                    kubeconfig: safe.document,
                    context: Some(safe.context),
                };
                (credentials, endpoint)
            }
            token @ ClusterCredentials::Token { .. } => {
                let ClusterCredentials::Token { endpoint, .. } = &token else { unreachable!() };
                let endpoint = Endpoint::parse(endpoint).map_err(ConnectError::Endpoint)?;
                (token, endpoint)
            }
        };
        let addr = self.endpoints.resolve(&endpoint).await.map_err(|e| {
            tracing::warn!(cluster = %cluster.cluster_id, error = %e, "endpoint refused or unresolved");
            match e {
                EndpointError::Unresolved { .. } => ConnectError::Unreachable,
                other => ConnectError::Endpoint(other),
            }
        })?;
        let mut config = credentials.config().await.map_err(|e| {
            tracing::warn!(cluster = %cluster.cluster_id, error = %e, "building the client configuration");
            ConnectError::Credentials(format!("the stored credentials are not usable: {e}"))
        })?;
        // Nothing the environment says (HTTPS_PROXY) nor any file is used.
        config.proxy_url = None;
        config.root_cert_file = None;
        config.connect_timeout = Some(self.connect_timeout);
        pin(&mut config, &endpoint, addr);
        let pinned = PinnedAddress {
            server_name: config
                .tls_server_name
                .clone()
                .unwrap_or_else(|| endpoint.host().to_owned()),
            addr,
            https: endpoint.url().scheme_str() == Some("https"),
        };
        let client = transport::client(&config).map_err(|e| {
            tracing::warn!(cluster = %cluster.cluster_id, error = %e, "building the client");
            ConnectError::Unreachable
        })?;
        match tokio::time::timeout(self.connect_timeout, client.apiserver_version()).await {
            Ok(Ok(_)) => Ok((client, pinned)),
            Ok(Err(kube::Error::Api(status))) if matches!(status.code, 401 | 403) => {
                tracing::info!(cluster = %cluster.cluster_id, code = status.code, "the API server refused the credentials");
                Err(ConnectError::Unauthorized)
            }
            Ok(Err(e)) => {
                tracing::warn!(cluster = %cluster.cluster_id, %addr, error = %e, "could not reach the API server");
                Err(ConnectError::Unreachable)
            }
            Err(_) => {
                tracing::warn!(cluster = %cluster.cluster_id, %addr, timeout = ?self.connect_timeout, "the API server did not answer in time");
                Err(ConnectError::Unreachable)
            }
        }
    }
}
