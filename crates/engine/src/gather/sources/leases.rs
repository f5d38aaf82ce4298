//! The Leases of kube-system: leader election of the control plane.

use k8s_openapi::api::coordination::v1::Lease as K8sLease;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Lease, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Lease>, kube::Error> {
    list_all(pass, ListRequest::namespaced::<K8sLease>("kube-system"), Source::Leases, lease).await
}

fn lease(l: api::Lease) -> Option<Lease> {
    Some(Lease {
        namespace: l.metadata.namespace.unwrap_or_default(),
        name: l.metadata.name,
        holder: l.spec.holder_identity.filter(|h| !h.is_empty()),
        renew_time: l.spec.renew_time,
        duration_seconds: l.spec.lease_duration_seconds,
    })
}
