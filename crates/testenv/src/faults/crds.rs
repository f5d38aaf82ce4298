//! CustomResourceDefinition faults that block an upgrade or betray a client that will break
//! with it: a CRD whose `status.storedVersions` still names a version it no longer serves
//! (objects stored in it cannot be read or migrated), and a client still calling a CRD
//! version marked `deprecated: true`, which the API server counts in its
//! `apiserver_requested_deprecated_apis` metric.
//!
//! Both CRDs are in the group `faults.postcheck.dev`, namespaced, with objects in `faults`.

use std::time::Duration;

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::Api;
use kube::api::{ApiResource, DynamicObject, GroupVersionKind, Patch, PatchParams};
use serde_json::json;

use super::{Ctx, FAULTS_NAMESPACE, FaultTarget, POLL};
use crate::apply::create_cluster;
use crate::error::TestEnvError;
use crate::wait::{Look, poll_until};

/// The API group of the faults' CRDs.
pub const CRD_GROUP: &str = "faults.postcheck.dev";
/// The user agent of the client DeprecatedApiClient plays.
pub const DEPRECATED_CLIENT_USER_AGENT: &str = "legacy-widget-controller/0.9.2";

/// A version of a CRD as `spec.versions` lists it (any object allowed).
fn version(name: &str, served: bool, storage: bool) -> serde_json::Value {
    json!({
        "name": name, "served": served, "storage": storage,
        "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } },
    })
}

/// `Kind` for a plural (`snapshots` -> `Snapshot`).
fn kind_of(plural: &str) -> String {
    let singular = plural.strip_suffix('s').unwrap_or(plural);
    let mut chars = singular.chars();
    chars.next().map(|c| c.to_ascii_uppercase().to_string() + chars.as_str()).unwrap_or_default()
}

/// Creates the CRD `<plural>.faults.postcheck.dev` with `versions` and waits until it is
/// Established.
async fn create_crd(
    ctx: &Ctx<'_>,
    plural: &str,
    versions: serde_json::Value,
) -> Result<String, TestEnvError> {
    let crd_name = format!("{plural}.{CRD_GROUP}");
    let kind = kind_of(plural);
    create_cluster::<CustomResourceDefinition>(&ctx.client, json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": { "name": crd_name },
        "spec": {
            "group": CRD_GROUP, "scope": "Namespaced",
            "names": { "plural": plural, "singular": kind.to_lowercase(), "kind": kind, "listKind": format!("{kind}List") },
            "versions": versions,
        },
    }))
    .await?;
    let api: Api<CustomResourceDefinition> = Api::all(ctx.client.clone());
    poll_until(
        format!("CRD {crd_name} to be Established"),
        Duration::from_secs(30),
        POLL,
        async || {
            let crd = api
                .get(&crd_name)
                .await
                .map_err(TestEnvError::kube(format!("reading CRD {crd_name}")))?;
            let established = crd
                .status
                .and_then(|s| s.conditions)
                .unwrap_or_default()
                .iter()
                .any(|c| c.type_ == "Established" && c.status == "True");
            if established {
                return Ok(Look::Done(crd_name.clone()));
            }
            Ok(Look::waiting(""))
        },
    )
    .await
}

/// The typed-less API of `<plural>` at `version` in the namespace `faults`.
fn objects(ctx: &Ctx<'_>, plural: &str, version: &str) -> Api<DynamicObject> {
    let gvk = GroupVersionKind::gvk(CRD_GROUP, version, &kind_of(plural));
    let resource = ApiResource::from_gvk_with_plural(&gvk, plural);
    Api::namespaced_with(ctx.client.clone(), FAULTS_NAMESPACE, &resource)
}

/// Creates one object through `version`, retrying while the new version is not served yet.
async fn create_object(
    ctx: &Ctx<'_>,
    plural: &str,
    version: &str,
    name: &str,
) -> Result<(), TestEnvError> {
    let api = objects(ctx, plural, version);
    let object: DynamicObject = serde_json::from_value(json!({
        "apiVersion": format!("{CRD_GROUP}/{version}"), "kind": kind_of(plural),
        "metadata": { "name": name, "namespace": FAULTS_NAMESPACE },
        "spec": { "schedule": "0 2 * * *", "retain": 7 },
    }))
    .map_err(|e| TestEnvError::Invalid(format!("a {plural} manifest: {e}")))?;
    poll_until(
        format!("creating {plural} {FAULTS_NAMESPACE}/{name} through {version}"),
        Duration::from_secs(30),
        POLL,
        async || {
            let last = match api.create(&Default::default(), &object).await {
                Ok(_) => return Ok(Look::Done(())),
                Err(kube::Error::Api(e)) if e.code == 409 => return Ok(Look::Done(())),
                Err(e) => e.to_string(),
            };
            Ok(Look::waiting(last))
        },
    )
    .await
}

/// A CRD first served and stored as `v1alpha1`, with an object written then; then `v1`
/// becomes the storage version and `v1alpha1` stops being served. The API server keeps
/// `v1alpha1` in `status.storedVersions` (nobody migrated the object), as a CRD looks when
/// its operator was upgraded without running the storage migration.
pub(super) async fn stored_version_not_served(
    ctx: &Ctx<'_>,
    plural: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(FAULTS_NAMESPACE).await?;
    let crd_name = create_crd(ctx, plural, json!([version("v1alpha1", true, true)])).await?;
    create_object(ctx, plural, "v1alpha1", "nightly").await?;
    let api: Api<CustomResourceDefinition> = Api::all(ctx.client.clone());
    let patch = json!({ "spec": { "versions": [version("v1alpha1", false, false), version("v1", true, true)] } });
    api.patch(&crd_name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .map_err(TestEnvError::kube(format!("moving CRD {crd_name} to v1")))?;
    let old = objects(ctx, plural, "v1alpha1");
    poll_until(
        format!("CRD {crd_name} to store v1alpha1 without serving it"),
        Duration::from_secs(30),
        POLL,
        async || {
            let crd = api
                .get(&crd_name)
                .await
                .map_err(TestEnvError::kube(format!("reading CRD {crd_name}")))?;
            let stored = crd.status.and_then(|s| s.stored_versions).unwrap_or_default();
            let served = crd.spec.versions.iter().any(|v| v.name == "v1alpha1" && v.served);
            let unserved = matches!(
                old.get("nightly").await,
                Err(kube::Error::Api(ref e)) if e.code == 404
            );
            if stored.iter().any(|v| v == "v1alpha1") && !served && unserved {
                return Ok(Look::Done(FaultTarget::new(
                    "CustomResourceDefinition",
                    None,
                    &crd_name,
                )));
            }
            Ok(Look::waiting(format!("storedVersions {stored:?}, v1alpha1 served {served}")))
        },
    )
    .await
}

/// A CRD serving `v1` (storage) and `v1beta1` marked `deprecated: true`, and a client
/// ([`DEPRECATED_CLIENT_USER_AGENT`]) that creates and lists objects through `v1beta1`;
/// returns once the API server's /metrics shows the call in
/// `apiserver_requested_deprecated_apis` (a gauge the API server resets when it restarts:
/// inject again after an upgrade).
pub(super) async fn deprecated_api_client(
    ctx: &Ctx<'_>,
    plural: &str,
) -> Result<FaultTarget, TestEnvError> {
    ctx.ensure_namespace(FAULTS_NAMESPACE).await?;
    let mut deprecated = version("v1beta1", true, false);
    deprecated["deprecated"] = json!(true);
    deprecated["deprecationWarning"] =
        json!(format!("{CRD_GROUP}/v1beta1 {} is deprecated; use {CRD_GROUP}/v1", kind_of(plural)));
    let crd_name = create_crd(ctx, plural, json!([deprecated, version("v1", true, true)])).await?;
    create_object(ctx, plural, "v1beta1", "legacy").await?;
    let path = format!("/apis/{CRD_GROUP}/v1beta1/namespaces/{FAULTS_NAMESPACE}/{plural}");
    let want = deprecated_metric_line(plural);
    poll_until(
        format!("/metrics to count the calls to {CRD_GROUP}/v1beta1 {plural}"),
        Duration::from_secs(30),
        POLL,
        async || {
            let list = http::Request::get(&path)
                .header(http::header::USER_AGENT, DEPRECATED_CLIENT_USER_AGENT)
                .body(Vec::new())
                .expect("a static request");
            ctx.client
                .request_text(list)
                .await
                .map_err(TestEnvError::kube(format!("listing {path}")))?;
            let metrics =
                http::Request::get("/metrics").body(Vec::new()).expect("a static request");
            let text = ctx
                .client
                .request_text(metrics)
                .await
                .map_err(TestEnvError::kube("reading the API server's /metrics"))?;
            if text.lines().any(|l| want.iter().all(|part| l.contains(part))) {
                return Ok(Look::Done(FaultTarget::new(
                    "CustomResourceDefinition",
                    None,
                    &crd_name,
                )));
            }
            Ok(Look::waiting("not in /metrics yet"))
        },
    )
    .await
}

/// The parts of the `apiserver_requested_deprecated_apis` line a call to `v1beta1` of
/// `plural` makes.
pub fn deprecated_metric_line(plural: &str) -> [String; 4] {
    [
        "apiserver_requested_deprecated_apis{".to_string(),
        format!("group=\"{CRD_GROUP}\""),
        format!("resource=\"{plural}\""),
        "version=\"v1beta1\"".to_string(),
    ]
}
