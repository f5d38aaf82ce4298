//! The pre-upgrade catalogue: is the cluster ready to be upgraded to the target?
//!
//! Like the post-check's catalogue, every item is a pure function of a [`CheckContext`]
//! (the Snapshot, the spec, the policy; never a baseline: the pre-check records the
//! baseline), and [`precheck_catalogue`] is the one registry of names, CCE groups, kinds,
//! levels, the part of CCE's `PrecheckStatus` each item goes to ([`Part`]) and how its
//! `riskSource` is filled ([`Risks`]). Items the post-check already judges the same way are
//! reused as they are (`node-ready`, `webhooks`, `crd-versions`...); those about the
//! workloads' own health are Risks here, at most Warnings: reported so that nobody later
//! blames them on the upgrade. Read-only, from the API alone: items that need an agent on
//! the node (its OS, disks, packages, configuration files) are out of scope.
//!
//! - `path`: `upgrade-path`. `apis`: `deprecated-api-clients`. `nodes`:
//!   `node-skew-at-target`. `disruption`: `pdb-disruption`, `single-replica`.
//!   `certificate`: `apiserver-certificate`.
//! - `parts`: the items into CCE's three parts, `skippedCheckItemList` honoured, phases.

mod apis;
mod certificate;
mod disruption;
mod nodes;
mod parts;
mod path;

use postcheck_model::{CheckItem, ItemGroup, ItemKind, Level, SkippedCheckItem};
use serde::Serialize;

use super::{
    CheckContext, Finding, cluster, extensions, pods, removed_apis, services, storage, system_pods,
    workloads,
};
use crate::snapshot::Source;

pub(crate) use parts::precheck_status;

/// The part of CCE's `PrecheckStatus` an item goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Part {
    /// `clusterCheckStatus`: the control plane, the APIs, the workloads.
    Cluster,
    /// `addonCheckStatus`: system components and API extensions.
    Addon,
    /// `nodeCheckStatus`: judged node by node, one entry per node.
    Node,
}

/// How an item's `riskSource` is filled from its evidence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Risks {
    /// No `riskSource`.
    None,
    /// `nodeRisks[{NodeID}]`: each node named, by UID.
    Nodes,
    /// `deprecatedAPIRisks[{url, userAgent}]`: each API named by its path.
    DeprecatedApis,
}

/// One entry of the pre-upgrade catalogue.
#[derive(Debug, Clone, Copy, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PrecheckDef {
    /// Stable kebab-case name (what `skippedCheckItemList` names).
    pub name: &'static str,
    /// The part of the status it goes to.
    pub part: Part,
    /// CCE's group.
    pub group: ItemGroup,
    /// Must be fixed (`Exception`) or may be accepted (`Risk`).
    pub kind: ItemKind,
    /// How much a failure matters at most (a finding may say less, never more).
    pub level: Level,
    /// What the item checks, for `postcheck checks`.
    pub description: &'static str,
    /// What it deliberately does not count as a failure.
    pub not_failures: &'static [&'static str],
    /// The sources it reads.
    pub needs: &'static [Source],
    /// How its `riskSource` is filled.
    pub risks: Risks,
    /// The check itself.
    #[serde(skip)]
    pub run: fn(&CheckContext) -> Finding,
}

impl PrecheckDef {
    /// The item this entry reports for `finding`: the finding's level, capped at the
    /// entry's.
    pub fn item(&self, finding: Finding) -> CheckItem {
        CheckItem {
            name: self.name.to_owned(),
            kind: self.kind,
            group: self.group,
            level: finding.level.unwrap_or(self.level).min(self.level),
            phase: finding.phase,
            message: finding.message,
            evidence: finding.evidence,
        }
    }
}

/// What the pre-check cannot see from the API (CCE's agent-based node items), for
/// `postcheck checks`.
pub const OUT_OF_SCOPE: &str = "Out of scope: CCE's node-OS pre-check items (the node's OS, kernel, disks, packages, container runtime and configuration files) need an agent on the node; postcheck reads the API only.";

/// Every pre-check item, in report order.
pub fn precheck_catalogue() -> &'static [PrecheckDef] {
    use ItemGroup::{AddonCheck, LimitCheck, MasterCheck, NodeCheck};
    use ItemKind::{Exception, Risk};
    use Level::{Fatal, Warning};
    const CATALOGUE: &[PrecheckDef] = &[
        PrecheckDef {
            name: "upgrade-path",
            part: Part::Cluster,
            group: MasterCheck,
            kind: Exception,
            level: Fatal,
            description: "The cluster is on the version the request says (clusterVersion), and the target is a supported next step: one minor at a time (upstream), or CCE's table of jumps (precheck.upgradePath: cce); a patch upgrade within the minor always is.",
            not_failures: &[
                "a patch upgrade within the minor",
                "vendor suffixes and CCE revisions",
            ],
            needs: &[Source::Version],
            risks: Risks::None,
            run: path::upgrade_path,
        },
        PrecheckDef {
            name: "apiserver-health",
            part: Part::Cluster,
            group: MasterCheck,
            kind: Exception,
            level: Fatal,
            description: "Every check of the API server's /readyz?verbose and /livez?verbose is ok before the upgrade starts.",
            not_failures: &["nothing: every check the API server lists must be ok"],
            needs: &[Source::Health],
            risks: Risks::None,
            run: cluster::apiserver_health,
        },
        PrecheckDef {
            name: "apiserver-certificate",
            part: Part::Cluster,
            group: MasterCheck,
            kind: Exception,
            level: Fatal,
            description: "The API server's serving certificate, read from a TLS handshake, is not expired (Fatal) and does not expire within precheck.certificateDays (30; Warning).",
            not_failures: &[
                "a certificate the client does not trust (only its dates are read)",
                "no address given to read it (Skipped)",
            ],
            needs: &[Source::ServingCert],
            risks: Risks::None,
            run: certificate::apiserver_certificate,
        },
        PrecheckDef {
            name: "deprecated-api-clients",
            part: Part::Cluster,
            group: MasterCheck,
            kind: Risk,
            level: Fatal,
            description: "No client called a deprecated API version since the API server started (its apiserver_requested_deprecated_apis metric): Fatal when the version is removed at or before the target, a Warning when only deprecated. Each API in riskSource.deprecatedAPIRisks.",
            not_failures: &[
                "calls before the API server's last restart (the metric starts empty)",
                "a deprecated version no longer called",
            ],
            needs: &[Source::DeprecatedApis],
            risks: Risks::DeprecatedApis,
            run: apis::deprecated_api_clients,
        },
        PrecheckDef {
            name: "removed-apis",
            part: Part::Cluster,
            group: AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "No object (last-applied-configuration or newest managedFields entry) and no latest deployed Helm v3 release uses an API version removed at or before the target.",
            not_failures: &[
                "objects migrated to a served version since their last write",
                "Helm releases other than the latest deployed one",
            ],
            needs: &[Source::RemovedApis],
            risks: Risks::None,
            run: removed_apis::removed_apis,
        },
        PrecheckDef {
            name: "pdb-disruption",
            part: Part::Cluster,
            group: LimitCheck,
            kind: Exception,
            level: Fatal,
            description: "No PodDisruptionBudget that selects pods allows zero disruptions now: evicting its pods is refused, so draining their nodes during the upgrade stalls.",
            not_failures: &[
                "budgets that select no pod",
                "budgets that allow at least one disruption",
            ],
            needs: &[Source::Pdbs],
            risks: Risks::None,
            run: disruption::pdb_disruption,
        },
        PrecheckDef {
            name: "single-replica",
            part: Part::Cluster,
            group: LimitCheck,
            kind: Risk,
            level: Warning,
            description: "Deployments and StatefulSets with one replica have a PodDisruptionBudget; without one they are down while their node is drained.",
            not_failures: &[
                "workloads scaled to zero or with more replicas",
                "DaemonSets",
                "single-replica workloads a budget covers",
            ],
            needs: &[Source::Workloads, Source::Pods, Source::Pdbs],
            risks: Risks::None,
            run: disruption::single_replica,
        },
        PrecheckDef {
            name: "workloads",
            part: Part::Cluster,
            group: LimitCheck,
            kind: Risk,
            level: Warning,
            description: "Deployments, StatefulSets and DaemonSets already short of replicas before the upgrade (a Risk: named now so that nobody blames the upgrade for them).",
            not_failures: &[
                "workloads deliberately scaled to zero",
                "workloads whose pods pod-health reports",
            ],
            needs: &[Source::Workloads, Source::Pods, Source::Nodes],
            risks: Risks::None,
            run: workloads::workloads,
        },
        PrecheckDef {
            name: "pod-health",
            part: Part::Cluster,
            group: LimitCheck,
            kind: Risk,
            level: Warning,
            description: "Application pods already crashing, unpullable or stuck before the upgrade (a Risk).",
            not_failures: &[
                "Succeeded pods and finished Jobs",
                "Pending pods within tolerances.pendingGrace",
                "system pods (system-pods')",
            ],
            needs: &[Source::Pods, Source::Nodes],
            risks: Risks::None,
            run: pods::pod_health,
        },
        PrecheckDef {
            name: "service-endpoints",
            part: Part::Cluster,
            group: LimitCheck,
            kind: Risk,
            level: Warning,
            description: "Services with a selector already without a ready endpoint before the upgrade (a Risk).",
            not_failures: &[
                "ExternalName and selector-less Services",
                "Services behind APIServices and webhooks",
            ],
            needs: &[Source::Services],
            risks: Risks::None,
            run: services::service_endpoints,
        },
        PrecheckDef {
            name: "pvc-bound",
            part: Part::Cluster,
            group: LimitCheck,
            kind: Risk,
            level: Warning,
            description: "PersistentVolumeClaims already not Bound before the upgrade (a Risk).",
            not_failures: &["claims waiting for a first consumer (WaitForFirstConsumer)"],
            needs: &[Source::Claims, Source::StorageClasses],
            risks: Risks::None,
            run: storage::pvc_bound,
        },
        PrecheckDef {
            name: "webhooks",
            part: Part::Addon,
            group: AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "No failurePolicy: Fail admission webhook and no CRD conversion webhook calls a Service without a ready endpoint: they reject the upgrade's own writes.",
            not_failures: &[
                "failurePolicy: Ignore webhooks",
                "webhooks calling a URL rather than a Service",
            ],
            needs: &[Source::Webhooks, Source::Services],
            risks: Risks::None,
            run: extensions::webhooks,
        },
        PrecheckDef {
            name: "apiservices",
            part: Part::Addon,
            group: AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "Every APIService is Available: an unavailable one makes discovery partial and stalls the garbage collector and namespace deletion during the upgrade.",
            not_failures: &["APIServices the API server serves itself (always Available)"],
            needs: &[Source::ApiServices],
            risks: Risks::None,
            run: extensions::apiservices,
        },
        PrecheckDef {
            name: "crd-versions",
            part: Part::Addon,
            group: AddonCheck,
            kind: Exception,
            level: Fatal,
            description: "No CustomResourceDefinition's status.storedVersions names a version no longer served: its objects must be migrated before the upgrade.",
            not_failures: &["served versions no object is stored in"],
            needs: &[Source::CrdVersions],
            risks: Risks::None,
            run: extensions::crd_versions,
        },
        PrecheckDef {
            name: "system-pods",
            part: Part::Addon,
            group: AddonCheck,
            kind: Risk,
            level: Warning,
            description: "kube-system and system-critical pods, and the components (DNS, kube-proxy, the CNI, metrics-server, CCE's add-ons), already unhealthy before the upgrade (a Risk).",
            not_failures: &[
                "a component with no workload and no Service (not installed)",
                "pods on not-Ready nodes (node-ready's)",
            ],
            needs: &[Source::Nodes, Source::Pods],
            risks: Risks::None,
            run: system_pods::system_pods,
        },
        PrecheckDef {
            name: "node-ready",
            part: Part::Node,
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "The node is Ready (a drain and the kubelet's upgrade stall on one that is not); up to tolerances.maxUnreadyNodes may not be.",
            not_failures: &["up to tolerances.maxUnreadyNodes not-Ready nodes"],
            needs: &[Source::Nodes],
            risks: Risks::Nodes,
            run: super::nodes::node_ready,
        },
        PrecheckDef {
            name: "node-conditions",
            part: Part::Node,
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "The node reports no MemoryPressure, DiskPressure, PIDPressure or NetworkUnavailable: pods drained onto it would be evicted or never start.",
            not_failures: &["conditions other than the pressure and NetworkUnavailable ones"],
            needs: &[Source::Nodes],
            risks: Risks::Nodes,
            run: super::nodes::node_conditions,
        },
        PrecheckDef {
            name: "node-schedulable",
            part: Part::Node,
            group: NodeCheck,
            kind: Risk,
            level: Warning,
            description: "The node is not cordoned (a Risk: cordoning is a normal, deliberate state, but it leaves less room for the pods drained during the upgrade).",
            not_failures: &["it is never Fatal: cordoning is deliberate"],
            needs: &[Source::Nodes],
            risks: Risks::Nodes,
            run: super::nodes::node_schedulable,
        },
        PrecheckDef {
            name: "node-skew-at-target",
            part: Part::Node,
            group: NodeCheck,
            kind: Exception,
            level: Fatal,
            description: "The node's kubelet and kube-proxy stay within the upstream skew policy once the control plane is at the target: at most three minors older, never newer.",
            not_failures: &[
                "an empty kube-proxy version (deprecated, often not reported)",
                "vendor suffixes and CCE revisions",
            ],
            needs: &[Source::Nodes],
            risks: Risks::Nodes,
            run: nodes::node_skew_at_target,
        },
    ];
    CATALOGUE
}

/// Why a `skippedCheckItemList` cannot be honoured: the service answers 400 with it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SkipError {
    /// The name is not a pre-check item.
    #[error(
        "skippedCheckItemList names {0:?}, which is not a pre-check item (see `postcheck checks`)"
    )]
    UnknownItem(String),
    /// The selector's key is not `node.uid`.
    #[error(
        "skippedCheckItemList: the resourceSelector of {item:?} selects by {key:?}; only node.uid is supported"
    )]
    UnsupportedKey {
        /// The item.
        item: String,
        /// The key given.
        key: String,
    },
    /// The selector's operator is not `In`.
    #[error(
        "skippedCheckItemList: the resourceSelector of {item:?} has operator {operator:?}; only In is supported"
    )]
    UnsupportedOperator {
        /// The item.
        item: String,
        /// The operator given.
        operator: String,
    },
    /// A node selector on an item that is not judged per node.
    #[error(
        "skippedCheckItemList: {0:?} is not judged per node, so it cannot be skipped for some nodes only (drop the resourceSelector to skip it)"
    )]
    NotPerNode(String),
}

/// Checks a `skippedCheckItemList`: known item names, `node.uid` selectors with `In`, node
/// selectors only on items judged per node.
pub fn validate_skipped(list: &[SkippedCheckItem]) -> Result<(), SkipError> {
    for entry in list {
        let def = precheck_catalogue()
            .iter()
            .find(|d| d.name == entry.name)
            .ok_or_else(|| SkipError::UnknownItem(entry.name.clone()))?;
        let Some(selector) = &entry.resource_selector else { continue };
        if selector.key != "node.uid" {
            return Err(SkipError::UnsupportedKey {
                item: entry.name.clone(),
                key: selector.key.clone(),
            });
        }
        if let Some(op) = selector.operator.as_deref().filter(|o| *o != "In") {
            return Err(SkipError::UnsupportedOperator {
                item: entry.name.clone(),
                operator: op.to_owned(),
            });
        }
        if def.part != Part::Node {
            return Err(SkipError::NotPerNode(entry.name.clone()));
        }
    }
    Ok(())
}

/// Helpers for the pre-check items' tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::policy::Policy;
    use crate::request::CheckSpec;
    use crate::snapshot::Snapshot;

    /// Runs the pre-check entry `name` on `snapshot`, over every node at once.
    pub(crate) fn run(
        name: &str,
        snapshot: &Snapshot,
        spec: &CheckSpec,
        policy: &Policy,
    ) -> CheckItem {
        let def = precheck_catalogue()
            .iter()
            .find(|d| d.name == name)
            .unwrap_or_else(|| panic!("no pre-check item {name}"));
        let ctx = CheckContext { snapshot, baseline: None, spec, policy };
        def.item(parts::run_one(def, &ctx))
    }
}

#[cfg(test)]
mod tests {
    use postcheck_model::ResourceSelector;

    use super::*;

    #[test]
    fn names_are_unique_kebab_case_and_every_item_says_what_it_does_not_count() {
        let mut names: Vec<_> = precheck_catalogue().iter().map(|d| d.name).collect();
        for def in precheck_catalogue() {
            assert!(def.name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-'), "{}", def.name);
            assert!(!def.not_failures.is_empty(), "{} lists no non-failures", def.name);
            assert!(def.risks != Risks::Nodes || def.part == Part::Node, "{}", def.name);
        }
        names.sort();
        names.dedup();
        assert_eq!(names.len(), precheck_catalogue().len());
        // The pre-check gathers every source (its Snapshot is the baseline).
        for s in precheck_catalogue().iter().flat_map(|d| d.needs) {
            assert!(Source::ALL.contains(s), "{s:?}");
        }
    }

    fn skip(name: &str, selector: Option<(&str, &str)>) -> SkippedCheckItem {
        SkippedCheckItem {
            name: name.into(),
            resource_selector: selector.map(|(key, op)| ResourceSelector {
                key: key.into(),
                values: vec!["u1".into()],
                operator: Some(op.into()),
            }),
        }
    }

    #[test]
    fn a_skipped_list_must_name_known_items_and_select_nodes_by_uid() {
        assert_eq!(
            validate_skipped(&[
                skip("node-ready", Some(("node.uid", "In"))),
                skip("pdb-disruption", None)
            ]),
            Ok(())
        );
        assert_eq!(
            validate_skipped(&[skip("no-such-item", None)]),
            Err(SkipError::UnknownItem("no-such-item".into()))
        );
        assert!(matches!(
            validate_skipped(&[skip("node-ready", Some(("node.name", "In")))]),
            Err(SkipError::UnsupportedKey { .. })
        ));
        assert!(matches!(
            validate_skipped(&[skip("node-ready", Some(("node.uid", "NotIn")))]),
            Err(SkipError::UnsupportedOperator { .. })
        ));
        assert_eq!(
            validate_skipped(&[skip("webhooks", Some(("node.uid", "In")))]),
            Err(SkipError::NotPerNode("webhooks".into()))
        );
    }
}
