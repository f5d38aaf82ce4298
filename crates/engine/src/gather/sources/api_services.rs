//! APIServices, each compacted to its backing Service and its `Available` condition.

use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{ApiService, ServiceRef, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<ApiService>, kube::Error> {
    list_all(pass, ListRequest::all::<APIService>(), Source::ApiServices, api_service).await
}

/// A reference to a Service as the Snapshot keeps it (APIServices and webhooks).
pub(super) fn service_ref(s: api::ServiceReference) -> ServiceRef {
    ServiceRef { namespace: s.namespace.unwrap_or_default(), name: s.name.unwrap_or_default() }
}

fn api_service(a: api::ApiService) -> Option<ApiService> {
    let service = a.spec.service.map(service_ref);
    let available = a.status.conditions.into_iter().find(|c| c.kind == "Available");
    let ok = available.as_ref().is_some_and(|c| c.status == "True");
    let reason = match (&available, ok) {
        (_, true) => None,
        (None, false) => Some("no Available condition yet".into()),
        (Some(c), false) => Some(
            [Some(format!("Available is {}", c.status)), c.reason.clone(), c.message.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        ),
    };
    Some(ApiService { name: a.metadata.name, service, available: ok, reason })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_unavailable_apiservice_keeps_its_reason() {
        let a: api::ApiService = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"service": {"namespace": "monitoring", "name": "metrics"}, "groupPriorityMinimum": 100, "versionPriority": 100},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints", "message": "no addresses"}]}
        }))
        .unwrap();
        let a = api_service(a).unwrap();
        assert!(!a.available);
        assert_eq!(a.reason.as_deref(), Some("Available is False: MissingEndpoints: no addresses"));
        assert_eq!(a.service.unwrap().to_string(), "monitoring/metrics");
    }
}
