//! Objects still written on APIs the cluster no longer serves: a FlowSchema whose
//! `kubectl apply` record names `flowcontrol.apiserver.k8s.io/v1beta3`, and a Helm v3
//! release whose stored manifest holds a `policy/v1beta1` PodDisruptionBudget (with Helm's
//! storage encoding, base64 of gzip of JSON).

use std::collections::BTreeMap;
use std::io::Write;

use base64::Engine;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use kube::Api;
use serde_json::json;

use super::{Ctx, FAULTS_NAMESPACE, FaultTarget};
use crate::apply::{create_cluster, create_namespaced};
use crate::error::TestEnvError;

/// A FlowSchema created as `kubectl apply` of a `flowcontrol.apiserver.k8s.io/v1beta3`
/// manifest leaves it (the API removed in 1.32).
pub(super) async fn last_applied(ctx: &Ctx<'_>, name: &str) -> Result<FaultTarget, TestEnvError> {
    let spec = json!({
        "priorityLevelConfiguration": { "name": "workload-low" },
        "matchingPrecedence": 9000,
        "distinguisherMethod": { "type": "ByUser" },
        "rules": [{
            "subjects": [{ "kind": "ServiceAccount", "serviceAccount": { "name": "batch-runner", "namespace": FAULTS_NAMESPACE } }],
            "resourceRules": [{ "verbs": ["list", "watch"], "apiGroups": ["batch"], "resources": ["jobs"], "namespaces": ["*"] }],
        }],
    });
    let last_applied = json!({
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1beta3",
        "kind": "FlowSchema",
        "metadata": { "annotations": {}, "name": name },
        "spec": spec,
    });
    create_cluster::<FlowSchema>(&ctx.client, json!({
        "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema",
        "metadata": { "name": name, "annotations": { "kubectl.kubernetes.io/last-applied-configuration": last_applied.to_string() + "\n" } },
        "spec": spec,
    }))
    .await?;
    let api: Api<FlowSchema> = Api::all(ctx.client.clone());
    let got =
        api.get(name).await.map_err(TestEnvError::kube(format!("reading FlowSchema {name}")))?;
    let annotation = got
        .metadata
        .annotations
        .unwrap_or_default()
        .get("kubectl.kubernetes.io/last-applied-configuration")
        .cloned()
        .unwrap_or_default();
    if !annotation.contains("flowcontrol.apiserver.k8s.io/v1beta3") {
        return Err(TestEnvError::Invalid(format!(
            "FlowSchema {name} lost its last-applied-configuration"
        )));
    }
    Ok(FaultTarget::new("FlowSchema", None, name))
}

/// The Secret Helm v3 keeps for revision 1 of release `name`: `data.release` is
/// base64(gzip(JSON release)), and the manifest holds a `policy/v1beta1` PDB.
pub(super) async fn helm_release(
    ctx: &Ctx<'_>,
    namespace: &str,
    name: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(namespace).await?;
    let secret_name = format!("sh.helm.release.v1.{name}.v1");
    let release = release(namespace, name);
    let encoded = encode_release(&release)?;
    let mut labels = BTreeMap::new();
    for (k, v) in [("name", name), ("owner", "helm"), ("status", "deployed"), ("version", "1")] {
        labels.insert(k.to_string(), v.to_string());
    }
    create_namespaced::<Secret>(&ctx.client, json!({
        "apiVersion": "v1", "kind": "Secret",
        "metadata": { "name": secret_name, "namespace": namespace, "labels": labels },
        "type": "helm.sh/release.v1",
        "data": { "release": base64::engine::general_purpose::STANDARD.encode(encoded.as_bytes()) },
    }))
    .await?;
    let api: Api<Secret> = Api::namespaced(ctx.client.clone(), namespace);
    let got = api
        .get(&secret_name)
        .await
        .map_err(TestEnvError::kube(format!("reading Secret {namespace}/{secret_name}")))?;
    if got.type_.as_deref() != Some("helm.sh/release.v1") {
        return Err(TestEnvError::Invalid(format!(
            "Secret {namespace}/{secret_name} has type {:?}",
            got.type_
        )));
    }
    Ok(FaultTarget::new("Secret", Some(namespace), &secret_name))
}

/// A Helm v3 release (the JSON Helm stores) of a chart whose manifest has a
/// `policy/v1beta1` PodDisruptionBudget next to a current Deployment.
fn release(namespace: &str, name: &str) -> serde_json::Value {
    let manifest = format!(
        "---\n# Source: {name}/templates/pdb.yaml\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: {name}\n  labels:\n    app.kubernetes.io/managed-by: Helm\nspec:\n  minAvailable: 1\n  selector:\n    matchLabels:\n      app: {name}\n---\n# Source: {name}/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\nspec:\n  replicas: 2\n  selector:\n    matchLabels:\n      app: {name}\n  template:\n    metadata:\n      labels:\n        app: {name}\n    spec:\n      containers:\n      - name: app\n        image: nginx:1.21\n"
    );
    json!({
        "name": name,
        "info": {
            "first_deployed": "2023-03-14T09:26:53.123456789Z",
            "last_deployed": "2023-03-14T09:26:53.123456789Z",
            "deleted": "",
            "description": "Install complete",
            "status": "deployed",
        },
        "chart": {
            "metadata": { "name": name, "version": "1.4.2", "description": "A chart from before policy/v1", "apiVersion": "v2", "appVersion": "1.21.6", "type": "application" },
            "lock": null,
            "templates": [],
            "values": { "replicaCount": 2 },
            "schema": null,
            "files": [],
        },
        "config": {},
        "manifest": manifest,
        "version": 1,
        "namespace": namespace,
    })
}

/// Helm's storage encoding of a release: base64(gzip(JSON)).
fn encode_release(release: &serde_json::Value) -> Result<String, TestEnvError> {
    let json = serde_json::to_vec(release)
        .map_err(|e| TestEnvError::Invalid(format!("serialising a Helm release: {e}")))?;
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(&json)
        .and_then(|_| gz.flush())
        .map_err(TestEnvError::io("compressing", "a Helm release"))?;
    let compressed = gz.finish().map_err(TestEnvError::io("compressing", "a Helm release"))?;
    Ok(base64::engine::general_purpose::STANDARD.encode(compressed))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    #[test]
    fn helm_release_decodes_to_a_manifest_with_the_removed_pdb_api() {
        let encoded = encode_release(&release("faults", "legacy-pdb")).unwrap();
        let compressed = base64::engine::general_purpose::STANDARD.decode(encoded).unwrap();
        let mut json = String::new();
        flate2::read::GzDecoder::new(&compressed[..]).read_to_string(&mut json).unwrap();
        let release: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert_eq!(release["name"], "legacy-pdb");
        assert!(
            release["manifest"]
                .as_str()
                .unwrap()
                .contains("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget")
        );
    }
}
