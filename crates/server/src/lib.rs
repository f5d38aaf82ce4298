//! postcheck's HTTP service: Huawei Cloud CCE's v3 post-upgrade check API.
//!
//! A request flows top-down through these modules:
//!
//! - [`startup`]: [`Application::build`] opens the store, loads the key, binds; `run_until`
//!   serves and drains on shutdown. [`config`] says with what.
//! - [`routes`]: paths to handlers, behind request IDs, metrics and [`auth`].
//! - [`auth`]: `X-Auth-Token` or SDK-HMAC-SHA256 (AK/SK) → a [`auth::Caller`] of one
//!   project; another project's paths get 403.
//! - [`domain`] and [`validation`]: typed IDs and the post-check request, or CCE's 400.
//! - [`clusters`]: registered clusters, their credentials sealed by [`crypto`].
//! - [`tasks`]: the runner — cluster lock (429), deadline, async 202, leases, drain.
//! - [`error`]: every failure as CCE's status, code and body.
//! - [`metrics`] and [`openapi`]: `/metrics` and `/openapi.json`.

pub mod auth;
pub mod clusters;
pub mod config;
pub mod crypto;
pub mod domain;
pub mod error;
pub mod metrics;
pub mod openapi;
pub mod routes;
pub mod startup;
pub mod state;
pub mod tasks;
pub mod validation;

pub use config::ServerConfig;
pub use error::ApiError;
pub use startup::{Application, StartupError};
