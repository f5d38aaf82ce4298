//! The transport under a registered cluster's client: HTTP/2 when the API server offers it
//! in the TLS handshake (ALPN, as every kube-apiserver does), HTTP/1.1 otherwise.
//!
//! Why not kube's default stack: it speaks HTTP/1.1 only, so the fifty-odd lists one check
//! sends at once each open a TCP connection and a TLS handshake of their own. On a 3-node
//! cluster that was about 65 ms of a synchronous check's 180 (bench/results/NOTES.md). Over
//! HTTP/2 they share the one connection `/version` opened, as client-go's requests do.
//!
//! The stack is kube's own layers (base URI, authentication, extra headers, its retry of
//! throttled requests) over a hyper client. What kube's builder has beyond that is left
//! out on purpose: proxies (the service never uses one, [`super`] clears them), an exec
//! identity's expiry (exec plugins are refused) and per-read timeouts (the runner's
//! deadline bounds a whole check).

use std::sync::Arc;

use hyper_rustls::{
    DefaultServerNameResolver, FixedServerNameResolver, HttpsConnector, ResolveServerName,
};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use kube::client::ConfigExt as _;
use kube::client::retry::RetryPolicy;
use tower::retry::RetryLayer;
use tower::{BoxError, ServiceBuilder};

/// The most header bytes one response of a tenant's API server may carry (HTTP/2's
/// decoded header list; an API server sends well under 4 KiB).
const MAX_HEADER_LIST_BYTES: u32 = 64 * 1024;

/// Why no client could be made from a configuration.
#[derive(Debug, thiserror::Error)]
pub enum TransportError {
    /// kube refused the configuration (its TLS identity, CA or headers).
    #[error("the client configuration is not usable: {0}")]
    Config(#[source] kube::Error),
    /// The TLS server name is not a valid DNS name or address.
    #[error("the TLS server name {0:?} is not valid")]
    ServerName(String),
}

/// A client for `config`'s API server that negotiates HTTP/2, falling back to HTTP/1.1.
pub fn client(config: &kube::Config) -> Result<kube::Client, TransportError> {
    let mut tls = config.rustls_client_config().map_err(TransportError::Config)?;
    tls.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];

    let mut tcp = HttpConnector::new();
    tcp.enforce_http(false);
    tcp.set_nodelay(true);
    tcp.set_connect_timeout(config.connect_timeout);

    // The name the certificate must carry: the endpoint's host name (the URL itself names
    // the checked address it is pinned to), else the address.
    let names: Arc<dyn ResolveServerName + Send + Sync> = match &config.tls_server_name {
        Some(name) => {
            let server_name =
                name.clone().try_into().map_err(|_| TransportError::ServerName(name.clone()))?;
            Arc::new(FixedServerNameResolver::new(server_name))
        }
        None => Arc::new(DefaultServerNameResolver::default()),
    };
    let connector = HttpsConnector::new(tcp, tls, false, names);

    let http = hyper_util::client::legacy::Client::builder(TokioExecutor::new())
        .http2_max_header_list_size(MAX_HEADER_LIST_BYTES)
        // Large lists (pages of megabytes) are not held back by a fixed 64 KiB window.
        .http2_adaptive_window(true)
        .build(connector);

    let service = ServiceBuilder::new()
        .layer(config.base_uri_layer())
        .option_layer(config.default_retry.then(|| RetryLayer::new(RetryPolicy::server_retry())))
        .option_layer(config.auth_layer().map_err(TransportError::Config)?)
        .layer(config.extra_headers_layer().map_err(TransportError::Config)?)
        .map_err(BoxError::from)
        .service(http);
    Ok(kube::Client::new(service, config.default_namespace.clone()))
}
