//! Cluster access: how postcheck gets a `kube::Client`.
//!
//! The command line reads the user's kubeconfig as kubectl does (`--kubeconfig`,
//! `KUBECONFIG`, `--context`, exec plugins, in-cluster); the service holds each registered
//! cluster's credentials (a kubeconfig document, or endpoint + CA + token) and builds a
//! client from them for every check. The service sanitizes those credentials first (no exec
//! plugins, no file paths, no proxies) and checks where they point; it gets the
//! [`kube::Config`] from [`ClusterCredentials::config`] to do so, then a client from
//! [`client_from`].
//!
//! In a pod (no kubeconfig, `KUBERNETES_SERVICE_HOST` set) the client is the pod's service
//! account, read as a pod sees it ([`InCluster`]): the token file (re-read as the kubelet
//! rotates it), the cluster CA and the namespace under
//! `/var/run/secrets/kubernetes.io/serviceaccount`, or the folder `POSTCHECK_SERVICE_ACCOUNT_DIR`
//! names (a projected token mounted elsewhere; the tests lay one out there).

use kube::config::{KubeConfigOptions, Kubeconfig};
use serde::{Deserialize, Serialize};

/// Why a client could not be built.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// The kubeconfig could not be read or parsed.
    #[error("reading the kubeconfig: {0}")]
    Kubeconfig(#[source] kube::config::KubeconfigError),
    /// No kubeconfig was found and this is not a pod (`KUBERNETES_SERVICE_HOST` unset).
    #[error("no kubeconfig ({0}), and not in a pod (KUBERNETES_SERVICE_HOST is not set)")]
    NoConfiguration(#[source] kube::config::KubeconfigError),
    /// In a pod, the service account's files could not be read.
    #[error("reading the pod's service account ({path}): {source}")]
    InCluster {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// The configuration was read but a client could not be made from it.
    #[error("building a client for {endpoint}: {source}")]
    Client {
        /// The API server the client was for.
        endpoint: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// An endpoint was not a valid URL.
    #[error("the endpoint {0:?} is not a valid URL")]
    Endpoint(String),
}

/// Where the command line finds its cluster: kubectl's conventions.
#[derive(Debug, Clone, Default)]
pub struct KubeconfigSource {
    /// `--kubeconfig`; when absent, `KUBECONFIG`, then `~/.kube/config`, then in-cluster.
    pub path: Option<std::path::PathBuf>,
    /// `--context`; when absent, the kubeconfig's current context.
    pub context: Option<String>,
}

impl KubeconfigSource {
    /// Builds a client as kubectl would find its cluster.
    pub async fn client(&self) -> Result<kube::Client, AccessError> {
        client_from(self.config().await?)
    }

    /// The client configuration kubectl would use, not yet a client.
    pub async fn config(&self) -> Result<kube::Config, AccessError> {
        let options = KubeConfigOptions { context: self.context.clone(), ..Default::default() };
        let config = match &self.path {
            Some(path) => {
                let kubeconfig = Kubeconfig::read_from(path).map_err(AccessError::Kubeconfig)?;
                kube::Config::from_custom_kubeconfig(kubeconfig, &options)
                    .await
                    .map_err(AccessError::Kubeconfig)?
            }
            None if self.context.is_some() => {
                kube::Config::from_kubeconfig(&options).await.map_err(AccessError::Kubeconfig)?
            }
            None => match kube::Config::from_kubeconfig(&options).await {
                Ok(config) => config,
                Err(no_kubeconfig) => match InCluster::from_env() {
                    Some(pod) => pod.config()?,
                    None => return Err(AccessError::NoConfiguration(no_kubeconfig)),
                },
            },
        };
        Ok(config)
    }
}

/// Where a pod finds its service account: the defaults every pod has.
const SERVICE_ACCOUNT_DIR: &str = "/var/run/secrets/kubernetes.io/serviceaccount";

/// The pod's view of its cluster: the API server's address from the environment the
/// kubelet sets, and the service account's token, CA and namespace from their folder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InCluster {
    /// `KUBERNETES_SERVICE_HOST` (an address or a name).
    pub host: String,
    /// `KUBERNETES_SERVICE_PORT` (443 when unset).
    pub port: u16,
    /// The folder of `token`, `ca.crt` and `namespace`.
    pub dir: std::path::PathBuf,
}

impl InCluster {
    /// The pod's configuration from its environment; `None` when not in a pod.
    pub fn from_env() -> Option<Self> {
        let host = std::env::var("KUBERNETES_SERVICE_HOST").ok().filter(|h| !h.is_empty())?;
        let port = std::env::var("KUBERNETES_SERVICE_PORT")
            .ok()
            .and_then(|p| p.parse().ok())
            .unwrap_or(443);
        let dir = std::env::var_os("POSTCHECK_SERVICE_ACCOUNT_DIR")
            .map_or_else(|| SERVICE_ACCOUNT_DIR.into(), std::path::PathBuf::from);
        Some(Self { host, port, dir })
    }

    /// `https://host:port`, an IPv6 address bracketed.
    pub fn endpoint(&self) -> String {
        match self.host.parse::<std::net::IpAddr>() {
            Ok(ip) => format!("https://{}", std::net::SocketAddr::new(ip, self.port)),
            Err(_) => format!("https://{}:{}", self.host, self.port),
        }
    }

    /// The client configuration: the token by its file (so a rotated token is picked up),
    /// the CA's certificates, the namespace as the default.
    pub fn config(&self) -> Result<kube::Config, AccessError> {
        let read = |name: &str| {
            let path = self.dir.join(name);
            std::fs::read_to_string(&path).map_err(|source| AccessError::InCluster { path, source })
        };
        let ca = read("ca.crt")?;
        read("token")?; // present now; the client re-reads it as it rotates
        let url: http::Uri =
            self.endpoint().parse().map_err(|_| AccessError::Endpoint(self.endpoint()))?;
        let mut config = kube::Config::new(url);
        config.root_cert = Some(pem_certificates(&ca));
        config.auth_info.token_file = Some(self.dir.join("token").to_string_lossy().into_owned());
        if let Ok(ns) = read("namespace") {
            config.default_namespace = ns.trim().to_owned();
        }
        Ok(config)
    }
}

/// A registered cluster's stored credentials (the service keeps these encrypted at rest).
#[derive(Clone, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum ClusterCredentials {
    /// A whole kubeconfig document and the context to use (its current one when absent).
    Kubeconfig {
        /// The kubeconfig, YAML.
        kubeconfig: String,
        /// The context to use.
        context: Option<String>,
    },
    /// An endpoint, the CA that signs its certificate (PEM), and a bearer token.
    Token {
        /// `https://host:port` of the API server.
        endpoint: String,
        /// PEM of the cluster CA; the system roots when absent.
        ca_pem: Option<String>,
        /// Bearer token.
        token: String,
    },
}

impl std::fmt::Debug for ClusterCredentials {
    // Credentials never reach a log, not even through `{:?}`.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Kubeconfig { context, .. } => {
                f.debug_struct("Kubeconfig").field("context", context).finish_non_exhaustive()
            }
            Self::Token { endpoint, .. } => {
                f.debug_struct("Token").field("endpoint", endpoint).finish_non_exhaustive()
            }
        }
    }
}

impl ClusterCredentials {
    /// Builds a client from the stored credentials.
    pub async fn client(&self) -> Result<kube::Client, AccessError> {
        client_from(self.config().await?)
    }

    /// The client configuration the stored credentials describe, not yet a client: the
    /// caller may adjust it (pin the address, set timeouts) before [`client_from`].
    pub async fn config(&self) -> Result<kube::Config, AccessError> {
        Ok(match self {
            Self::Kubeconfig { kubeconfig, context } => {
                let parsed = Kubeconfig::from_yaml(kubeconfig).map_err(AccessError::Kubeconfig)?;
                let options = KubeConfigOptions { context: context.clone(), ..Default::default() };
                kube::Config::from_custom_kubeconfig(parsed, &options)
                    .await
                    .map_err(AccessError::Kubeconfig)?
            }
            Self::Token { endpoint, ca_pem, token } => {
                let url: http::Uri =
                    endpoint.parse().map_err(|_| AccessError::Endpoint(endpoint.clone()))?;
                let mut config = kube::Config::new(url);
                config.auth_info.token = Some(token.clone().into());
                if let Some(pem) = ca_pem {
                    config.root_cert = Some(pem_certificates(pem));
                }
                config
            }
        })
    }
}

/// Where the API server listens, for the pre-check's TLS handshake that reads its serving
/// certificate: the address to connect to and the name to send (SNI). The command line
/// takes it from the kubeconfig ([`ApiServerAddress::of`]); the service gives the address
/// it checked and pinned.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiServerAddress {
    /// The name sent in the handshake (the URL's host, or the kubeconfig's
    /// `tls-server-name`).
    pub server_name: String,
    /// The address connected to.
    pub addr: std::net::SocketAddr,
}

impl ApiServerAddress {
    /// The API server of `config`: its URL's host resolved (the first address), port 443
    /// when the URL names none. `None` when the URL is not HTTPS or does not resolve.
    pub async fn of(config: &kube::Config) -> Option<Self> {
        let url = &config.cluster_url;
        if url.scheme_str() != Some("https") {
            return None;
        }
        let host = url.host()?.trim_start_matches('[').trim_end_matches(']').to_owned();
        let port = url.port_u16().unwrap_or(443);
        let addr = tokio::net::lookup_host((host.as_str(), port)).await.ok()?.next()?;
        let server_name = config.tls_server_name.clone().unwrap_or(host);
        Some(Self { server_name, addr })
    }
}

/// Builds a client from a configuration.
pub fn client_from(config: kube::Config) -> Result<kube::Client, AccessError> {
    let endpoint = config.cluster_url.to_string();
    kube::Client::try_from(config).map_err(|source| AccessError::Client { endpoint, source })
}

/// The DER bodies of the certificates in a PEM bundle.
fn pem_certificates(pem: &str) -> Vec<Vec<u8>> {
    use base64::Engine as _;
    let mut out = Vec::new();
    let mut body = String::new();
    let mut inside = false;
    for line in pem.lines().map(str::trim) {
        if line.starts_with("-----BEGIN CERTIFICATE") {
            inside = true;
            body.clear();
        } else if line.starts_with("-----END CERTIFICATE") {
            inside = false;
            if let Ok(der) = base64::engine::general_purpose::STANDARD.decode(&body) {
                out.push(der);
            }
        } else if inside {
            body.push_str(line);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pod(host: &str, port: u16, dir: &std::path::Path) -> InCluster {
        InCluster { host: host.into(), port, dir: dir.into() }
    }

    #[test]
    fn the_endpoint_brackets_an_ipv6_address_and_keeps_a_name() {
        let dir = std::path::Path::new("/nowhere");
        assert_eq!(pod("10.96.0.1", 443, dir).endpoint(), "https://10.96.0.1:443");
        assert_eq!(pod("fd00::1", 6443, dir).endpoint(), "https://[fd00::1]:6443");
        assert_eq!(
            pod("kubernetes.default.svc", 443, dir).endpoint(),
            "https://kubernetes.default.svc:443"
        );
    }

    #[test]
    fn a_pod_without_its_token_is_an_error_naming_the_file() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "").unwrap();
        let err = pod("127.0.0.1", 6443, dir.path()).config().unwrap_err();
        assert!(err.to_string().contains("token"), "{err}");
    }

    #[test]
    fn a_pods_configuration_reads_the_token_by_its_file_and_the_namespace() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("ca.crt"), "").unwrap();
        std::fs::write(dir.path().join("token"), "t0ken").unwrap();
        std::fs::write(dir.path().join("namespace"), "postcheck\n").unwrap();
        let config = pod("127.0.0.1", 6443, dir.path()).config().unwrap();
        assert_eq!(config.cluster_url.to_string(), "https://127.0.0.1:6443/");
        assert_eq!(config.default_namespace, "postcheck");
        assert_eq!(
            config.auth_info.token_file.as_deref(),
            Some(dir.path().join("token").to_str().unwrap())
        );
    }
}
