//! Storage faults: a claim the PV controller cannot bind.

use std::time::Duration;

use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim};
use kube::Api;
use kube::api::ListParams;
use serde_json::json;

use super::{Ctx, FaultTarget, POLL};
use crate::apply::create_namespaced;
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};
use crate::workloads::STORAGE_CLASS;

/// A claim bigger than any PV of its class: the PV controller leaves it Pending.
pub(super) async fn pvc_pending(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    create_namespaced::<PersistentVolumeClaim>(&ctx.client, json!({
        "apiVersion": "v1", "kind": "PersistentVolumeClaim",
        "metadata": { "name": name, "namespace": namespace },
        "spec": { "accessModes": ["ReadWriteOnce"], "storageClassName": STORAGE_CLASS, "resources": { "requests": { "storage": "500Gi" } } },
    }))
    .await?;
    // Visible once the PV controller has looked at it and said why it stays Pending.
    let events: Api<Event> = Api::namespaced(ctx.client.clone(), namespace);
    let claims: Api<PersistentVolumeClaim> = Api::namespaced(ctx.client.clone(), namespace);
    poll_until(
        format!("the PV controller to leave PVC {namespace}/{name} Pending"),
        Duration::from_secs(60),
        POLL,
        async || {
            let claim = claims
                .get(name)
                .await
                .map_err(TestEnvError::kube(format!("reading PVC {namespace}/{name}")))?;
            let phase = claim.status.and_then(|s| s.phase).unwrap_or_default();
            let listed = events
                .list(&ListParams::default().fields(&format!(
                    "involvedObject.kind=PersistentVolumeClaim,involvedObject.name={name}"
                )))
                .await
                .map_err(TestEnvError::kube(format!(
                    "listing the events of PVC {namespace}/{name}"
                )))?;
            if phase == "Pending" && !listed.items.is_empty() {
                return Ok(Look::Done(FaultTarget::new(
                    "PersistentVolumeClaim",
                    Some(namespace),
                    name,
                )));
            }
            Ok(Look::waiting(format!("phase {phase:?}, {} events", listed.items.len())))
        },
    )
    .await
}
