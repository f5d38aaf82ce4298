//! Blame: whether each finding is the upgrade's doing, decided in one place for every item.
//!
//! After the catalogue has judged the cluster, the same catalogue judges the baseline (the
//! cluster before the upgrade, with no baseline of its own). Every evidence entry of every
//! failed item is fingerprinted ([`fingerprint`]: the item, the object's kind, namespace and
//! name, and the reason's class) and classified: `new` when the baseline's findings have no
//! such fingerprint, `preExisting` when they do. What the baseline found and the cluster no
//! longer shows is `resolved`, listed apart. Only new findings can make an item Fatal: a
//! Fatal item whose every finding is pre-existing becomes a Warning. CCE's `phase` is
//! computed afterwards, from the items, exactly as without blame.
//!
//! Items whose findings are the upgrade's own outcome ([`Blamed::UpgradeOutcome`]: the
//! versions reached, the nodes upgraded) are not compared: the baseline was on the old
//! version by definition, so their findings are always new.
//!
//! The reason's class ([`reason_class`]) is what stays of a reason when its counts, ages,
//! versions and comments on the baseline are taken out, so that "Pending for 5m" before and
//! "Pending for 2h" after are the same finding, and "already so in the baseline" appended by
//! a check does not make it a different one.

use std::collections::BTreeSet;

use postcheck_model::{Blame, BlameCounts, CheckItem, Evidence, ItemPhase, Level, ResolvedFinding};

use crate::checks::{self, Blamed, CheckContext};
use crate::policy::Policy;
use crate::request::CheckSpec;
use crate::snapshot::Snapshot;

/// A finding's identity across two judgements: (item, kind, namespace, name, reason class).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Fingerprint {
    item: String,
    kind: String,
    namespace: Option<String>,
    name: String,
    class: String,
}

/// What blame made of a judgement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct BlameOutcome {
    /// The items, each evidence entry of a failed item marked, levels adjusted.
    pub(crate) items: Vec<CheckItem>,
    /// The counts.
    pub(crate) counts: BlameCounts,
    /// The baseline's findings gone now.
    pub(crate) resolved: Vec<ResolvedFinding>,
}

/// Judges `baseline` with the same catalogue, spec and policy as the cluster now, and
/// classifies `items` (the judgement of now) against it.
pub(crate) fn blame(
    items: Vec<CheckItem>,
    baseline: &Snapshot,
    spec: &CheckSpec,
    policy: &Policy,
) -> BlameOutcome {
    let before = checks::judge(&CheckContext { snapshot: baseline, baseline: None, spec, policy });
    classify(items, &before, |name| {
        checks::catalogue().iter().find(|d| d.name == name).map_or(Blamed::Compared, |d| d.blame)
    })
}

/// Classifies every evidence entry of every failed item of `now` against the findings of
/// `before`; `rule` says how each item (by name) is treated.
pub(crate) fn classify(
    mut now: Vec<CheckItem>,
    before: &[CheckItem],
    rule: impl Fn(&str) -> Blamed,
) -> BlameOutcome {
    let compared = |item: &CheckItem| rule(&item.name) == Blamed::Compared;
    let found_before: BTreeSet<Fingerprint> = before
        .iter()
        .filter(|i| i.phase == ItemPhase::Failed && compared(i))
        .flat_map(|i| i.evidence.iter().map(|e| fingerprint(&i.name, e)))
        .collect();
    let mut found_now = BTreeSet::new();
    let mut counts = BlameCounts::default();
    for item in now.iter_mut().filter(|i| i.phase == ItemPhase::Failed) {
        let compare = compared(item);
        for e in &mut item.evidence {
            let print = fingerprint(&item.name, e);
            let blame = if compare && found_before.contains(&print) {
                counts.pre_existing += 1;
                Blame::PreExisting
            } else {
                counts.new += 1;
                Blame::New
            };
            e.blame = Some(blame);
            found_now.insert(print);
        }
        let all_before = !item.evidence.is_empty()
            && item.evidence.iter().all(|e| e.blame == Some(Blame::PreExisting));
        if all_before && item.level == Level::Fatal {
            item.level = Level::Warning;
            item.message.push_str(" (every finding already there before the upgrade)");
        }
    }
    // A finding is resolved only where the item ran now: one that could not run, or was
    // skipped, says nothing about whether the finding is gone.
    let ran_now: BTreeSet<&str> = now
        .iter()
        .filter(|i| matches!(i.phase, ItemPhase::Success | ItemPhase::Failed))
        .map(|i| i.name.as_str())
        .collect();
    let mut resolved = Vec::new();
    for item in before.iter().filter(|i| i.phase == ItemPhase::Failed && compared(i)) {
        if !ran_now.contains(item.name.as_str()) {
            continue;
        }
        for e in &item.evidence {
            if !found_now.contains(&fingerprint(&item.name, e)) {
                resolved.push(ResolvedFinding { item: item.name.clone(), evidence: e.clone() });
            }
        }
    }
    counts.resolved = resolved.len();
    BlameOutcome { items: now, counts, resolved }
}

/// The one fingerprint of a finding. A pod's name loses its generated suffix (the five
/// characters a ReplicaSet or DaemonSet adds), so that the same workload's pod recreated
/// during the upgrade is the same finding.
pub(crate) fn fingerprint(item: &str, evidence: &Evidence) -> Fingerprint {
    let name = if evidence.kind == "Pod" {
        pod_stem(&evidence.name).to_owned()
    } else {
        evidence.name.clone()
    };
    Fingerprint {
        item: item.to_owned(),
        kind: evidence.kind.clone(),
        namespace: evidence.namespace.clone(),
        name,
        class: reason_class(&evidence.reason),
    }
}

/// The characters Kubernetes draws generated name suffixes from.
const GENERATED: &str = "bcdfghjklmnpqrstvwxz2456789";

fn pod_stem(name: &str) -> &str {
    match name.rsplit_once('-') {
        Some((stem, suffix))
            if !stem.is_empty()
                && suffix.len() == 5
                && suffix.chars().all(|c| GENERATED.contains(c)) =>
        {
            stem
        }
        _ => name,
    }
}

/// A reason's class: its first clause (up to the first `;` or `(`), without the words that
/// carry numbers (counts, ages, versions, ratios), lowercased.
pub(crate) fn reason_class(reason: &str) -> String {
    let head = reason.split([';', '(']).next().unwrap_or_default();
    head.split_whitespace()
        .filter(|w| !w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

#[cfg(test)]
mod tests {
    use postcheck_model::{ItemGroup, ItemKind};

    use super::*;

    fn item(name: &str, evidence: Vec<Evidence>) -> CheckItem {
        CheckItem {
            name: name.into(),
            kind: ItemKind::Exception,
            group: ItemGroup::LimitCheck,
            level: Level::Fatal,
            phase: if evidence.is_empty() { ItemPhase::Success } else { ItemPhase::Failed },
            message: "m".into(),
            evidence,
        }
    }

    fn pod(name: &str, reason: &str) -> Evidence {
        Evidence::namespaced("Pod", "shop", name, reason)
    }

    #[test]
    fn reason_classes_ignore_counts_ages_versions_and_baseline_remarks() {
        assert_eq!(
            reason_class("Pending for 5m 30s: 0/3 nodes are available"),
            "pending for nodes are available"
        );
        assert_eq!(
            reason_class("Pending for 2h: 0/3 nodes are available"),
            reason_class("Pending for 5m30s: 0/4 nodes are available")
        );
        assert_eq!(
            reason_class("no ready endpoint; had none in the baseline either"),
            reason_class("no ready endpoint (no baseline to tell whether it had any)")
        );
        assert_eq!(
            reason_class("container app waiting: CrashLoopBackOff (5 restarts)"),
            "container app waiting: crashloopbackoff"
        );
        assert_ne!(
            reason_class("container app waiting: CrashLoopBackOff (5 restarts)"),
            reason_class("container app waiting: ImagePullBackOff (0 restarts)")
        );
    }

    #[test]
    fn a_recreated_pod_of_the_same_replicaset_is_the_same_finding() {
        let before = fingerprint("pod-health", &pod("web-7d9f8b6c5d-x2x4z", "Pending for 5m"));
        let after = fingerprint("pod-health", &pod("web-7d9f8b6c5d-q7wkb", "Pending for 1h"));
        assert_eq!(before, after);
        assert_ne!(
            fingerprint("pod-health", &pod("db-0", "Pending")),
            fingerprint("pod-health", &pod("db-1", "Pending"))
        );
        assert_eq!(pod_stem("web-aaaaa"), "web-aaaaa", "vowels are never generated");
    }

    #[test]
    fn findings_are_new_pre_existing_or_resolved() {
        let before = vec![item(
            "pod-health",
            vec![
                pod("old", "container a waiting: CrashLoopBackOff (3 restarts)"),
                pod("fixed", "Pending for 1m"),
            ],
        )];
        let now = vec![item(
            "pod-health",
            vec![
                pod("old", "container a waiting: CrashLoopBackOff (9 restarts)"),
                pod("fresh", "Pending for 1m"),
            ],
        )];
        let blamed = classify(now, &before, |_| Blamed::Compared);
        let marks: Vec<_> =
            blamed.items[0].evidence.iter().map(|e| (e.name.as_str(), e.blame)).collect();
        assert_eq!(marks, [("old", Some(Blame::PreExisting)), ("fresh", Some(Blame::New))]);
        assert_eq!(blamed.counts, BlameCounts { new: 1, pre_existing: 1, resolved: 1 });
        assert_eq!(blamed.resolved[0].evidence.name, "fixed");
        assert_eq!(blamed.items[0].level, Level::Fatal, "a new finding keeps the item Fatal");
    }

    #[test]
    fn an_item_whose_findings_all_predate_the_upgrade_is_only_a_warning() {
        let finding =
            || vec![Evidence::cluster("APIService", "v1beta1.metrics.k8s.io", "MissingEndpoints")];
        let blamed = classify(
            vec![item("apiservices", finding())],
            &[item("apiservices", finding())],
            |_| Blamed::Compared,
        );
        assert_eq!(blamed.items[0].level, Level::Warning);
        assert_eq!(blamed.items[0].phase, ItemPhase::Failed, "still reported, not hidden");
        assert_eq!(blamed.counts, BlameCounts { new: 0, pre_existing: 1, resolved: 0 });
    }

    #[test]
    fn the_upgrades_own_outcome_is_always_new() {
        let stale = || vec![Evidence::cluster("Node", "n1", "kubelet v1.36.3, expected v1.37")];
        let blamed = classify(
            vec![item("node-version", stale())],
            &[item("node-version", stale())],
            |name| if name == "node-version" { Blamed::UpgradeOutcome } else { Blamed::Compared },
        );
        assert_eq!(blamed.items[0].evidence[0].blame, Some(Blame::New));
        assert_eq!(blamed.items[0].level, Level::Fatal);
        assert!(blamed.resolved.is_empty());
    }

    #[test]
    fn nothing_is_resolved_by_an_item_that_could_not_run_now() {
        let before = vec![item(
            "webhooks",
            vec![Evidence::cluster("ValidatingWebhookConfiguration", "w", "down")],
        )];
        let mut now = item("webhooks", vec![]);
        now.phase = ItemPhase::Error;
        let blamed = classify(vec![now], &before, |_| Blamed::Compared);
        assert!(blamed.resolved.is_empty());
        assert_eq!(blamed.counts, BlameCounts::default());
    }
}
