//! Disruption faults: a PodDisruptionBudget that allows no disruption at all, so a drain (the
//! node side of an upgrade) blocks on it; the disruption controller computes the budget and
//! the API server refuses evictions against it.

use std::time::Duration;

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use kube::Api;
use serde_json::json;

use super::{Ctx, FaultTarget, POLL, image_for};
use crate::apply::create_namespaced;
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};
use crate::workloads;

/// A two-replica Deployment and a PDB `maxUnavailable: 0` over its pods: once both pods are
/// healthy the disruption controller reports `disruptionsAllowed: 0`.
pub(super) async fn pdb_no_disruption(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    create_namespaced::<Deployment>(
        &ctx.client,
        workloads::deployment(namespace, name, 2, &image_for(name), 8080),
    )
    .await?;
    create_namespaced::<PodDisruptionBudget>(
        &ctx.client,
        json!({
            "apiVersion": "policy/v1", "kind": "PodDisruptionBudget",
            "metadata": { "name": name, "namespace": namespace },
            "spec": { "maxUnavailable": 0, "selector": { "matchLabels": { "app": name } } },
        }),
    )
    .await?;
    let api: Api<PodDisruptionBudget> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("PDB {namespace}/{name} to allow no disruption over 2 healthy pods"),
        Duration::from_secs(60),
        POLL,
        async || {
            let pdb = api
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading PDB {namespace}/{name}")))?;
            let status = pdb.status.clone().unwrap_or_default();
            let observed = status.observed_generation == pdb.metadata.generation;
            if observed
                && status.expected_pods == Some(2)
                && status.current_healthy == Some(2)
                && status.disruptions_allowed == Some(0)
            {
                return Ok(Look::Done(FaultTarget::new(
                    "PodDisruptionBudget",
                    Some(namespace),
                    name,
                )));
            }
            Ok(Look::waiting(format!(
                "expected {:?}, healthy {:?}, allowed {:?}",
                status.expected_pods, status.current_healthy, status.disruptions_allowed
            )))
        },
    )
    .await
}
