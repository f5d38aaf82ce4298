//! The compact PersistentVolumeClaim: its phase.

use serde::{Deserialize, Serialize};

use super::Snapshot;

/// A PersistentVolumeClaim's phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Claim {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `status.phase`: `Pending`, `Bound` or `Lost`.
    pub phase: String,
}

impl Snapshot {
    /// The PersistentVolumeClaims, or none when not gathered.
    pub fn claim_list(&self) -> &[Claim] {
        self.claims.ok().map_or(&[], Vec::as_slice)
    }
}
