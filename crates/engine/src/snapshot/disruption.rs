//! The compact PodDisruptionBudget: what it selects and how many disruptions it allows now,
//! what a drain during the upgrade will run into.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::Snapshot;
use super::intern::Labels;

/// A PodDisruptionBudget as far as a drain cares.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Pdb {
    /// `metadata.namespace`.
    pub namespace: String,
    /// `metadata.name`.
    pub name: String,
    /// `spec.selector`; `None` (a null selector) selects no pod.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selector: Option<LabelSelector>,
    /// `status.disruptionsAllowed`: how many of its pods may be evicted now.
    #[serde(default)]
    pub disruptions_allowed: i32,
    /// `status.currentHealthy`.
    #[serde(default)]
    pub current_healthy: i32,
    /// `status.desiredHealthy`.
    #[serde(default)]
    pub desired_healthy: i32,
    /// `status.expectedPods`.
    #[serde(default)]
    pub expected_pods: i32,
}

/// A label selector (`matchLabels` and `matchExpressions`). An empty one selects every pod.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LabelSelector {
    /// `matchLabels`.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub match_labels: BTreeMap<String, String>,
    /// `matchExpressions`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub match_expressions: Vec<SelectorRequirement>,
}

/// One `matchExpressions` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SelectorRequirement {
    /// The label key.
    pub key: String,
    /// `In`, `NotIn`, `Exists` or `DoesNotExist`.
    pub operator: String,
    /// The values (for `In` and `NotIn`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub values: Vec<String>,
}

impl LabelSelector {
    /// Whether `labels` are selected, as the API server matches selectors (an unknown
    /// operator matches nothing).
    pub fn matches(&self, labels: &Labels) -> bool {
        self.match_labels.iter().all(|(k, v)| labels.get(k) == Some(v.as_str()))
            && self.match_expressions.iter().all(|r| {
                let value = labels.get(&r.key);
                let listed = |v: &str| r.values.iter().any(|x| x == v);
                match r.operator.as_str() {
                    "In" => value.is_some_and(listed),
                    "NotIn" => value.is_none_or(|v| !listed(v)),
                    "Exists" => value.is_some(),
                    "DoesNotExist" => value.is_none(),
                    _ => false,
                }
            })
    }
}

impl Pdb {
    /// Whether this budget covers a pod of `namespace` with `labels`.
    pub fn covers(&self, namespace: &str, labels: &Labels) -> bool {
        self.namespace == namespace && self.selector.as_ref().is_some_and(|s| s.matches(labels))
    }
}

impl Snapshot {
    /// The PodDisruptionBudgets, or none when not gathered.
    pub fn pdb_list(&self) -> &[Pdb] {
        self.pdbs.ok().map_or(&[], Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect()
    }

    fn labels(pairs: &[(&str, &str)]) -> Labels {
        Labels::from(map(pairs))
    }

    #[test]
    fn selectors_match_as_the_api_server_matches_them() {
        let app = labels(&[("app", "web"), ("tier", "front")]);
        assert!(LabelSelector::default().matches(&app));
        let by_label = LabelSelector { match_labels: map(&[("app", "web")]), ..Default::default() };
        assert!(by_label.matches(&app) && !by_label.matches(&labels(&[("app", "db")])));
        let expr = |operator: &str, values: &[&str]| LabelSelector {
            match_expressions: vec![SelectorRequirement {
                key: "tier".into(),
                operator: operator.into(),
                values: values.iter().map(|v| (*v).to_owned()).collect(),
            }],
            ..Default::default()
        };
        assert!(expr("In", &["front"]).matches(&app));
        assert!(!expr("NotIn", &["front"]).matches(&app));
        assert!(expr("Exists", &[]).matches(&app));
        assert!(!expr("DoesNotExist", &[]).matches(&app));
        assert!(!expr("Sideways", &[]).matches(&app));
    }
}
