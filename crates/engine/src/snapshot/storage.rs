//! The compact PersistentVolumeClaim (its phase and class) and StorageClass (whether it
//! binds volumes only once a pod uses the claim).

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
    /// `spec.storageClassName`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_class: Option<String>,
}

/// A StorageClass and its binding mode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct StorageClass {
    /// `metadata.name`.
    pub name: String,
    /// `volumeBindingMode: WaitForFirstConsumer`: its claims stay Pending, by design,
    /// until a pod that uses them is scheduled.
    #[serde(default)]
    pub wait_for_first_consumer: bool,
}

impl Snapshot {
    /// The PersistentVolumeClaims, or none when not gathered.
    pub fn claim_list(&self) -> &[Claim] {
        self.claims.ok().map_or(&[], Vec::as_slice)
    }

    /// The StorageClasses, or none when not gathered.
    pub fn storage_class_list(&self) -> &[StorageClass] {
        self.storage_classes.ok().map_or(&[], Vec::as_slice)
    }

    /// Whether `claim`'s StorageClass binds only for a first consumer.
    pub fn waits_for_first_consumer(&self, claim: &Claim) -> bool {
        claim.storage_class.as_deref().is_some_and(|class| {
            self.storage_class_list().iter().any(|s| s.name == class && s.wait_for_first_consumer)
        })
    }
}
