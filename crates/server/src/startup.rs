//! Building and running the service: open the store, load the key, recover what a
//! previous process left running, bind the listener, serve until told to stop, drain.
//!
//! `Application::build` binds before it returns, so with port 0 a test learns the real
//! port from [`Application::port`] and talks to a real server.

use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::ServerConfig;
use crate::crypto::{CryptoError, KeyOrigin, MasterKey};
use crate::metrics::Metrics;
use crate::state::{AppState, Limits};
use crate::tasks::TaskRunner;

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
        let runner = Arc::new(TaskRunner::new(
            store.clone(),
            key.clone(),
            metrics.clone(),
            config.replica_id(local_addr),
            config.check_deadline,
            config.lease_ttl,
        ));
        runner.recover().await?;
        let state = AppState {
            store,
            key,
            runner,
            metrics,
            limits: Limits { max_body_bytes: config.max_body_bytes },
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
        let served = match &config.tls {
            None => {
                let listener = tokio::net::TcpListener::from_std(listener).map_err(|source| {
                    StartupError::Listen { action: "serving", addr: local_addr, source }
                })?;
                let stopped = stop.clone();
                axum::serve(listener, router)
                    .with_graceful_shutdown(async move { stopped.cancelled().await })
                    .await
            }
            Some(tls) => {
                let rustls =
                    axum_server::tls_rustls::RustlsConfig::from_pem_file(&tls.cert, &tls.key)
                        .await
                        .map_err(|source| StartupError::Listen {
                            action: "loading the TLS certificate for",
                            addr: local_addr,
                            source,
                        })?;
                let handle = axum_server::Handle::new();
                let (stopped, h, grace) = (stop.clone(), handle.clone(), config.grace_period);
                tokio::spawn(async move {
                    stopped.cancelled().await;
                    h.graceful_shutdown(Some(grace + std::time::Duration::from_secs(5)));
                });
                axum_server::from_tcp_rustls(listener, rustls)
                    .handle(handle)
                    .serve(router.into_make_service())
                    .await
            }
        };
        served.map_err(|source| StartupError::Listen {
            action: "serving",
            addr: local_addr,
            source,
        })?;
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
