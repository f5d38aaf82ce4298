//! `crd-versions` against the real test control plane: a CRD whose objects are stored in
//! v1alpha1 passes while v1alpha1 is served, and fails naming the CRD once a new storage
//! version (v1) is added and v1alpha1 is marked not served (it stays in
//! `status.storedVersions`: the objects written through it are still stored so).
//! `scripts/test` runs this with `--include-ignored`; it panics when the control plane
//! cannot start.

mod common;

use std::time::{Duration, Instant};

use common::*;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use kube::core::GroupVersionKind;
use postcheck_model::{ItemPhase, Level};
use serde_json::json;

const CRD: &str = "widgets.crd-versions.postcheck.dev";

fn version(name: &str, served: bool, storage: bool) -> serde_json::Value {
    json!({ "name": name, "served": served, "storage": storage,
            "schema": { "openAPIV3Schema": { "type": "object", "x-kubernetes-preserve-unknown-fields": true } } })
}

/// Waits until the CRD is Established (its API is served).
async fn established(crds: &Api<CustomResourceDefinition>) {
    let until = Instant::now() + Duration::from_secs(60);
    loop {
        let crd = crds.get(CRD).await.unwrap();
        let conditions = crd.status.and_then(|s| s.conditions).unwrap_or_default();
        if conditions.iter().any(|c| c.type_ == "Established" && c.status == "True") {
            return;
        }
        assert!(Instant::now() < until, "the CRD {CRD} never became Established");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_stored_version_that_is_no_longer_served_fails_crd_versions() {
    let cluster = up_on_1_36(1).await;
    let client = cluster.client().await.unwrap();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = json!({
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
        "metadata": { "name": CRD },
        "spec": { "group": "crd-versions.postcheck.dev", "scope": "Namespaced",
                  "names": { "plural": "widgets", "singular": "widget", "kind": "Widget" },
                  "versions": [version("v1alpha1", true, true)] }
    });
    crds.create(&PostParams::default(), &serde_json::from_value(crd).unwrap()).await.unwrap();
    established(&crds).await;
    // An object written through v1alpha1, so v1alpha1 is a stored version.
    let gvk = GroupVersionKind::gvk("crd-versions.postcheck.dev", "v1alpha1", "Widget");
    let widgets: Api<DynamicObject> =
        Api::namespaced_with(client.clone(), "default", &ApiResource::from_gvk(&gvk));
    let widget = json!({ "apiVersion": "crd-versions.postcheck.dev/v1alpha1", "kind": "Widget",
                         "metadata": { "name": "old" }, "spec": { "size": 1 } });
    widgets.create(&PostParams::default(), &serde_json::from_value(widget).unwrap()).await.unwrap();

    let mut only = policy(&[]);
    only.checks.only = vec!["crd-versions".into()];
    let before = baseline(&cluster).await;
    let status = judge(&cluster, &before, only.clone()).await;
    let passed = item(&status, "crd-versions");
    assert_eq!(passed.phase, ItemPhase::Success, "{passed:#?}");

    // v1 becomes the storage version; v1alpha1 is no longer served but still stored.
    let patch = json!({ "spec": { "versions": [version("v1alpha1", false, false), version("v1", true, true)] } });
    crds.patch(CRD, &PatchParams::default(), &Patch::Merge(patch)).await.unwrap();
    let stored = crds.get(CRD).await.unwrap().status.and_then(|s| s.stored_versions);
    assert_eq!(stored.as_deref(), Some(&["v1alpha1".to_owned(), "v1".to_owned()][..]));

    let status = judge(&cluster, &before, only).await;
    let failed = item(&status, "crd-versions");
    assert_eq!((failed.phase, failed.level), (ItemPhase::Failed, Level::Warning), "{failed:#?}");
    assert_names(failed, "CustomResourceDefinition", CRD);
    assert!(failed.evidence[0].reason.contains("v1alpha1 no longer served"), "{failed:#?}");
    cluster.down().await.unwrap();
}
