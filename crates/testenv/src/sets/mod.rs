//! Named sets of objects to apply on top of the starting set: states a healthy cluster can
//! be in that look like faults to a naive check. Unlike a [`crate::Fault`], a set is not
//! meant to fail anything: a check that flags it is wrong.
//!
//! - `unusual`: the "healthy but unusual" set (namespace `unusual`): a PVC waiting for its
//!   first consumer, a completed Job's Succeeded pod, a Deployment scaled to zero, a
//!   DaemonSet matching no node, an ExternalName Service, a selector-less Service with a
//!   hand-managed EndpointSlice, a `failurePolicy: Ignore` webhook without endpoints, a
//!   suspended CronJob.

mod unusual;

use clap::ValueEnum;

use crate::cluster::TestCluster;
use crate::error::TestEnvError;
use crate::faults::FaultTarget;

pub use unusual::{UNUSUAL_NAMESPACE, UNUSUAL_STORAGE_CLASS, UNUSUAL_WEBHOOK};

/// A named set of objects (`testcluster apply NAME`, `testcluster up --unusual`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, ValueEnum)]
pub enum ObjectSet {
    /// Healthy but unusual (namespace unusual): a PVC waiting for its first consumer, a
    /// completed Job's Succeeded pod, a Deployment at zero replicas, a DaemonSet matching no
    /// node, an ExternalName Service, a selector-less Service with a hand-made EndpointSlice, a
    /// failurePolicy Ignore webhook without endpoints, a suspended CronJob.
    Unusual,
}

/// Applies `set` to `cluster` and returns its objects once each shows the state it is there
/// for (the claim Pending for its first consumer, the Job Complete...).
pub(crate) async fn apply(
    cluster: &TestCluster,
    set: ObjectSet,
) -> Result<Vec<FaultTarget>, TestEnvError> {
    let client = cluster.client().await?;
    match set {
        ObjectSet::Unusual => unusual::apply(&client).await,
    }
}
