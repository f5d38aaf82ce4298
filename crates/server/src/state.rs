//! What every handler shares: the store, the master key, the task runner, the metrics.

use std::sync::Arc;

use postcheck_store::Store;

use crate::crypto::MasterKey;
use crate::metrics::Metrics;
use crate::tasks::TaskRunner;

/// Limits applied to requests.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
}

/// The state behind every route.
#[derive(Clone)]
pub struct AppState {
    /// Durable storage.
    pub store: Arc<dyn Store>,
    /// The key that seals credentials at rest.
    pub key: Arc<MasterKey>,
    /// Runs checks and tracks them.
    pub runner: Arc<TaskRunner>,
    /// Prometheus metrics.
    pub metrics: Arc<Metrics>,
    /// Request limits.
    pub limits: Limits,
}
