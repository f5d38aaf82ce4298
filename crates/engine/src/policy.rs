//! Policy: what the user tolerates, excludes and wants checked, and the one exclusion
//! matcher every check asks ([`Policy::excludes`]).
//!
//! Read from a YAML or TOML file (by extension) and then overridden by command-line flags.
//! The same type travels inside a [`crate::CheckRequest`] from the service. Validating a
//! policy needs the catalogue's names, so `from_file` and `validate` are defined beside the
//! catalogue (`crate::checks`): this module depends on no check. Every field has
//! a default, so an empty file (or none) is the strict default policy.
//!
//! ```yaml
//! exclude:
//!   namespaces: [sandbox]
//!   labels: ["team=experiments", "postcheck.io/ignore"]
//!   names: [node-17, "kube-system/flaky-*"]
//! tolerances:
//!   maxUnreadyNodes: 1
//!   pendingGrace: 5m
//! checks:
//!   skip: [node-conditions]
//! nodeVersion: skew
//! synthetic:
//!   enabled: true      # opt-in: a new pod on every node (writes)
//! nodeJoin:
//!   enabled: true      # opt-in: a kubelet client certificate requested and issued (writes)
//! precheck:
//!   upgradePath: cce        # or upstream (one minor at a time, the default)
//!   certificateDays: 30
//! ```

use std::path::Path;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::snapshot::{Labels, Node, Pod};

/// Why a policy could not be read.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// The file could not be read.
    #[error("reading the policy file {path}: {source}")]
    Read {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The YAML did not parse into a policy.
    #[error("parsing the policy file {path} as YAML: {source}")]
    Yaml {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: serde_yaml_ng::Error,
    },
    /// The TOML did not parse into a policy.
    #[error("parsing the policy file {path} as TOML: {source}")]
    Toml {
        /// The file.
        path: String,
        /// The cause.
        #[source]
        source: toml::de::Error,
    },
    /// A check named in `checks.only` or `checks.skip` does not exist.
    #[error(
        "the policy names the check {0:?}, which is not in the catalogue (see `postcheck checks`)"
    )]
    UnknownCheck(String),
    /// A label exclusion is not `key` or `key=value`.
    #[error("the label exclusion {0:?} is not of the form key or key=value")]
    BadLabel(String),
}

/// The whole policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Policy {
    /// Objects no check judges.
    pub exclude: Exclusions,
    /// How much imperfection passes.
    pub tolerances: Tolerances,
    /// Which checks run.
    pub checks: Selection,
    /// How `node-version` judges kubelets and kube-proxies.
    pub node_version: NodeVersionPolicy,
    /// The opt-in synthetic pod check.
    pub synthetic: SyntheticOptions,
    /// What the pre-check allows: upgrade paths, how soon a certificate may expire.
    pub precheck: PrecheckOptions,
    /// The opt-in node-join check.
    pub node_join: NodeJoinOptions,
}

/// The policy's switch for the node-join check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct NodeJoinOptions {
    /// Run the node-join check (needs permission to create, approve and delete
    /// CertificateSigningRequests of the kubelet client signer).
    pub enabled: bool,
}

/// The pre-check's options.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct PrecheckOptions {
    /// Which minor jumps `upgrade-path` allows.
    pub upgrade_path: UpgradePathRule,
    /// `apiserver-certificate` warns when the serving certificate expires within this many
    /// days (an expired one is Fatal).
    pub certificate_days: u32,
}

impl Default for PrecheckOptions {
    fn default() -> Self {
        Self { upgrade_path: UpgradePathRule::default(), certificate_days: 30 }
    }
}

/// Which minor jumps an upgrade may make.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum UpgradePathRule {
    /// Upstream's rule: the control plane goes one minor at a time.
    #[default]
    Upstream,
    /// CCE's table of supported jumps (1.19 -> 1.21 or 1.23, 1.23 -> 1.25 or 1.27, ...);
    /// one minor at a time past its last entry.
    Cce,
}

/// The policy's switch for the synthetic check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct SyntheticOptions {
    /// Run the synthetic pod check (needs permission to create namespaces and DaemonSets).
    pub enabled: bool,
    /// An existing namespace to run it in: then it creates and deletes only its DaemonSet
    /// there (no namespace of its own, no cluster-wide write).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// An object as the exclusion rules see it.
#[derive(Debug, Clone, Copy)]
pub struct Subject<'a> {
    /// Its namespace; `None` for cluster-scoped objects (nodes).
    pub namespace: Option<&'a str>,
    /// Its name.
    pub name: &'a str,
    /// Its labels, when the Snapshot keeps them (nodes and pods); label exclusions cannot
    /// apply to objects kept without them.
    pub labels: Option<&'a Labels>,
}

/// Objects no check judges.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Exclusions {
    /// Namespaces whose pods are ignored.
    pub namespaces: Vec<String>,
    /// Nodes and pods carrying any of these labels (`key` or `key=value`) are ignored.
    pub labels: Vec<String>,
    /// Node names, or `namespace/name` of pods, to ignore; a trailing `*` matches any rest.
    pub names: Vec<String>,
}

/// How much imperfection passes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Tolerances {
    /// How many nodes may be not Ready without failing `node-ready` (kops' `--max-unready-nodes`).
    pub max_unready_nodes: usize,
    /// How long a pod may stay Pending before it counts as failed (`90s`, `5m`).
    #[serde(with = "humantime_serde_str")]
    pub pending_grace: Duration,
}

impl Default for Tolerances {
    fn default() -> Self {
        Self { max_unready_nodes: 0, pending_grace: Duration::from_secs(120) }
    }
}

/// Which checks run: all by default; `only` restricts, `skip` removes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default, deny_unknown_fields)]
pub struct Selection {
    /// When not empty, only these checks run.
    pub only: Vec<String>,
    /// These checks do not run.
    pub skip: Vec<String>,
}

/// How `node-version` judges node components.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum NodeVersionPolicy {
    /// Every kubelet and kube-proxy is at the target version (a `vX.Y` target: any patch).
    #[default]
    Exact,
    /// Within the upstream skew policy: not newer than the API server, at most three
    /// minors older.
    Skew,
}

impl Policy {
    /// Reads a policy from a `.yaml`/`.yml`/`.json` (YAML) or `.toml` file, unvalidated
    /// ([`Policy::from_file`], beside the catalogue, validates it too).
    pub(crate) fn read_file(path: &Path) -> Result<Self, PolicyError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|source| PolicyError::Read { path: shown.clone(), source })?;
        let is_toml = path.extension().is_some_and(|e| e.eq_ignore_ascii_case("toml"));
        let policy: Policy = if is_toml {
            toml::from_str(&text).map_err(|source| PolicyError::Toml { path: shown, source })?
        } else if text.trim().is_empty() {
            Policy::default()
        } else {
            serde_yaml_ng::from_str(&text)
                .map_err(|source| PolicyError::Yaml { path: shown, source })?
        };
        Ok(policy)
    }

    /// Checks that every check named in `known` (the catalogue's names) exists and every
    /// label exclusion is well formed.
    pub fn validate_against(&self, known: &[&str]) -> Result<(), PolicyError> {
        for name in self.checks.only.iter().chain(&self.checks.skip) {
            if !known.contains(&name.as_str()) {
                return Err(PolicyError::UnknownCheck(name.clone()));
            }
        }
        for l in &self.exclude.labels {
            let key = l.split_once('=').map_or(l.as_str(), |(k, _)| k);
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(PolicyError::BadLabel(l.clone()));
            }
        }
        Ok(())
    }

    /// Whether the check `name` runs under this policy.
    pub fn selects(&self, name: &str) -> bool {
        (self.checks.only.is_empty() || self.checks.only.iter().any(|n| n == name))
            && !self.checks.skip.iter().any(|n| n == name)
    }

    /// The one exclusion matcher: whether the policy excludes `subject` from every check.
    /// By namespace (namespaced objects), by name (`name`, or `namespace/name` for
    /// namespaced objects; a trailing `*` matches any rest) and, when its labels are known,
    /// by label (`key` or `key=value`).
    pub fn excludes(&self, subject: &Subject<'_>) -> bool {
        if let Some(ns) = subject.namespace
            && self.exclude.namespaces.iter().any(|n| n == ns)
        {
            return true;
        }
        let full = match subject.namespace {
            Some(ns) => format!("{ns}/{}", subject.name),
            None => subject.name.to_owned(),
        };
        self.exclude.names.iter().any(|p| matches(p, &full))
            || subject.labels.is_some_and(|labels| self.excluded_by_labels(labels))
    }

    /// Whether the policy excludes this node from every check.
    pub fn excludes_node(&self, node: &Node) -> bool {
        self.excludes(&Subject { namespace: None, name: &node.name, labels: Some(&node.labels) })
    }

    /// Whether the policy excludes this pod from every check.
    pub fn excludes_pod(&self, pod: &Pod) -> bool {
        self.excludes(&Subject {
            namespace: Some(&pod.namespace),
            name: &pod.name,
            labels: Some(&pod.labels),
        })
    }

    /// Whether the policy excludes the namespaced object `namespace/name`, which the
    /// Snapshot keeps without labels (workloads, Services, claims, events, releases).
    pub fn excludes_object(&self, namespace: &str, name: &str) -> bool {
        self.excludes(&Subject { namespace: Some(namespace), name, labels: None })
    }

    fn excluded_by_labels(&self, labels: &Labels) -> bool {
        self.exclude.labels.iter().any(|l| match l.split_once('=') {
            Some((k, v)) => labels.get(k).is_some_and(|have| have == v),
            None => labels.contains_key(l),
        })
    }
}

/// `name` equals `pattern`, or starts with `pattern` minus a trailing `*`.
fn matches(pattern: &str, name: &str) -> bool {
    match pattern.strip_suffix('*') {
        Some(prefix) => name.starts_with(prefix),
        None => pattern == name,
    }
}

/// Durations as people write them (`90s`, `5m`), through humantime.
mod humantime_serde_str {
    use std::time::Duration;

    use serde::{Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&humantime::format_duration(*d).to_string())
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        let text = String::deserialize(d)?;
        humantime::parse_duration(&text)
            .map_err(|e| serde::de::Error::custom(format!("{text:?} is not a duration: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::{NodeFixture, PodFixture};

    fn write(ext: &str, text: &str) -> (tempfile::TempDir, std::path::PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join(format!("policy.{ext}"));
        std::fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn reads_the_same_policy_from_yaml_and_toml() {
        let (_d1, yaml) = write(
            "yaml",
            "exclude:\n  namespaces: [sandbox]\n  labels: [\"team=exp\"]\ntolerances:\n  maxUnreadyNodes: 2\n  pendingGrace: 5m\nchecks:\n  skip: [node-conditions]\nnodeVersion: skew\n",
        );
        let (_d2, toml) = write(
            "toml",
            "nodeVersion = \"skew\"\n[exclude]\nnamespaces = [\"sandbox\"]\nlabels = [\"team=exp\"]\n[tolerances]\nmaxUnreadyNodes = 2\npendingGrace = \"5m\"\n[checks]\nskip = [\"node-conditions\"]\n",
        );
        let a = Policy::from_file(&yaml).unwrap();
        let b = Policy::from_file(&toml).unwrap();
        assert_eq!(a, b);
        assert_eq!(a.tolerances.max_unready_nodes, 2);
        assert_eq!(a.tolerances.pending_grace, Duration::from_secs(300));
        assert_eq!(a.node_version, NodeVersionPolicy::Skew);
        assert!(!a.selects("node-conditions"));
        assert!(a.selects("node-ready"));
    }

    #[test]
    fn refuses_unknown_checks_and_fields() {
        let (_d, path) = write("yaml", "checks:\n  only: [node-redy]\n");
        assert!(
            matches!(Policy::from_file(&path), Err(PolicyError::UnknownCheck(n)) if n == "node-redy")
        );
        let (_d, path) = write("yaml", "tolerance:\n  maxUnreadyNodes: 1\n");
        assert!(matches!(Policy::from_file(&path), Err(PolicyError::Yaml { .. })));
    }

    #[test]
    fn the_opt_in_checks_are_switched_on_by_the_file() {
        let (_d, path) = write("yaml", "synthetic:\n  enabled: true\nnodeJoin:\n  enabled: true\n");
        let p = Policy::from_file(&path).unwrap();
        assert!(p.synthetic.enabled && p.node_join.enabled);
        let (_d, path) = write("toml", "[nodeJoin]\nenabled = true\n");
        assert!(Policy::from_file(&path).unwrap().node_join.enabled);
        assert!(!Policy::default().node_join.enabled, "off unless asked for");
    }

    #[test]
    fn an_empty_file_is_the_default_policy() {
        let (_d, path) = write("yml", "\n");
        assert_eq!(Policy::from_file(&path).unwrap(), Policy::default());
    }

    #[test]
    fn excludes_by_namespace_label_and_name() {
        let mut p = Policy::default();
        p.exclude.namespaces = vec!["sandbox".into()];
        p.exclude.labels = vec!["team=exp".into(), "postcheck.io/ignore".into()];
        p.exclude.names = vec!["edge-*".into(), "kube-system/flaky".into()];
        assert!(p.excludes_node(&NodeFixture::ready("edge-3").0));
        assert!(p.excludes_node(&NodeFixture::ready("n1").label("postcheck.io/ignore", "").0));
        assert!(!p.excludes_node(&NodeFixture::ready("n1").label("team", "prod").0));
        assert!(p.excludes_pod(&PodFixture::running("sandbox", "a").0));
        assert!(p.excludes_pod(&PodFixture::running("kube-system", "flaky").0));
        assert!(p.excludes_pod(&PodFixture::running("shop", "a").label("team", "exp").0));
        assert!(!p.excludes_pod(&PodFixture::running("kube-system", "flaky-2").0));
    }

    #[test]
    fn excludes_by_namespace_and_name_pattern() {
        let mut policy = Policy::default();
        policy.exclude.namespaces = vec!["sandbox".into()];
        policy.exclude.names = vec!["shop/flaky-*".into()];
        assert!(policy.excludes_object("sandbox", "x"));
        assert!(policy.excludes_object("shop", "flaky-7"));
        assert!(!policy.excludes_object("shop", "checkout"));
    }
}
