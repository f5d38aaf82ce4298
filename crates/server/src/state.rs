//! What every handler shares: the store, the master key, the task runner, the metrics, the
//! policies and the throttles.
//!
//! Dependencies point one way: [`crate::metrics`] is plain data, the runner records into
//! it, this state holds both, and only the middlewares and handlers
//! ([`crate::routes`]) read the state.

use std::sync::Arc;
use std::time::Duration;

use postcheck_store::Store;
use tokio::sync::Semaphore;

use crate::auth::cache::CredentialCache;
use crate::crypto::MasterKey;
use crate::metrics::Metrics;
use crate::registry::RegistrationPolicy;
use crate::runner::TaskRunner;
use crate::throttle::RateLimiter;

/// Limits applied to requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// How long a request's body may take to arrive.
    pub body_read_timeout: Duration,
}

/// The token buckets of the service.
#[derive(Debug)]
pub struct Throttles {
    /// Failed authentications, per source address and per credential.
    pub auth_failures: RateLimiter,
    /// Checks and baselines started, per project and per source address.
    pub checks: RateLimiter,
}

/// The state behind every route.
#[derive(Clone)]
pub struct AppState {
    /// Durable storage.
    pub store: Arc<dyn Store>,
    /// The key that seals credentials at rest.
    pub key: Arc<MasterKey>,
    /// Credentials found in the store, remembered for a few seconds.
    pub credentials: Arc<CredentialCache>,
    /// Runs checks and tracks them.
    pub runner: Arc<TaskRunner>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Request limits.
    pub limits: Limits,
    /// What a cluster registration must respect.
    pub registration: RegistrationPolicy,
    /// Token buckets.
    pub throttles: Arc<Throttles>,
    /// Permits for requests in flight.
    pub in_flight: Arc<Semaphore>,
}
