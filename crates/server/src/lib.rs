//! postcheck's HTTP service: Huawei Cloud CCE's v3 post- and pre-upgrade check APIs (also
//! under CCE Autopilot's paths), safe to run for many tenants at once.
//!
//! A request flows top-down through these modules:
//!
//! - [`startup`]: [`Application::build`] opens the store, loads the key, binds; `run_until`
//!   serves and drains on shutdown. [`config`] says with what.
//! - [`listener`]: accepting connections with caps and timeouts (slow or idle clients
//!   are dropped).
//! - [`routes`]: paths to handlers, behind the middlewares of `routes::middleware`
//!   (CCE error bodies, in-flight cap, metrics, authentication) and [`auth`].
//! - [`auth`]: `X-Auth-Token` or SDK-HMAC-SHA256 (AK/SK) → a [`auth::Caller`] of one
//!   project; another project's paths get 403. [`throttle`]: token buckets.
//! - [`domain`] and [`validation`]: typed IDs and the post- and pre-check requests, or
//!   CCE's 400.
//! - [`registry`]: registered clusters, their credentials sealed by [`crypto`], after
//!   [`tenant_kubeconfig`] (a tenant's kubeconfig is data, never instructions to the
//!   host) and [`endpoint_policy`] (where the service may connect).
//! - [`cluster_client`]: a client for a registered cluster, re-checked every time, over HTTP/2
//!   where the API server offers it.
//! - [`runner`]: the task runner, for post- and pre-checks alike — cluster lock (429),
//!   deadline, async 202, leases, drain; the baseline a post-check compares against.
//! - [`error`]: every failure as CCE's status, code and body.
//! - [`metrics`] (plain data) and [`openapi`]: `/metrics` and `/openapi.json`.
//! - [`redact`]: log lines without secrets.

pub mod auth;
pub mod cluster_client;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod endpoint_policy;
pub mod error;
pub mod listener;
pub mod metrics;
pub mod openapi;
pub mod redact;
pub mod registry;
pub mod routes;
pub mod runner;
pub mod startup;
pub mod state;
pub mod tenant_kubeconfig;
pub mod throttle;
pub mod validation;

pub use config::ServerConfig;
pub use error::ApiError;
pub use startup::{Application, StartupError};
