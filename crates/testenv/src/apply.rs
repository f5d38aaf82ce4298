//! Creating objects from JSON manifests: the typed API for each kind, an object that already
//! exists counts as created (so re-running a step is harmless).

use k8s_openapi::NamespaceResourceScope;
use kube::api::PostParams;
use kube::{Api, Resource};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::TestEnvError;

/// Creates a namespaced object described by `manifest` (its namespace taken from the
/// manifest), unless it exists.
pub(crate) async fn create_namespaced<K>(
    client: &kube::Client,
    manifest: serde_json::Value,
) -> Result<K, TestEnvError>
where
    K: Resource<Scope = NamespaceResourceScope, DynamicType = ()>
        + Clone
        + DeserializeOwned
        + Serialize
        + std::fmt::Debug,
{
    let object: K = parse(manifest)?;
    let namespace = object.meta().namespace.clone().unwrap_or_else(|| "default".into());
    let api: Api<K> = Api::namespaced(client.clone(), &namespace);
    create_with(&api, object).await
}

/// Creates a cluster-scoped object described by `manifest`, unless it exists.
pub(crate) async fn create_cluster<K>(
    client: &kube::Client,
    manifest: serde_json::Value,
) -> Result<K, TestEnvError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let object: K = parse(manifest)?;
    let api: Api<K> = Api::all(client.clone());
    create_with(&api, object).await
}

async fn create_with<K>(api: &Api<K>, object: K) -> Result<K, TestEnvError>
where
    K: Resource<DynamicType = ()> + Clone + DeserializeOwned + Serialize + std::fmt::Debug,
{
    let name = object.meta().name.clone().unwrap_or_default();
    let what = format!(
        "{} {}{}",
        K::kind(&()),
        object.meta().namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default(),
        name
    );
    match api.create(&PostParams::default(), &object).await {
        Ok(created) => Ok(created),
        Err(kube::Error::Api(e)) if e.code == 409 => {
            api.get(&name).await.map_err(TestEnvError::kube(format!("reading {what}")))
        }
        Err(e) => Err(TestEnvError::kube(format!("creating {what}"))(e)),
    }
}

fn parse<K: DeserializeOwned + Resource<DynamicType = ()>>(
    manifest: serde_json::Value,
) -> Result<K, TestEnvError> {
    serde_json::from_value(manifest).map_err(|e| {
        TestEnvError::Invalid(format!("a {} manifest does not parse: {e}", K::kind(&())))
    })
}
