//! Services (but ExternalName ones) and their EndpointSlices, all namespaces, listed
//! concurrently and joined into each Service's count of ready endpoints.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{ServiceEndpoints, Source};

/// One EndpointSlice reduced to its Service and ready endpoint count.
struct Slice {
    namespace: String,
    service: Option<String>,
    ready: u32,
}

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<ServiceEndpoints>, kube::Error> {
    let (services, slices) = tokio::join!(
        list_all(pass, ListRequest::all::<Service>(), Source::Services, service),
        list_all(pass, ListRequest::all::<EndpointSlice>(), Source::Services, slice),
    );
    let mut ready: BTreeMap<(String, String), u32> = BTreeMap::new();
    for s in slices? {
        if let Some(name) = s.service {
            *ready.entry((s.namespace, name)).or_default() += s.ready;
        }
    }
    Ok(services?
        .into_iter()
        .map(|mut s| {
            s.ready = ready.get(&(s.namespace.clone(), s.name.clone())).copied().unwrap_or(0);
            s
        })
        .collect())
}

/// A Service that has endpoints (an ExternalName Service has none and is not kept).
fn service(s: api::Service) -> Option<ServiceEndpoints> {
    let has_selector = !s.spec.selector.is_empty();
    (s.spec.kind.as_deref() != Some("ExternalName")).then(|| ServiceEndpoints {
        namespace: s.metadata.namespace.unwrap_or_default(),
        name: s.metadata.name,
        has_selector,
        ready: 0,
    })
}

fn slice(mut s: api::EndpointSlice) -> Option<Slice> {
    let ready = s
        .endpoints
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .count();
    Some(Slice {
        namespace: s.metadata.namespace.unwrap_or_default(),
        service: s.metadata.labels.remove("kubernetes.io/service-name"),
        ready: u32::try_from(ready).unwrap_or(u32::MAX),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_ready_endpoints_unset_ready_meaning_ready() {
        let s: api::EndpointSlice = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "shop", "name": "checkout-x", "labels": {"kubernetes.io/service-name": "checkout"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": false}},
                {"addresses": ["10.0.0.3"]}
            ]
        }))
        .unwrap();
        let slice = slice(s).unwrap();
        assert_eq!((slice.service.as_deref(), slice.ready), (Some("checkout"), 2));
        let external: api::Service = serde_json::from_value(serde_json::json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "x.example"}})).unwrap();
        assert_eq!(service(external), None);
    }
}
