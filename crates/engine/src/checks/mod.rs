//! The check catalogue, and judging a Snapshot with it.
//!
//! Every check is a pure function of a [`CheckContext`] (the Snapshot, an optional
//! baseline, the spec, the policy) returning a [`Finding`]; [`judge`] wraps each finding
//! into CCE's item fields from the catalogue entry, so names, groups, kinds and levels live
//! in one place. A check whose sources could not be read reports `Error` (could not run)
//! without running, and does not affect the other items.
//!
//! - [`cluster`]: `cluster-version`, `apiserver-health`, `control-plane`.
//! - [`nodes`]: `node-ready`, `node-conditions`, `node-schedulable`, `node-version`, `node-skipped`.
//! - [`system_pods`]: `system-pods`, the cluster's own pods.
//! - [`inventory`]: `node-inventory`, against the baseline.
//! - [`workloads`], [`pods`], [`services`], [`storage`]: `workloads`, `pod-health`,
//!   `service-endpoints`, `pvc-bound`; a regression since the baseline is Fatal, what was
//!   already broken is a Warning ([`grading`]).
//! - [`extensions`]: `apiservices`, `webhooks`, `crd-versions`. [`removed_apis`]: `removed-apis`.
//!   [`events`]: `events` (never Fatal).
//! - [`precheck`]: the pre-upgrade catalogue (its own registry, reusing the items above
//!   that judge the cluster before an upgrade the same way).

mod cluster;
mod components;
mod events;
mod extensions;
mod grading;
mod inventory;
mod nodes;
mod pods;
pub(crate) mod precheck;
mod removed_apis;
mod services;
mod storage;
mod synthetic;
mod system_pods;
mod workloads;

use postcheck_model::{CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, Level};
use serde::Serialize;

use crate::policy::{Policy, PolicyError};
use crate::request::CheckSpec;
use crate::snapshot::{Snapshot, Source};

/// What a check sees.
#[derive(Debug, Clone, Copy)]
pub struct CheckContext<'a> {
    /// The cluster now.
    pub snapshot: &'a Snapshot,
    /// The cluster before the upgrade, when a baseline was given.
    pub baseline: Option<&'a Snapshot>,
    /// The versions of the upgrade.
    pub spec: &'a CheckSpec,
    /// Exclusions, tolerances, version policy.
    pub policy: &'a Policy,
}

/// What a check found: the variable part of an item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The outcome.
    pub phase: ItemPhase,
    /// What was found, for a person.
    pub message: String,
    /// The offending objects, each with its reason.
    pub evidence: Vec<Evidence>,
    /// Overrides the catalogue's level for this finding: against a baseline, what was
    /// already broken before the upgrade is only a Warning.
    pub level: Option<Level>,
}

impl Finding {
    /// Nothing wrong.
    pub fn pass(message: impl Into<String>) -> Self {
        Self { phase: ItemPhase::Success, message: message.into(), evidence: vec![], level: None }
    }

    /// Something wrong, with the objects that show it.
    pub fn fail(message: impl Into<String>, evidence: Vec<Evidence>) -> Self {
        Self { phase: ItemPhase::Failed, message: message.into(), evidence, level: None }
    }

    /// The check does not apply here.
    pub fn skip(message: impl Into<String>) -> Self {
        Self { phase: ItemPhase::Skipped, message: message.into(), evidence: vec![], level: None }
    }

    /// The check could not run.
    pub fn error(message: impl Into<String>) -> Self {
        Self { phase: ItemPhase::Error, message: message.into(), evidence: vec![], level: None }
    }

    /// `pass(ok)` when there is no evidence, else `fail(bad, evidence)`.
    pub fn from_evidence(
        evidence: Vec<Evidence>,
        ok: impl Into<String>,
        bad: impl FnOnce(usize) -> String,
    ) -> Self {
        if evidence.is_empty() { Self::pass(ok) } else { Self::fail(bad(evidence.len()), evidence) }
    }
}

/// How the blame step (`crate::blame`) treats an item's findings against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Blamed {
    /// Each finding is compared with the same catalogue's findings on the baseline: one
    /// the baseline showed too is pre-existing, and cannot make the item Fatal.
    Compared,
    /// The findings are the upgrade's own outcome (versions reached, nodes upgraded): the
    /// cluster before the upgrade was on the old version by definition, so nothing in the
    /// baseline excuses them; they are always new.
    UpgradeOutcome,
}

/// One entry of the catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CheckDef {
    /// Stable kebab-case name.
    pub name: &'static str,
    /// CCE's group.
    pub group: ItemGroup,
    /// Must be fixed (`Exception`) or may be accepted (`Risk`).
    pub kind: ItemKind,
    /// How much a failure matters.
    pub level: Level,
    /// What the item checks, for `postcheck checks`.
    pub description: &'static str,
    /// What it deliberately does not count as a failure: states Kubernetes documents as
    /// normal that look like faults, and what another item owns.
    pub not_failures: &'static [&'static str],
    /// The sources it reads.
    pub needs: &'static [Source],
    /// Whether it compares against a baseline (and is skipped without one).
    pub uses_baseline: bool,
    /// How blame treats its findings (`crate::blame`).
    pub blame: Blamed,
    /// The check itself.
    #[serde(skip)]
    pub run: fn(&CheckContext) -> Finding,
}

impl CheckDef {
    /// The item this check reports for `finding`.
    pub fn item(&self, finding: Finding) -> CheckItem {
        CheckItem {
            name: self.name.to_owned(),
            kind: self.kind,
            group: self.group,
            level: finding.level.unwrap_or(self.level),
            phase: finding.phase,
            message: finding.message,
            evidence: finding.evidence,
        }
    }
}

/// Every check, in report order.
pub fn catalogue() -> &'static [CheckDef] {
    use ItemGroup::{MasterCheck, NodeCheck};
    use ItemKind::Exception;
    use Level::Fatal;
    const CATALOGUE: &[CheckDef] = &[
        CheckDef {
            name: "cluster-version",
            group: MasterCheck,
            kind: Exception,
            level: Fatal,
            description: "The API server's version equals the target (major.minor.patch; a vX.Y target matches any patch; CCE's -rN revision compared when the API server shows one) and is no longer the source version (within one minor, the cluster must have left the source patch and revision).",
            not_failures: &[
                "a vendor suffix (-eks-…, -gke.…) on the API server's version",
                "a revision-only upgrade the API server's version cannot show",
                "a source naming only the minor the target shares",
            ],
            needs: &[Source::Version],
            uses_baseline: false,
            blame: Blamed::UpgradeOutcome,
            run: cluster::cluster_version,
        },
        CheckDef {
            name: "apiserver-health",
            group: MasterCheck,
            kind: Exception,
            level: Fatal,
            description: "Every check of the API server's /readyz?verbose and /livez?verbose is ok.",
            not_failures: &["nothing: every check the API server lists must be ok"],
            needs: &[Source::Health],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: cluster::apiserver_health,
        },
        CheckDef {
            name: "control-plane",
            group: MasterCheck,
            kind: Exception,
            level: Fatal,
            description: "kube-controller-manager and kube-scheduler are alive (their kube-system leader Leases were renewed recently); visible control-plane pods are Running, Ready and on the target version.",
            not_failures: &["a managed control plane that shows neither Leases nor pods (Skipped)"],
            needs: &[Source::Leases, Source::Pods],
            uses_baseline: false,
            blame: Blamed::UpgradeOutcome,
            run: cluster::control_plane,
        },
        CheckDef {
            name: "node-ready",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "Every node is Ready (up to tolerances.maxUnreadyNodes may not be).",
            not_failures: &["up to tolerances.maxUnreadyNodes not-Ready nodes"],
            needs: &[Source::Nodes],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: nodes::node_ready,
        },
        CheckDef {
            name: "node-conditions",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "No node reports MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable.",
            not_failures: &["conditions other than the pressure and NetworkUnavailable ones"],
            needs: &[Source::Nodes],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: nodes::node_conditions,
        },
        CheckDef {
            name: "node-schedulable",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "No node is cordoned; with a baseline, only nodes cordoned since the baseline count.",
            not_failures: &["with a baseline, a node already cordoned before the upgrade"],
            needs: &[Source::Nodes],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: nodes::node_schedulable,
        },
        CheckDef {
            name: "node-version",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "Every kubelet and kube-proxy is at the target version (policy exact) or within the upstream skew policy of the API server (policy skew: not newer, at most three minors older).",
            not_failures: &[
                "kubelets within the skew policy (policy skew)",
                "vendor suffixes and CCE revisions on kubelet versions",
            ],
            needs: &[Source::Version, Source::Nodes],
            uses_baseline: false,
            blame: Blamed::UpgradeOutcome,
            run: nodes::node_version,
        },
        CheckDef {
            name: "node-skipped",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "No node skipped the upgrade: no upgrade.cce.io/skipped=true label, no leftover node.kubernetes.io/upgrade taint.",
            not_failures: &["taints other than node.kubernetes.io/upgrade"],
            needs: &[Source::Nodes],
            uses_baseline: false,
            blame: Blamed::UpgradeOutcome,
            run: nodes::node_skipped,
        },
        CheckDef {
            name: "system-pods",
            group: ItemGroup::AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "kube-system and system-*-critical pods are Running and Ready; pods on not-Ready nodes are left to node-ready. The components (CoreDNS/kube-dns, kube-proxy, the CNI's DaemonSets, metrics-server, CCE's everest and autoscaler) are judged by workload and Service: not installed only when neither exists; fewer ready replicas than desired, scaled to zero while the Service remains, or a kube-system Service with a selector and no ready endpoint (the cluster DNS Service among them, with or without a baseline) fail.",
            not_failures: &[
                "Succeeded pods and the Failed pods of Jobs",
                "pods on not-Ready nodes (node-ready's)",
                "Pending pods younger than tolerances.pendingGrace",
                "a component with no workload and no Service (not installed)",
                "a component scaled to zero with no Service depending on it",
                "a DaemonSet whose node selector matches no node",
                "selector-less kube-system Services (manual EndpointSlices)",
            ],
            needs: &[Source::Nodes, Source::Pods],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: system_pods::system_pods,
        },
        CheckDef {
            name: "node-inventory",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "Against the baseline: no node gone, no node label lost, no new taint (beyond the node controller's condition taints).",
            not_failures: &[
                "nodes added since the baseline",
                "the node controller's condition taints",
            ],
            needs: &[Source::Nodes],
            uses_baseline: true,
            blame: Blamed::Compared,
            run: inventory::node_inventory,
        },
        CheckDef {
            name: "workloads",
            group: ItemGroup::LimitCheck,
            kind: Exception,
            level: Fatal,
            description: "Deployments, StatefulSets and DaemonSets have every desired replica ready, available and updated, and no rollout is stuck (ProgressDeadlineExceeded); with a baseline, one already short before is a Warning. A workload whose pods pod-health reports is left to it.",
            not_failures: &[
                "workloads deliberately scaled to zero",
                "DaemonSets whose node selector matches no node",
                "OnDelete workloads' old replicas",
                "workloads whose pods pod-health reports",
            ],
            needs: &[Source::Workloads, Source::Pods, Source::Nodes],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: workloads::workloads,
        },
        CheckDef {
            name: "pod-health",
            group: ItemGroup::LimitCheck,
            kind: Exception,
            level: Fatal,
            description: "No application pod in CrashLoopBackOff, ImagePullBackOff or ErrImagePull, Pending or Terminating past tolerances.pendingGrace, or (bare pods) not Ready; with a baseline, restart counts that jumped since are Warnings, as are problems the pod already had. System pods are left to system-pods.",
            not_failures: &[
                "Succeeded pods and the pods of finished Jobs",
                "Pending or Terminating pods within tolerances.pendingGrace",
                "system pods (system-pods')",
                "pods on not-Ready nodes",
            ],
            needs: &[Source::Pods, Source::Nodes],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: pods::pod_health,
        },
        CheckDef {
            name: "service-endpoints",
            group: ItemGroup::LimitCheck,
            kind: Exception,
            level: Fatal,
            description: "Services with a selector have a ready endpoint (EndpointSlices); Fatal when the Service had ready endpoints in the baseline (or is new since), Warning otherwise. Services behind APIServices and webhooks are left to those items.",
            not_failures: &[
                "ExternalName Services",
                "Services without a selector (manually managed EndpointSlices)",
                "Services behind APIServices and webhooks (those items')",
                "without a baseline, a Service without endpoints is only a Warning",
            ],
            needs: &[Source::Services],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: services::service_endpoints,
        },
        CheckDef {
            name: "pvc-bound",
            group: ItemGroup::LimitCheck,
            kind: Exception,
            level: Fatal,
            description: "PersistentVolumeClaims are Bound; one not Bound in the baseline either is a Warning.",
            not_failures: &[
                "claims Pending on a WaitForFirstConsumer StorageClass (waiting for a first consumer)",
                "with a baseline, claims already not Bound before",
            ],
            needs: &[Source::Claims, Source::StorageClasses],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: storage::pvc_bound,
        },
        CheckDef {
            name: "apiservices",
            group: ItemGroup::AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "Every APIService is Available (else the condition's reason); one already unavailable in the baseline is a Warning.",
            not_failures: &["with a baseline, APIServices already unavailable before (Warning)"],
            needs: &[Source::ApiServices],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: extensions::apiservices,
        },
        CheckDef {
            name: "webhooks",
            group: ItemGroup::AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "No failurePolicy: Fail admission webhook and no CRD conversion webhook calls a Service without a ready endpoint (they block writes); one already so in the baseline is a Warning.",
            not_failures: &[
                "failurePolicy: Ignore webhooks",
                "webhooks calling a URL rather than a Service",
            ],
            needs: &[Source::Webhooks, Source::Services],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: extensions::webhooks,
        },
        CheckDef {
            name: "crd-versions",
            group: ItemGroup::AddonCheck,
            kind: ItemKind::Risk,
            level: Level::Warning,
            description: "Every version a CustomResourceDefinition's objects are stored in (status.storedVersions) is still served; one that is not must be migrated away from before an upgrade of the CRD can drop it.",
            not_failures: &["versions no object is stored in"],
            needs: &[Source::CrdVersions],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: extensions::crd_versions,
        },
        CheckDef {
            name: "removed-apis",
            group: ItemGroup::AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "No object whose last-applied-configuration or newest managedFields entry, and no latest deployed Helm v3 release whose manifest, uses an API version removed at or before the target (data/removed-apis.yaml); objects migrated since are not flagged.",
            not_failures: &[
                "objects migrated to a served version since their last write",
                "Helm releases other than the latest deployed one",
            ],
            needs: &[Source::RemovedApis],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: removed_apis::removed_apis,
        },
        CheckDef {
            name: "events",
            group: ItemGroup::LimitCheck,
            kind: ItemKind::Risk,
            level: Level::Warning,
            description: "Warning events since the baseline was taken (or all kept ones), grouped by object and reason; Warning level when a reason usually means damage, Info otherwise, never Fatal.",
            not_failures: &["Normal events; it is never Fatal"],
            needs: &[Source::Events],
            uses_baseline: false,
            blame: Blamed::Compared,
            run: events::events,
        },
        CheckDef {
            name: "synthetic-pod",
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "Opt-in (--synthetic; needs write permission): a DaemonSet with tiny requests tolerating every taint, in a dedicated namespace, gets a Ready pod on every schedulable node before a deadline; everything it made is deleted afterwards.",
            not_failures: &["a cluster where it was not opted into (Skipped)"],
            needs: &[],
            uses_baseline: false,
            blame: Blamed::UpgradeOutcome,
            run: synthetic::synthetic_pod,
        },
    ];
    CATALOGUE
}

/// A policy is validated against the catalogue, so these live beside it (the policy module
/// depends on no check).
impl Policy {
    /// Reads a policy from a `.yaml`/`.yml`/`.json` (YAML) or `.toml` file and validates it.
    pub fn from_file(path: &std::path::Path) -> Result<Self, PolicyError> {
        let policy = Policy::read_file(path)?;
        policy.validate()?;
        Ok(policy)
    }

    /// Checks that every check named exists and every label exclusion is well formed.
    pub fn validate(&self) -> Result<(), PolicyError> {
        let known: Vec<&str> = catalogue()
            .iter()
            .map(|c| c.name)
            .chain(precheck::precheck_catalogue().iter().map(|c| c.name))
            .collect();
        self.validate_against(&known)
    }
}

/// The catalogue entry called `name`.
#[cfg(test)]
fn find(name: &str) -> Option<&'static CheckDef> {
    catalogue().iter().find(|c| c.name == name)
}

/// The sources the checks selected by `policy` need (the version always).
pub(crate) fn needs(policy: &Policy) -> Vec<Source> {
    let mut out = vec![Source::Version];
    for def in catalogue().iter().filter(|d| policy.selects(d.name)) {
        for s in def.needs {
            if !out.contains(s) {
                out.push(*s);
            }
        }
    }
    if policy.synthetic.enabled && policy.selects("synthetic-pod") {
        out.push(Source::Synthetic);
    }
    out.sort();
    out
}

/// Runs every check of the catalogue on the snapshot: one item per check, in catalogue
/// order. Checks the policy deselects are reported `Skipped`.
pub(crate) fn judge(ctx: &CheckContext) -> Vec<CheckItem> {
    catalogue().iter().map(|def| def.item(run_one(def, ctx))).collect()
}

fn run_one(def: &CheckDef, ctx: &CheckContext) -> Finding {
    if !ctx.policy.selects(def.name) {
        return Finding::skip("not selected by the policy");
    }
    for source in def.needs {
        if let Err(why) = ctx.snapshot.availability(*source) {
            return Finding::error(format!("could not run: {why}"));
        }
    }
    if def.uses_baseline {
        let Some(baseline) = ctx.baseline else {
            return Finding::skip(
                "no baseline was given (postcheck baseline records one before the upgrade)",
            );
        };
        for source in def.needs {
            if let Err(why) = baseline.availability(*source) {
                return Finding::error(format!("could not run: in the baseline, {why}"));
            }
        }
    }
    (def.run)(ctx)
}

/// Helpers for the checks' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;

    /// Runs the catalogue entry `name` on `snapshot` with the given baseline, spec and policy.
    pub(crate) fn run(
        name: &str,
        snapshot: &Snapshot,
        baseline: Option<&Snapshot>,
        spec: &CheckSpec,
        policy: &Policy,
    ) -> CheckItem {
        let def = find(name).unwrap_or_else(|| panic!("no check {name}"));
        let ctx = CheckContext { snapshot, baseline, spec, policy };
        def.item(run_one(def, &ctx))
    }

    /// A spec with only a target.
    pub(crate) fn target(v: &str) -> CheckSpec {
        CheckSpec { target: Some(v.parse().unwrap()), source: None }
    }

    /// The names of the objects in an item's evidence.
    pub(crate) fn named(item: &CheckItem) -> Vec<&str> {
        item.evidence.iter().map(|e| e.name.as_str()).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn every_check_says_what_it_does_not_count_as_a_failure() {
        for def in catalogue() {
            assert!(!def.not_failures.is_empty(), "{} lists no non-failures", def.name);
        }
        let pvc = find("pvc-bound").unwrap();
        assert!(pvc.not_failures.iter().any(|n| n.contains("WaitForFirstConsumer")));
    }
    use crate::testing::NodeFixture;

    #[test]
    fn names_are_unique_kebab_case() {
        let mut names: Vec<_> = catalogue().iter().map(|c| c.name).collect();
        for n in &names {
            assert!(
                n.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
                "{n} is not kebab-case"
            );
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), catalogue().len());
    }

    #[test]
    fn a_forbidden_list_fails_only_the_items_that_need_it() {
        let snapshot = Snapshot::test().node(NodeFixture::ready("n1")).unavailable(
            Source::Leases,
            403,
            "leases.coordination.k8s.io is forbidden",
        );
        let items = judge(&CheckContext {
            snapshot: &snapshot,
            baseline: None,
            spec: &CheckSpec::default(),
            policy: &Policy::default(),
        });
        let control = items.iter().find(|i| i.name == "control-plane").unwrap();
        assert_eq!(control.phase, ItemPhase::Error);
        assert!(control.message.contains("forbidden"), "{}", control.message);
        let others: Vec<_> = items
            .iter()
            .filter(|i| i.name != "control-plane" && i.phase == ItemPhase::Error)
            .collect();
        assert!(others.is_empty(), "{others:?}");
    }

    #[test]
    fn the_policy_deselects_checks_and_the_gather_skips_their_sources() {
        let mut policy = Policy::default();
        policy.checks.only = vec!["cluster-version".into(), "node-ready".into()];
        assert_eq!(needs(&policy), vec![Source::Version, Source::Nodes]);
        let item = run("system-pods", &Snapshot::test(), None, &CheckSpec::default(), &policy);
        assert_eq!(item.phase, ItemPhase::Skipped);
    }

    #[test]
    fn baseline_checks_skip_without_a_baseline() {
        let item = run(
            "node-inventory",
            &Snapshot::test(),
            None,
            &CheckSpec::default(),
            &Policy::default(),
        );
        assert_eq!(item.phase, ItemPhase::Skipped);
    }
}
