//! Building and running the service: open the store, load the key, recover what a
//! previous process left running, bind the listener, serve until told to stop, drain.
//!
//! `Application::build` binds before it returns, so with port 0 a test learns the real
//! port from [`Application::port`] and talks to a real server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use tokio::sync::Semaphore;

use crate::auth::cache::CredentialCache;
use crate::cluster_client::ClusterConnector;
use crate::config::ServerConfig;
use crate::crypto::{CryptoError, KeyOrigin, MasterKey};
use crate::endpoint_policy::EndpointPolicy;
use crate::metrics::Metrics;
use crate::registry::RegistrationPolicy;
use crate::runner::TaskRunner;
use crate::state::{AppState, Limits, Throttles};
use crate::tenant_kubeconfig::KubeconfigPolicy;
use crate::throttle::RateLimiter;

/// Why the service could not start or serve.
#[derive(Debug, thiserror::Error)]
pub enum StartupError {
    /// The database could not be opened.
    #[error("opening the database: {0}")]
    Store(#[from] postcheck_store::StoreError),
    /// The encryption key could not be loaded.
    #[error("loading the encryption key: {0}")]
    Key(#[from] CryptoError),
    /// The listen address could not be bound or served.
    #[error("{action} {addr}: {source}")]
    Listen {
        /// Binding, serving...
        action: &'static str,
        /// The address.
        addr: SocketAddr,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
}

/// A bound, ready-to-serve service.
pub struct Application {
    listener: std::net::TcpListener,
    local_addr: SocketAddr,
    state: AppState,
    config: ServerConfig,
    key_origin: KeyOrigin,
}

impl Application {
    /// Opens the store, loads the key, ends tasks left running, binds the listener.
    pub async fn build(config: ServerConfig) -> Result<Self, StartupError> {
        let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
        let store = postcheck_store::open(&config.database_url).await?;
        let (key, key_origin) = MasterKey::load(&config.key)?;
        match &key_origin {
            KeyOrigin::GeneratedAt(path) => tracing::warn!(
                path = %path.display(),
                "generated a new encryption key at {}; keep this file (or set POSTCHECK_KEY): without it the stored credentials cannot be read",
                path.display()
            ),
            KeyOrigin::ReadFrom(path) => {
                tracing::info!(path = %path.display(), "encryption key read from {}", path.display())
            }
            KeyOrigin::Environment => tracing::info!("encryption key read from POSTCHECK_KEY"),
        }
        let listen = |action, source| StartupError::Listen { action, addr: config.listen, source };
        let listener =
            std::net::TcpListener::bind(config.listen).map_err(|e| listen("binding", e))?;
        listener.set_nonblocking(true).map_err(|e| listen("configuring", e))?;
        let local_addr = listener.local_addr().map_err(|e| listen("reading the address of", e))?;
        let key = Arc::new(key);
        let metrics = Arc::new(Metrics::new());
        let endpoints = Arc::new(EndpointPolicy::new(config.allow_endpoints.clone()));
        let kubeconfigs = KubeconfigPolicy { allow_exec: config.allow_exec_plugins };
        if config.allow_exec_plugins {
            tracing::warn!(
                "exec plugins in tenants' kubeconfigs are allowed: any tenant can run commands as this service"
            );
        }
        let connector = ClusterConnector::new(
            key.clone(),
            endpoints.clone(),
            kubeconfigs,
            config.cluster_connect_timeout,
        );
        let runner = Arc::new(TaskRunner::new(
            store.clone(),
            connector,
            metrics.clone(),
            config.replica_id(local_addr),
            config.check_deadline,
            config.lease_ttl,
            config.ages,
        ));
        runner.recover().await?;
        let limits = config.connections;
        let state = AppState {
            store,
            credentials: Arc::new(CredentialCache::new(config.credential_cache_ttl)),
            key,
            runner,
            metrics,
            limits: Limits {
                max_body_bytes: config.max_body_bytes,
                body_read_timeout: limits.body_read_timeout,
            },
            registration: RegistrationPolicy {
                kubeconfigs,
                endpoints,
                max_clusters_per_project: config.max_clusters_per_project,
            },
            throttles: Arc::new(Throttles {
                auth_failures: RateLimiter::per_minute(config.throttle.auth_failures_per_minute),
                checks: RateLimiter::per_minute(config.throttle.checks_per_minute),
            }),
            in_flight: Arc::new(Semaphore::new(limits.max_in_flight.max(1))),
        };
        Ok(Self { listener, local_addr, state, config, key_origin })
    }

    /// The port actually bound.
    pub fn port(&self) -> u16 {
        self.local_addr.port()
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.local_addr
    }

    /// The base URL clients use (`http://` or `https://`).
    pub fn base_url(&self) -> String {
        let scheme = if self.config.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}", self.local_addr)
    }

    /// Where the key came from.
    pub fn key_origin(&self) -> &KeyOrigin {
        &self.key_origin
    }

    /// This replica's identity.
    pub fn replica_id(&self) -> &str {
        self.state.runner.replica_id()
    }

    /// Serves until SIGTERM or Ctrl-C, then drains.
    pub async fn run_until_stopped(self) -> Result<(), StartupError> {
        self.run_until(shutdown_signal()).await
    }

    /// Serves until `signal` resolves; then stops accepting, gives running checks the
    /// grace period, ends the rest `Error`, and returns.
    pub async fn run_until(
        self,
        signal: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), StartupError> {
        let Self { listener, local_addr, state, config, .. } = self;
        let router = crate::routes::router(state.clone());
        let stop = CancellationToken::new();
        let leases = tokio::spawn(state.runner.clone().keep_leases(stop.clone()));
        let draining = {
            let (stop, runner, grace) = (stop.clone(), state.runner.clone(), config.grace_period);
            tokio::spawn(async move {
                signal.await;
                tracing::info!("stopping: no new connections; draining running checks");
                stop.cancel();
                runner.drain(grace).await;
            })
        };
        let tls = match &config.tls {
            None => None,
            Some(tls) => {
                let loaded =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .map_err(|source| StartupError::Listen {
                            action: "loading the TLS certificate for",
                            addr: local_addr,
                            source,
                        })?;
                let mut server = (*loaded.get_inner()).clone();
                server.alpn_protocols = vec![b"http/1.1".to_vec()];
                Some(tokio_rustls::TlsAcceptor::from(Arc::new(server)))
            }
        };
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| {
            StartupError::Listen { action: "serving", addr: local_addr, source }
        })?;
        let drain = config.grace_period + std::time::Duration::from_secs(5);
        crate::listener::serve(listener, tls, router, config.connections, stop.clone(), drain)
            .await;
        let _ = draining.await;
        let _ = leases.await;
        tracing::info!("stopped");
        Ok(())
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}
