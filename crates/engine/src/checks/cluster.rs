//! The control plane: `cluster-version`, `apiserver-health` and `control-plane`.
//!
//! The API server is judged by what it says about itself (`/version`, `/readyz`,
//! `/livez`); the controller-manager and scheduler, which usually run where a managed
//! cluster's user cannot see them, by their leader-election Leases in kube-system, and by
//! their pods when those are visible (kubeadm's static pods).

use chrono::Duration;
use postcheck_model::{Evidence, Version};

use super::{CheckContext, Finding};

/// Components that hold a leader-election Lease in kube-system.
const LEADERS: [&str; 2] = ["kube-controller-manager", "kube-scheduler"];
/// Control-plane components whose pods kubeadm labels `component=<name>`.
const COMPONENTS: [&str; 3] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];
/// Slack on top of a Lease's duration before its holder counts as gone (clock skew, a
/// renewal in flight).
const LEASE_SLACK_SECONDS: i64 = 15;

/// `cluster-version`: the API server is on the target, and no longer on the source.
///
/// On the target: the same minor, the same patch when the target names one, the same CCE
/// revision when both the target and the API server name one. Off the source: when source
/// and target share a minor, the cluster must have left the source patch (and revision);
/// only a source naming just that minor, or a revision-only upgrade the API server's
/// version cannot show, leaves that undecided (passed, and said so in the message).
pub(super) fn cluster_version(ctx: &CheckContext) -> Finding {
    let Some(reported) = ctx.snapshot.server_version.ok() else {
        return Finding::error("the API server's version was not read");
    };
    let actual = match Version::parse(reported) {
        Ok(v) => v,
        Err(e) => {
            return Finding::error(format!("the API server's version could not be read: {e}"));
        }
    };
    let evidence = |why: String| vec![Evidence::cluster("APIServer", "kube-apiserver", why)];
    let (source, target) = (ctx.spec.source.as_ref(), ctx.spec.target.as_ref());
    if let Some(target) = target {
        let revision_differs =
            matches!((actual.revision, target.revision), (Some(a), Some(t)) if a != t);
        if !actual.satisfies(target) || revision_differs {
            return Finding::fail(
                format!("the API server reports {reported}, not the target {target}"),
                evidence(format!("serves {reported}, expected {target}")),
            );
        }
    }
    let mut note = String::new();
    if let Some(source) = source {
        let same_minor = target.is_some_and(|t| t.minor_pair() == source.minor_pair());
        // A revision-only upgrade (v1.19.16-r0 to -r80) keeps Kubernetes' version.
        let revision_only = target.is_some_and(|t| {
            t.patch.is_some() && source.patch.is_some() && t.triple() == source.triple()
        });
        if source.patch.is_none() && same_minor {
            note = format!("; the source {source} names no patch, so leaving it cannot be told");
        } else if actual.still_on(source) {
            if revision_only && (actual.revision.is_none() || source.revision.is_none()) {
                note = format!(
                    "; a revision-only upgrade from {source}: the API server's version does not show the revision"
                );
            } else {
                let what = if same_minor && source.patch.is_some() {
                    "the upgrade within the minor did not happen: still on the source"
                } else {
                    "still on the source version"
                };
                return Finding::fail(
                    format!("the API server reports {reported}: {what} {source}"),
                    evidence(format!("serves {reported}, the version before the upgrade")),
                );
            }
        }
    }
    match target {
        Some(target) => {
            Finding::pass(format!("the API server reports {reported}, the target {target}{note}"))
        }
        None => Finding::pass(format!(
            "the API server reports {reported} (no target version given){note}"
        )),
    }
}

/// `apiserver-health`: every `/readyz` and `/livez` check is ok.
pub(super) fn apiserver_health(ctx: &CheckContext) -> Finding {
    let checks = ctx.snapshot.health.ok().map_or(&[][..], Vec::as_slice);
    if checks.is_empty() {
        return Finding::error("the API server listed no health checks");
    }
    let evidence: Vec<Evidence> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| {
            Evidence::cluster("HealthCheck", format!("{}/{}", c.endpoint, c.name), c.detail.clone())
        })
        .collect();
    Finding::from_evidence(
        evidence,
        format!("all {} checks of /readyz and /livez are ok", checks.len()),
        |n| format!("{n} API server health check(s) failing"),
    )
}

/// `control-plane`: controller-manager and scheduler hold recently renewed Leases;
/// visible control-plane pods are Running, Ready and on the target version.
pub(super) fn control_plane(ctx: &CheckContext) -> Finding {
    let snapshot = ctx.snapshot;
    let now = snapshot.now();
    let mut evidence = Vec::new();
    let mut notes = Vec::new();

    let leases: Vec<_> = LEADERS
        .iter()
        .map(|name| {
            (
                *name,
                snapshot
                    .lease_list()
                    .iter()
                    .find(|l| l.namespace == "kube-system" && l.name == *name),
            )
        })
        .collect();
    let any_lease = leases.iter().any(|(_, l)| l.is_some());
    for (name, lease) in &leases {
        let Some(lease) = lease else {
            if any_lease {
                evidence.push(Evidence::namespaced(
                    "Lease",
                    "kube-system",
                    *name,
                    format!("absent: {name} holds no leader Lease"),
                ));
            }
            continue;
        };
        let holder = lease.holder.as_deref().unwrap_or("");
        let limit = Duration::seconds(
            i64::from(lease.duration_seconds.unwrap_or(15)) + LEASE_SLACK_SECONDS,
        );
        match lease.renew_time {
            _ if holder.is_empty() => evidence.push(Evidence::namespaced(
                "Lease",
                "kube-system",
                *name,
                "has no holder: no leader is elected",
            )),
            None => evidence.push(Evidence::namespaced(
                "Lease",
                "kube-system",
                *name,
                "was never renewed",
            )),
            Some(renewed) if now - renewed > limit => evidence.push(Evidence::namespaced(
                "Lease",
                "kube-system",
                *name,
                format!(
                    "last renewed {}s before the check by {holder}: its leader is gone",
                    (now - renewed).num_seconds()
                ),
            )),
            Some(renewed) => {
                notes.push(format!("{name} renewed {}s ago", (now - renewed).num_seconds().max(0)))
            }
        }
    }

    let pods: Vec<_> = snapshot
        .pod_list()
        .iter()
        .filter(|p| p.namespace == "kube-system" && !ctx.policy.excludes_pod(p))
        .filter(|p| p.labels.get("component").is_some_and(|c| COMPONENTS.contains(&c)))
        .collect();
    for pod in &pods {
        let mut why = Vec::new();
        if pod.phase != "Running" || !pod.ready {
            why.push(format!("{}, {}", pod.phase, if pod.ready { "Ready" } else { "not Ready" }));
        }
        if let Some(target) = &ctx.spec.target {
            for c in &pod.containers {
                let tag = c.image.rsplit_once(':').map(|(_, t)| t).unwrap_or("");
                if let Ok(v) = Version::parse(tag)
                    && !v.satisfies(target)
                {
                    why.push(format!(
                        "container {} runs {}, not the target {target}",
                        c.name, c.image
                    ));
                }
            }
        }
        if !why.is_empty() {
            evidence.push(Evidence::namespaced("Pod", &pod.namespace, &pod.name, why.join("; ")));
        }
    }
    if !pods.is_empty() {
        notes.push(format!("{} control-plane pod(s) visible", pods.len()));
    }

    if !any_lease && pods.is_empty() {
        return Finding::skip(
            "the control plane is not visible here (no leader Leases, no control-plane pods in kube-system)",
        );
    }
    Finding::from_evidence(evidence, format!("control plane alive: {}", notes.join(", ")), |n| {
        format!("{n} control-plane component(s) not healthy")
    })
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::ItemPhase;

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::request::CheckSpec;
    use crate::snapshot::Snapshot;
    use crate::testing::PodFixture;

    fn spec(source: Option<&str>, target: Option<&str>) -> CheckSpec {
        CheckSpec {
            source: source.map(|s| s.parse().unwrap()),
            target: target.map(|s| s.parse().unwrap()),
        }
    }

    fn version_item(
        server: &str,
        source: Option<&str>,
        target: Option<&str>,
    ) -> postcheck_model::CheckItem {
        run(
            "cluster-version",
            &Snapshot::test().version(server),
            None,
            &spec(source, target),
            &Policy::default(),
        )
    }

    #[test]
    fn the_api_server_on_the_target_passes_whatever_the_patch_or_revision() {
        assert_eq!(version_item("v1.37.2", Some("v1.36"), Some("v1.37")).phase, ItemPhase::Success);
        assert_eq!(version_item("v1.37.2", None, Some("v1.37.2-r0")).phase, ItemPhase::Success);
        assert_eq!(
            version_item("v1.37.2-eks-a737599", None, Some("v1.37.2")).phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn the_api_server_off_the_target_fails_naming_the_api_server() {
        let item = version_item("v1.36.3", Some("v1.36.3"), Some("v1.37.2"));
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["kube-apiserver"]);
        assert!(
            item.message.contains("v1.36.3") && item.message.contains("v1.37.2"),
            "{}",
            item.message
        );
        assert_eq!(version_item("v1.37.1", None, Some("v1.37.2")).phase, ItemPhase::Failed);
    }

    #[test]
    fn without_a_target_the_source_version_must_be_left_behind() {
        assert_eq!(version_item("v1.36.3", Some("v1.36"), None).phase, ItemPhase::Failed);
        assert_eq!(version_item("v1.37.2", Some("v1.36"), None).phase, ItemPhase::Success);
        // A CCE revision-only upgrade keeps Kubernetes' version.
        assert_eq!(
            version_item("v1.19.16", Some("v1.19.16-r0"), Some("v1.19.16-r80")).phase,
            ItemPhase::Success
        );
    }

    /// Every combination of source and target written as a minor, a patch and a CCE
    /// revision, across the same minor and the next one, with the cluster on the source,
    /// on the target, or elsewhere.
    #[test]
    fn every_form_of_source_and_target() {
        use ItemPhase::{Failed as F, Success as S};
        #[rustfmt::skip]
        let table: &[(&str, Option<&str>, Option<&str>, ItemPhase)] = &[
            // server        source            target            verdict
            // The patch upgrade that did not happen (the case).
            ("v1.37.2",      Some("v1.37.2"),    Some("v1.37"),      F),
            ("v1.37.3",      Some("v1.37.2"),    Some("v1.37"),      S),
            ("v1.37.2",      Some("v1.37.2-r0"), Some("v1.37"),      F),
            ("v1.37.2-r0",   Some("v1.37.2-r0"), Some("v1.37"),      F),
            ("v1.37.2-r3",   Some("v1.37.2-r0"), Some("v1.37"),      S),
            ("v1.37.3",      Some("v1.37.2-r0"), Some("v1.37"),      S),
            // Same minor, target a patch.
            ("v1.37.2",      Some("v1.37.2"),    Some("v1.37.3"),    F),
            ("v1.37.3",      Some("v1.37.2"),    Some("v1.37.3"),    S),
            ("v1.37.3",      Some("v1.37.2-r0"), Some("v1.37.3"),    S),
            ("v1.37.3",      Some("v1.37"),      Some("v1.37.3"),    S),
            ("v1.37.2",      Some("v1.37"),      Some("v1.37.3"),    F),
            // Same minor, target a revision.
            ("v1.37.3",      Some("v1.37.2"),    Some("v1.37.3-r1"), S),
            ("v1.37.3-r1",   Some("v1.37.2-r0"), Some("v1.37.3-r1"), S),
            ("v1.37.3-r0",   Some("v1.37.2-r0"), Some("v1.37.3-r1"), F),
            ("v1.37.2",      Some("v1.37.2"),    Some("v1.37.3-r1"), F),
            // Revision-only upgrades: the revision decides when the API server shows it.
            ("v1.19.16",     Some("v1.19.16-r0"), Some("v1.19.16-r80"), S),
            ("v1.19.16-r80", Some("v1.19.16-r0"), Some("v1.19.16-r80"), S),
            ("v1.19.16-r0",  Some("v1.19.16-r0"), Some("v1.19.16-r80"), F),
            ("v1.19.16-r80", Some("v1.19.16"),    Some("v1.19.16-r80"), S),
            // A source naming only the minor the target shares cannot be told apart.
            ("v1.37.2",      Some("v1.37"),      Some("v1.37"),      S),
            // The next minor, every form of each side.
            ("v1.36.3",      Some("v1.36"),      Some("v1.37"),      F),
            ("v1.37.2",      Some("v1.36"),      Some("v1.37"),      S),
            ("v1.36.3",      Some("v1.36.3"),    Some("v1.37.2"),    F),
            ("v1.37.2",      Some("v1.36.3"),    Some("v1.37.2"),    S),
            ("v1.37.2",      Some("v1.36.3-r1"), Some("v1.37.2-r0"), S),
            ("v1.37.2-r0",   Some("v1.36.3-r1"), Some("v1.37.2-r0"), S),
            ("v1.36.3-r1",   Some("v1.36.3-r1"), Some("v1.37.2-r0"), F),
            ("v1.37.1",      Some("v1.36"),      Some("v1.37.2"),    F),
            ("v1.38.0",      Some("v1.36"),      Some("v1.37"),      F),
            // No source, no target.
            ("v1.37.2",      None,               Some("v1.37"),      S),
            ("v1.37.1",      None,               Some("v1.37.2"),    F),
            ("v1.36.3",      Some("v1.36"),      None,               F),
            ("v1.36.3",      Some("v1.36.3"),    None,               F),
            ("v1.36.4",      Some("v1.36.3"),    None,               S),
            ("v1.37.2",      Some("v1.36"),      None,               S),
            ("v1.37.2",      None,               None,               S),
            // Vendor suffixes are not revisions.
            ("v1.37.2-eks-a737599", Some("v1.36.3"), Some("v1.37.2"), S),
            ("v1.25.5-r0-25.1.26",  Some("v1.25.5-r0"), Some("v1.25"), F),
        ];
        for (server, source, target, expected) in table {
            let item = version_item(server, *source, *target);
            assert_eq!(
                item.phase, *expected,
                "server {server}, source {source:?}, target {target:?}: {}",
                item.message
            );
            if item.phase == F {
                assert_eq!(named(&item), ["kube-apiserver"]);
            }
        }
    }

    #[test]
    fn the_patch_upgrade_that_did_not_happen_says_so() {
        let item = version_item("v1.37.2", Some("v1.37.2"), Some("v1.37"));
        assert_eq!(item.phase, ItemPhase::Failed);
        assert!(item.message.contains("did not happen"), "{}", item.message);
    }

    #[test]
    fn an_unreadable_version_is_an_error_not_a_failure() {
        assert_eq!(version_item("devel", None, Some("v1.37")).phase, ItemPhase::Error);
    }

    #[test]
    fn a_failing_readyz_check_is_named() {
        let snapshot = Snapshot::test().health_failed("readyz", "etcd", "failed: reason withheld");
        let item =
            run("apiserver-health", &snapshot, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["readyz/etcd"]);
        assert_eq!(item.evidence[0].reason, "failed: reason withheld");
        let healthy = run(
            "apiserver-health",
            &Snapshot::test(),
            None,
            &CheckSpec::default(),
            &Policy::default(),
        );
        assert_eq!(healthy.phase, ItemPhase::Success);
    }

    #[test]
    fn a_stale_scheduler_lease_fails_the_control_plane() {
        let snapshot = Snapshot::test().lease_renewed("kube-scheduler", Duration::minutes(3));
        let item = run("control-plane", &snapshot, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["kube-scheduler"]);
        assert!(item.evidence[0].reason.contains("180s"), "{}", item.evidence[0].reason);
    }

    #[test]
    fn fresh_leases_pass_and_a_managed_control_plane_is_skipped() {
        let item = run(
            "control-plane",
            &Snapshot::test(),
            None,
            &CheckSpec::default(),
            &Policy::default(),
        );
        assert_eq!(item.phase, ItemPhase::Success, "{}", item.message);
        let hidden = Snapshot::test()
            .without_lease("kube-scheduler")
            .without_lease("kube-controller-manager");
        let item = run("control-plane", &hidden, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Skipped);
    }

    #[test]
    fn a_missing_scheduler_lease_beside_a_live_controller_manager_fails() {
        let snapshot = Snapshot::test().without_lease("kube-scheduler");
        let item = run("control-plane", &snapshot, None, &CheckSpec::default(), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["kube-scheduler"]);
    }

    #[test]
    fn visible_control_plane_pods_must_run_the_target_version() {
        let snapshot = Snapshot::test()
            .pod(
                PodFixture::running("kube-system", "kube-apiserver-m1")
                    .label("component", "kube-apiserver")
                    .image("registry.k8s.io/kube-apiserver:v1.37.2"),
            )
            .pod(
                PodFixture::running("kube-system", "kube-scheduler-m1")
                    .label("component", "kube-scheduler")
                    .image("registry.k8s.io/kube-scheduler:v1.36.3"),
            )
            .pod(
                PodFixture::running("kube-system", "kube-controller-manager-m1")
                    .label("component", "kube-controller-manager")
                    .not_ready(),
            );
        let item = run("control-plane", &snapshot, None, &target("v1.37"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["kube-scheduler-m1", "kube-controller-manager-m1"]);
    }
}
