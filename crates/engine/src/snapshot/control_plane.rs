//! The compact control plane: the API server's health checks and the kube-system Leases of
//! leader election (`control-plane` judges whether kube-controller-manager and kube-scheduler
//! are alive from them).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Snapshot;

/// One line of `/readyz?verbose` or `/livez?verbose` (`[+]ping ok`, `[-]etcd failed: ...`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HealthCheck {
    /// `readyz` or `livez`.
    pub endpoint: String,
    /// The check's name (`etcd`, `poststarthook/start-apiextensions-controllers`).
    pub name: String,
    /// Whether it passed.
    pub ok: bool,
    /// The rest of the line (`ok`, `failed: reason withheld`).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub detail: String,
}

/// The fields of a Lease that checks read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Lease {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.holderIdentity`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// `spec.renewTime`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub renew_time: Option<DateTime<Utc>>,
    /// `spec.leaseDurationSeconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_seconds: Option<i32>,
}

impl Snapshot {
    /// The kube-system Leases, or none when they were not gathered.
    pub fn lease_list(&self) -> &[Lease] {
        self.leases.ok().map_or(&[], Vec::as_slice)
    }
}
