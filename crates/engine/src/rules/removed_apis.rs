//! The removed-API rule table: every GA and beta API version removal from 1.16 on, with its
//! source (`data/removed-apis.yaml`), parsed once. Gathering reads it (which kinds to list,
//! which Helm manifest documents to keep) and so does the `removed-apis` check (which
//! removals apply to the target).

use std::sync::OnceLock;

use postcheck_model::Version;
use serde::Deserialize;

/// One removal: `apiVersion`/`kind` stopped being served in `removedIn`.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Rule {
    /// The removed group/version (`policy/v1beta1`).
    pub(crate) api_version: String,
    /// The kind it served.
    pub(crate) kind: String,
    /// The minor that stopped serving it (`1.25`).
    pub(crate) removed_in: String,
    /// What to use instead (empty when nothing replaces it).
    #[serde(default)]
    pub(crate) replacement: String,
}

impl Rule {
    /// `removedIn` as a version.
    pub(crate) fn removed_version(&self) -> Version {
        Version::parse(&self.removed_in).unwrap_or_else(|e| {
            panic!("the rule table's removedIn {:?} is checked by a test: {e}", self.removed_in)
        })
    }

    /// Whether a cluster at `target` no longer serves this version (no target: every rule).
    pub(crate) fn applies_to(&self, target: Option<&Version>) -> bool {
        target.is_none_or(|t| t.minor_pair() >= self.removed_version().minor_pair())
    }

    /// `removed in 1.32, use flowcontrol.apiserver.k8s.io/v1`.
    pub(crate) fn advice(&self) -> String {
        if self.replacement.is_empty() {
            format!("removed in {} with no replacement", self.removed_in)
        } else {
            format!("removed in {}, use {}", self.removed_in, self.replacement)
        }
    }
}

#[derive(Deserialize)]
struct Table {
    rules: Vec<Rule>,
}

const TABLE: &str = include_str!("../../data/removed-apis.yaml");

/// The rule table, parsed once.
pub(crate) fn rules() -> &'static [Rule] {
    static RULES: OnceLock<Vec<Rule>> = OnceLock::new();
    RULES.get_or_init(|| {
        serde_yaml_ng::from_str::<Table>(TABLE)
            .map(|t| t.rules)
            .unwrap_or_else(|e| panic!("data/removed-apis.yaml is checked by a test: {e}"))
    })
}

/// The rule removing `api_version`/`kind`, if any.
pub(crate) fn rule_for(api_version: &str, kind: &str) -> Option<&'static Rule> {
    rules().iter().find(|r| r.api_version == api_version && r.kind == kind)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rule_table_parses_and_every_removal_is_a_version() {
        assert!(rules().len() > 40, "{} rules", rules().len());
        for r in rules() {
            let v = Version::parse(&r.removed_in).unwrap_or_else(|e| panic!("{r:?}: {e}"));
            assert!(v.major == 1 && v.minor >= 16, "{r:?}");
            assert!(r.api_version.contains('/'), "{r:?}");
        }
        assert_eq!(
            rule_for("flowcontrol.apiserver.k8s.io/v1beta3", "FlowSchema").unwrap().removed_in,
            "1.32"
        );
        assert_eq!(
            rule_for("policy/v1beta1", "PodDisruptionBudget").unwrap().replacement,
            "policy/v1"
        );
    }
}
