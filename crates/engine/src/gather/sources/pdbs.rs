//! PodDisruptionBudgets (policy/v1), all namespaces, each compacted to its selector and the
//! disruptions it allows now.

use std::collections::BTreeMap;

use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use serde::Deserialize;

use super::super::Pass;
use super::super::api::{Meta, null_default};
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{LabelSelector, Pdb, SelectorRequirement, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Pdb>, kube::Error> {
    list_all(pass, ListRequest::all::<PodDisruptionBudget>(), Source::Pdbs, pdb).await
}

/// A PDB as far as its selector and status.
#[derive(Debug, Deserialize)]
struct WirePdb {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    spec: Spec,
    #[serde(default)]
    status: Status,
}

#[derive(Debug, Default, Deserialize)]
struct Spec {
    #[serde(default)]
    selector: Option<Selector>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Selector {
    #[serde(default, deserialize_with = "null_default")]
    match_labels: BTreeMap<String, String>,
    #[serde(default, deserialize_with = "null_default")]
    match_expressions: Vec<Requirement>,
}

#[derive(Debug, Deserialize)]
struct Requirement {
    #[serde(default)]
    key: String,
    #[serde(default)]
    operator: String,
    #[serde(default, deserialize_with = "null_default")]
    values: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct Status {
    #[serde(default)]
    disruptions_allowed: i32,
    #[serde(default)]
    current_healthy: i32,
    #[serde(default)]
    desired_healthy: i32,
    #[serde(default)]
    expected_pods: i32,
}

fn pdb(p: WirePdb) -> Option<Pdb> {
    Some(Pdb {
        namespace: p.metadata.namespace.unwrap_or_default(),
        name: p.metadata.name,
        selector: p.spec.selector.map(|s| LabelSelector {
            match_labels: s.match_labels,
            match_expressions: s
                .match_expressions
                .into_iter()
                .map(|r| SelectorRequirement { key: r.key, operator: r.operator, values: r.values })
                .collect(),
        }),
        disruptions_allowed: p.status.disruptions_allowed,
        current_healthy: p.status.current_healthy,
        desired_healthy: p.status.desired_healthy,
        expected_pods: p.status.expected_pods,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_selector_and_the_disruptions_allowed() {
        let raw = serde_json::json!({
            "metadata": {"namespace": "shop", "name": "web"},
            "spec": {"minAvailable": 1, "selector": {"matchLabels": {"app": "web"},
                "matchExpressions": [{"key": "tier", "operator": "In", "values": ["front"]}]}},
            "status": {"disruptionsAllowed": 0, "currentHealthy": 1, "desiredHealthy": 1, "expectedPods": 1}
        });
        let p = pdb(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!((p.namespace.as_str(), p.name.as_str(), p.disruptions_allowed), ("shop", "web", 0));
        let selector = p.selector.unwrap();
        assert_eq!(selector.match_labels["app"], "web");
        assert_eq!(selector.match_expressions[0].values, ["front"]);
        let bare: WirePdb =
            serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}, "spec": {"selector": null}})).unwrap();
        assert!(pdb(bare).unwrap().selector.is_none());
    }
}
