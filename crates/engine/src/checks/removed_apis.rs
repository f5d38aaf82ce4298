//! `removed-apis`: objects and Helm releases recorded with an API version the target
//! Kubernetes no longer serves.
//!
//! The rule table is [`crate::rules::removed_apis`] (`data/removed-apis.yaml`, every GA and
//! beta removal from 1.16 on, with its source). An object counts when its last-applied configuration names a
//! removed version and nothing wrote it through a served version since (its managedFields
//! show who did: a later entry on a served version means it was migrated, Pluto's and
//! kubent's false positive), or when the newest writer of the object used a removed version.
//! A Helm release counts when the manifest of its latest deployed revision does.

use super::{CheckContext, Finding};
use crate::rules::removed_apis::{Rule, rule_for};
use crate::snapshot::ApiUse;
use postcheck_model::{Evidence, Version};

fn removed<'a>(api_version: &str, kind: &str, target: Option<&Version>) -> Option<&'a Rule> {
    rule_for(api_version, kind).filter(|r| r.applies_to(target))
}

/// Why `object` is on a removed API, or `None` when it is not (or was migrated).
fn judge_object(object: &ApiUse, target: Option<&Version>) -> Option<String> {
    let newest = object.managed.last();
    if let Some(entry) = newest
        && let Some(rule) = removed(&entry.api_version, &object.kind, target)
    {
        return Some(format!("last written through {} ({})", entry.api_version, rule.advice()));
    }
    let applied = object.last_applied.as_deref()?;
    let rule = removed(applied, &object.kind, target)?;
    // Migrated: something wrote the object through a served version after the apply that
    // recorded the annotation. Without a known owner of the annotation nothing shows it.
    let owner = object.managed.iter().rposition(|e| e.owns_last_applied);
    let migrated = owner.is_some_and(|i| {
        object.managed[i + 1..]
            .iter()
            .any(|e| removed(&e.api_version, &object.kind, target).is_none())
    });
    if migrated {
        return None;
    }
    Some(format!("last-applied-configuration uses {applied} ({})", rule.advice()))
}

/// `removed-apis`: no object or Helm release on an API version the target removed.
pub(super) fn removed_apis(ctx: &CheckContext) -> Finding {
    let Some(uses) = ctx.snapshot.removed_apis.ok() else {
        return Finding::error("the removed-API pass was not gathered");
    };
    let target = ctx.spec.target.as_ref();
    let mut evidence = Vec::new();
    for object in &uses.objects {
        if let Some(ns) = &object.namespace
            && ctx.policy.excludes_object(ns, &object.name)
        {
            continue;
        }
        if let Some(why) = judge_object(object, target) {
            evidence.push(match &object.namespace {
                Some(ns) => Evidence::namespaced(&object.kind, ns, &object.name, why),
                None => Evidence::cluster(&object.kind, &object.name, why),
            });
        }
    }
    for release in &uses.releases {
        if ctx.policy.excludes_object(&release.namespace, &release.name) {
            continue;
        }
        for o in &release.objects {
            if let Some(rule) = removed(&o.api_version, &o.kind, target) {
                evidence.push(Evidence::namespaced(
                    "HelmRelease",
                    &release.namespace,
                    &release.name,
                    format!(
                        "revision {} ({}) renders {} {} as {} ({})",
                        release.version,
                        release.status,
                        o.kind,
                        o.name,
                        o.api_version,
                        rule.advice()
                    ),
                ));
            }
        }
    }
    let at = target.map(|t| format!(" in {t}")).unwrap_or_default();
    let Some(why) = &uses.helm_unavailable else {
        return Finding::from_evidence(
            evidence,
            format!("no object or Helm release uses an API version removed{at}"),
            |n| format!("{n} object(s) or Helm release(s) use API versions removed{at}"),
        );
    };
    // The Helm releases were not readable (their Secrets forbidden by choice): the objects
    // are judged, and the message says what was not.
    let helm = format!("its Helm part could not run: the Helm releases could not be read ({why})");
    Finding::from_evidence(
        evidence,
        format!("no object uses an API version removed{at}; {helm}"),
        |n| format!("{n} object(s) use API versions removed{at}; {helm}"),
    )
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use super::*;
    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;

    #[test]
    fn finds_a_flowschema_last_applied_as_v1beta3_and_a_helm_pdb_on_policy_v1beta1() {
        let snapshot = Snapshot::test()
            .api_use(
                ApiUse::object("FlowSchema", None, "legacy-batch-jobs")
                    .last_applied("flowcontrol.apiserver.k8s.io/v1beta3")
                    .managed("flowcontrol.apiserver.k8s.io/v1", true),
            )
            .helm_release(
                "shop",
                "legacy-pdb",
                1,
                &[("policy/v1beta1", "PodDisruptionBudget", "legacy-pdb")],
            );
        let item = run("removed-apis", &snapshot, None, &target("v1.37.2"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed, "{item:?}");
        assert_eq!(named(&item), ["legacy-batch-jobs", "legacy-pdb"]);
        assert!(
            item.evidence[0].reason.contains("v1beta3")
                && item.evidence[0].reason.contains("removed in 1.32"),
            "{item:?}"
        );
        assert!(
            item.evidence[1].reason.contains("PodDisruptionBudget legacy-pdb as policy/v1beta1"),
            "{item:?}"
        );
        assert!(item.evidence[1].reason.contains("use policy/v1"), "{item:?}");
    }

    #[test]
    fn forbidden_helm_releases_leave_the_objects_judged_and_say_the_helm_part_did_not_run() {
        let mut snapshot = Snapshot::test().api_use(
            ApiUse::object("FlowSchema", None, "legacy")
                .last_applied("flowcontrol.apiserver.k8s.io/v1beta3")
                .managed("flowcontrol.apiserver.k8s.io/v1beta3", true),
        );
        if let crate::snapshot::Gathered::Ok(uses) = &mut snapshot.removed_apis {
            uses.helm_unavailable = Some("forbidden: secrets is forbidden".into());
        }
        let item = run("removed-apis", &snapshot, None, &target("v1.37.2"), &Policy::default());
        assert_eq!((item.phase, named(&item)), (ItemPhase::Failed, vec!["legacy"]), "{item:?}");
        assert!(item.message.starts_with("1 object(s) use API versions removed"), "{item:?}");
        assert!(item.message.contains("its Helm part could not run"), "{item:?}");
        assert!(item.message.contains("secrets is forbidden"), "{item:?}");
    }

    #[test]
    fn an_object_migrated_through_the_served_version_is_not_flagged() {
        let snapshot = Snapshot::test().api_use(
            ApiUse::object("FlowSchema", None, "migrated")
                .last_applied("flowcontrol.apiserver.k8s.io/v1beta3")
                .managed("flowcontrol.apiserver.k8s.io/v1beta3", true)
                .managed("flowcontrol.apiserver.k8s.io/v1", false),
        );
        let item = run("removed-apis", &snapshot, None, &target("v1.37.2"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Success, "{item:?}");
    }

    #[test]
    fn an_object_last_written_through_a_removed_version_is_flagged() {
        let snapshot = Snapshot::test().api_use(
            ApiUse::object("CronJob", Some("jobs"), "nightly").managed("batch/v1beta1", false),
        );
        let item = run("removed-apis", &snapshot, None, &target("v1.37.2"), &Policy::default());
        assert_eq!(named(&item), ["nightly"]);
        assert!(item.evidence[0].reason.contains("last written through batch/v1beta1"), "{item:?}");
    }

    #[test]
    fn a_removal_after_the_target_does_not_count() {
        let snapshot = Snapshot::test().api_use(
            ApiUse::object("FlowSchema", None, "fs")
                .last_applied("flowcontrol.apiserver.k8s.io/v1beta3"),
        );
        assert_eq!(
            run("removed-apis", &snapshot, None, &target("v1.31.4"), &Policy::default()).phase,
            ItemPhase::Success
        );
        assert_eq!(
            run("removed-apis", &snapshot, None, &target("v1.32.0"), &Policy::default()).phase,
            ItemPhase::Failed
        );
    }

    #[test]
    fn a_current_api_version_is_not_flagged() {
        let snapshot = Snapshot::test()
            .api_use(
                ApiUse::object("FlowSchema", None, "fresh")
                    .last_applied("flowcontrol.apiserver.k8s.io/v1")
                    .managed("flowcontrol.apiserver.k8s.io/v1", true),
            )
            .helm_release("shop", "modern", 3, &[("policy/v1", "PodDisruptionBudget", "modern")]);
        assert_eq!(
            run("removed-apis", &snapshot, None, &target("v1.37.2"), &Policy::default()).phase,
            ItemPhase::Success
        );
    }
}
