//! Service faults: a Service that had endpoints and lost them because its pods went away, as
//! the EndpointSlice controller reports it.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::{ListParams, Patch, PatchParams};
use serde_json::json;

use super::{Ctx, FaultTarget, POLL, image_for};
use crate::apply::create_namespaced;
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};
use crate::workloads;

/// A Deployment with a Service; once the Service has a ready endpoint, the Deployment is
/// scaled to zero and the endpoints go away.
pub(super) async fn no_endpoints(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    create_namespaced::<Deployment>(
        &ctx.client,
        workloads::deployment(namespace, name, 1, &image_for(name), 8080),
    )
    .await?;
    create_namespaced::<Service>(&ctx.client, workloads::service(namespace, name, 8080)).await?;
    let slices: Api<EndpointSlice> = Api::namespaced(ctx.client.clone(), namespace);
    let by_service = ListParams::default().labels(&format!("kubernetes.io/service-name={name}"));
    let list = |what: &'static str| {
        let (slices, by_service) = (slices.clone(), by_service.clone());
        let action = format!("listing the EndpointSlices of {namespace}/{name} ({what})");
        async move { slices.list(&by_service).await.map_err(TestEnvError::kube(action)) }
    };
    poll_until(
        format!("Service {namespace}/{name} to get a ready endpoint"),
        Duration::from_secs(60),
        POLL,
        async || {
            if workloads::ready_endpoints(&list("before").await?.items, name) > 0 {
                return Ok(Look::Done(()));
            }
            Ok(Look::waiting(""))
        },
    )
    .await?;
    let deployments: Api<Deployment> = Api::namespaced(ctx.client.clone(), namespace);
    deployments
        .patch(name, &PatchParams::default(), &Patch::Merge(json!({ "spec": { "replicas": 0 } })))
        .await
        .map_err(TestEnvError::kube(format!("scaling Deployment {namespace}/{name} to zero")))?;
    poll_until(
        format!("Service {namespace}/{name} to lose its endpoints"),
        Duration::from_secs(60),
        POLL,
        async || {
            let listed = list("after").await?;
            let endpoints: usize =
                listed.items.iter().map(|s| s.endpoints.as_ref().map_or(0, Vec::len)).sum();
            if endpoints == 0 && !listed.items.is_empty() {
                return Ok(Look::Done(FaultTarget::new("Service", Some(namespace), name)));
            }
            Ok(Look::waiting(format!("{endpoints} endpoints")))
        },
    )
    .await
}
