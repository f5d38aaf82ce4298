//! Faults in the API server's extension points: an aggregated APIService whose backend is
//! gone (the aggregator marks it unavailable) and a fail-closed admission webhook without
//! endpoints (the API server refuses the writes it covers).

use std::time::Duration;

use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Service};
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use kube::api::PostParams;
use serde_json::json;

use super::{Ctx, FaultTarget, POLL, WEBHOOK_TARGET_NAMESPACE};
use crate::apply::{create_cluster, create_namespaced};
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};

/// An APIService for `v1beta1.<name>.faults.postcheck.dev` served by a Service that selects
/// no pod; the aggregator's availability controller marks it Available=False.
pub(super) async fn apiservice_unavailable(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    create_namespaced::<Service>(&ctx.client, json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": name, "namespace": namespace },
        "spec": { "selector": { "app": name }, "ports": [{ "name": "https", "port": 443, "targetPort": 6443 }] },
    }))
    .await?;
    let group = format!("{name}.faults.postcheck.dev");
    let apiservice = format!("v1beta1.{group}");
    create_cluster::<APIService>(
        &ctx.client,
        json!({
            "apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
            "metadata": { "name": apiservice },
            "spec": {
                "group": group, "version": "v1beta1",
                "service": { "namespace": namespace, "name": name, "port": 443 },
                "insecureSkipTLSVerify": true,
                "groupPriorityMinimum": 100, "versionPriority": 100,
            },
        }),
    )
    .await?;
    let api: Api<APIService> = Api::all(ctx.client.clone());
    poll_until(
        format!("APIService {apiservice} to be Available=False"),
        Duration::from_secs(60),
        POLL,
        async || {
            let a = api
                .get(&apiservice)
                .await
                .map_err(TestEnvError::kube(format!("reading APIService {apiservice}")))?;
            let available = a
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .into_iter()
                .find(|c| c.type_ == "Available");
            if available.as_ref().is_some_and(|c| c.status == "False") {
                return Ok(Look::Done(FaultTarget::new("APIService", None, &apiservice)));
            }
            Ok(Look::waiting(format!("{available:?}")))
        },
    )
    .await
}

/// A Fail-policy validating webhook for ConfigMaps in `faults-webhook-target` only, served
/// by a Service without endpoints: creating a ConfigMap there is refused.
pub(super) async fn webhook_no_endpoints(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    create_cluster::<Namespace>(&ctx.client, json!({
        "apiVersion": "v1", "kind": "Namespace",
        "metadata": { "name": WEBHOOK_TARGET_NAMESPACE, "labels": { "faults.postcheck.dev/webhook": "target" } },
    }))
    .await?;
    create_namespaced::<Service>(&ctx.client, json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": name, "namespace": namespace },
        "spec": { "selector": { "app": name }, "ports": [{ "name": "https", "port": 443, "targetPort": 9443 }] },
    }))
    .await?;
    let config = format!("{namespace}-{name}");
    create_cluster::<ValidatingWebhookConfiguration>(&ctx.client, json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingWebhookConfiguration",
        "metadata": { "name": config },
        "webhooks": [{
            "name": format!("{name}.faults.postcheck.dev"),
            "clientConfig": { "service": { "namespace": namespace, "name": name, "path": "/validate", "port": 443 } },
            "rules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE", "UPDATE"], "resources": ["configmaps"], "scope": "Namespaced" }],
            "namespaceSelector": { "matchLabels": { "faults.postcheck.dev/webhook": "target" } },
            "failurePolicy": "Fail",
            "sideEffects": "None",
            "admissionReviewVersions": ["v1"],
            "timeoutSeconds": 5,
        }],
    }))
    .await?;
    let configmaps: Api<ConfigMap> = Api::namespaced(ctx.client.clone(), WEBHOOK_TARGET_NAMESPACE);
    let probe: ConfigMap =
        serde_json::from_value(json!({ "metadata": { "name": "webhook-probe" } }))
            .expect("a static ConfigMap");
    let dry_run = PostParams { dry_run: true, ..Default::default() };
    poll_until(
        format!("the webhook {config} to refuse writes"),
        Duration::from_secs(60),
        POLL,
        async || {
            let last = match configmaps.create(&dry_run, &probe).await {
                Err(kube::Error::Api(e)) if e.message.contains("failed calling webhook") => {
                    return Ok(Look::Done(FaultTarget::new(
                        "ValidatingWebhookConfiguration",
                        None,
                        &config,
                    )));
                }
                Err(e) => e.to_string(),
                Ok(_) => "a ConfigMap was still admitted".to_string(),
            };
            Ok(Look::waiting(last))
        },
    )
    .await
}
