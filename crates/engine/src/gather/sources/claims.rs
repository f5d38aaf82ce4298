//! PersistentVolumeClaims, all namespaces, each compacted to its phase and StorageClass.

use k8s_openapi::api::core::v1::PersistentVolumeClaim;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Claim, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Claim>, kube::Error> {
    list_all(pass, ListRequest::all::<PersistentVolumeClaim>(), Source::Claims, claim).await
}

fn claim(c: api::Claim) -> Option<Claim> {
    Some(Claim {
        namespace: c.metadata.namespace.unwrap_or_default(),
        name: c.metadata.name,
        phase: c.status.phase.unwrap_or_else(|| "Pending".into()),
        storage_class: c.spec.storage_class_name,
    })
}
