//! CustomResourceDefinitions, each compacted to its name, the versions it serves and the
//! versions its objects are stored in (`status.storedVersions`).

use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use serde::Deserialize;

use super::super::Pass;
use super::super::api::{Meta, null_default};
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{CrdVersions, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<CrdVersions>, kube::Error> {
    list_all(pass, ListRequest::all::<CustomResourceDefinition>(), Source::CrdVersions, crd).await
}

/// A CRD as far as its versions.
#[derive(Debug, Deserialize)]
struct Crd {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

#[derive(Debug, Default, Deserialize)]
struct Spec {
    #[serde(default, deserialize_with = "null_default")]
    versions: Vec<Version>,
}

#[derive(Debug, Deserialize)]
struct Version {
    #[serde(default)]
    name: String,
    #[serde(default)]
    served: bool,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default, deserialize_with = "null_default")]
    stored_versions: Vec<String>,
}

fn crd(c: Crd) -> Option<CrdVersions> {
    Some(CrdVersions {
        name: c.metadata.name,
        served: c.spec.versions.into_iter().filter(|v| v.served).map(|v| v.name).collect(),
        stored: c.status.stored_versions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_served_and_the_stored_versions() {
        let raw = serde_json::json!({
            "metadata": {"name": "widgets.example.com"},
            "spec": {"group": "example.com", "scope": "Namespaced", "names": {"plural": "widgets", "kind": "Widget"},
                "versions": [{"name": "v1alpha1", "served": false, "storage": false}, {"name": "v1", "served": true, "storage": true}]},
            "status": {"storedVersions": ["v1alpha1", "v1"], "conditions": null}
        });
        let c = crd(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!(c.name, "widgets.example.com");
        assert_eq!(c.served, ["v1"]);
        assert_eq!(c.stored, ["v1alpha1", "v1"]);
        let bare: Crd = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap();
        assert!(crd(bare).unwrap().stored.is_empty());
    }
}
