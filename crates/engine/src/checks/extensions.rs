//! `apiservices` and `webhooks`: the API extensions whose outage breaks requests that
//! have nothing to do with them.
//!
//! An APIService that is not Available makes discovery partial (kubectl, the garbage
//! collector and namespace deletion stall); a `failurePolicy: Fail` admission webhook, or a
//! CRD conversion webhook, whose Service has no ready endpoint rejects every request it
//! intercepts. With a baseline, an extension already broken before is only a Warning.
//! `crd-versions`: a CRD version its objects are still stored in but that is no longer
//! served must be migrated away from before a later upgrade can drop it.

use postcheck_model::Evidence;

use super::grading::{Graded, already};
use super::{CheckContext, Finding};
use crate::policy::Subject;
use crate::snapshot::Snapshot;
use crate::snapshot::{ServiceRef, Webhook};

/// `apiservices`: every APIService is Available.
pub(super) fn apiservices(ctx: &CheckContext) -> Finding {
    let baseline = ctx.baseline.filter(|b| b.api_services.ok().is_some());
    let mut graded = Graded::default();
    let all = ctx.snapshot.api_service_list();
    for a in all.iter().filter(|a| !a.available) {
        let mut reason = a.reason.clone().unwrap_or_else(|| "not Available".into());
        if let Some(s) = &a.service {
            reason.push_str(&format!(" (Service {s})"));
        }
        let before = baseline.and_then(|b| b.api_service_list().iter().find(|o| o.name == a.name));
        let was_down = before.is_some_and(|b| !b.available);
        if was_down {
            reason.push_str("; already not Available in the baseline");
        }
        graded.push(!was_down, Evidence::cluster("APIService", &a.name, reason));
    }
    graded.finding(format!("{} APIService(s) Available", all.len()), |f, w| {
        format!("{} APIService(s) not Available{}", f + w, already(w))
    })
}

/// Why `service` cannot answer, or `None` when it has a ready endpoint.
fn unreachable(snapshot: &Snapshot, service: &ServiceRef) -> Option<String> {
    match snapshot.find_service(&service.namespace, &service.name) {
        None => Some(format!("its Service {service} does not exist")),
        Some(s) if s.ready == 0 => Some(format!("its Service {service} has no ready endpoint")),
        Some(_) => None,
    }
}

fn describe(w: &Webhook) -> String {
    if w.owner_kind == "CustomResourceDefinition" {
        "conversion webhook".into()
    } else {
        format!("webhook {} (failurePolicy: Fail)", w.name)
    }
}

/// `webhooks`: no fail-closed webhook calls a Service without a ready endpoint.
pub(super) fn webhooks(ctx: &CheckContext) -> Finding {
    let baseline = ctx.baseline.filter(|b| b.webhooks.ok().is_some() && b.services.ok().is_some());
    let mut graded = Graded::default();
    let closed: Vec<&Webhook> =
        ctx.snapshot.webhook_list().iter().filter(|w| w.fails_closed).collect();
    for w in &closed {
        let Some(why) = unreachable(ctx.snapshot, &w.service) else { continue };
        let was_down = baseline.is_some_and(|b| {
            b.webhook_list().iter().any(|o| o == *w) && unreachable(b, &w.service).is_some()
        });
        let blocks = if w.owner_kind == "CustomResourceDefinition" {
            "requests for these resources fail"
        } else {
            "the requests it intercepts are rejected"
        };
        let mut reason = format!("{}: {why}; {blocks}", describe(w));
        if was_down {
            reason.push_str("; already so in the baseline");
        }
        graded.push(!was_down, Evidence::cluster(&w.owner_kind, &w.owner_name, reason));
    }
    graded.finding(
        format!("{} fail-closed webhook(s) have a ready endpoint", closed.len()),
        |f, w| format!("{} fail-closed webhook(s) cannot be called{}", f + w, already(w)),
    )
}

/// `crd-versions`: every version a CRD's objects are stored in (`status.storedVersions`)
/// is still served.
pub(super) fn crd_versions(ctx: &CheckContext) -> Finding {
    let mut evidence = Vec::new();
    for crd in ctx.snapshot.crd_list() {
        if ctx.policy.excludes(&Subject { namespace: None, name: &crd.name, labels: None }) {
            continue;
        }
        let unserved: Vec<&str> =
            crd.stored.iter().filter(|v| !crd.served.contains(v)).map(String::as_str).collect();
        if !unserved.is_empty() {
            let served =
                if crd.served.is_empty() { "none".to_owned() } else { crd.served.join(", ") };
            evidence.push(Evidence::cluster(
                "CustomResourceDefinition",
                &crd.name,
                format!(
                    "stored version(s) {} no longer served (served: {served}); migrate the stored objects to a served version and drop the old one from status.storedVersions",
                    unserved.join(", ")
                ),
            ));
        }
    }
    Finding::from_evidence(
        evidence,
        format!("every stored version of {} CRD(s) is served", ctx.snapshot.crd_list().len()),
        |n| format!("{n} CRD(s) have objects stored in a version no longer served"),
    )
}

#[cfg(test)]
mod tests {
    use postcheck_model::{ItemPhase, Level};

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::{CrdVersions, Gathered, Snapshot, Source};

    #[test]
    fn an_unavailable_apiservice_is_named_with_its_reason() {
        let ok = Snapshot::test().api_service("v1.apps", None, true);
        assert_eq!(
            run("apiservices", &ok, None, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Success
        );
        let now = ok.clone().api_service(
            "v1beta1.metrics.k8s.io",
            Some(("monitoring", "metrics-gone")),
            false,
        );
        let item = run("apiservices", &now, Some(&ok), &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["v1beta1.metrics.k8s.io"]);
        assert!(
            item.evidence[0].reason.contains("MissingEndpoints")
                && item.evidence[0].reason.contains("monitoring/metrics-gone"),
            "{item:?}"
        );
        let known = run("apiservices", &now, Some(&now), &target("v1.37"), &Policy::default());
        assert_eq!(known.level, Level::Warning);
    }

    #[test]
    fn a_fail_closed_webhook_without_endpoints_is_fatal_an_ignore_one_is_not() {
        let now = Snapshot::test()
            .service("webhooks", "admission-gone", 0)
            .webhook(
                "ValidatingWebhookConfiguration",
                "admission-gone",
                true,
                ("webhooks", "admission-gone"),
            )
            .webhook(
                "MutatingWebhookConfiguration",
                "best-effort",
                false,
                ("webhooks", "admission-gone"),
            );
        let item =
            run("webhooks", &now, Some(&Snapshot::test()), &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["admission-gone"]);
        assert!(item.evidence[0].reason.contains("has no ready endpoint"), "{item:?}");
    }

    #[test]
    fn a_conversion_webhook_whose_service_is_gone_is_reported() {
        let now = Snapshot::test().webhook(
            "CustomResourceDefinition",
            "widgets.example.com",
            true,
            ("widgets", "converter"),
        );
        let item = run("webhooks", &now, None, &target("v1.37"), &Policy::default());
        assert_eq!(named(&item), ["widgets.example.com"]);
        assert!(
            item.evidence[0]
                .reason
                .starts_with("conversion webhook: its Service widgets/converter does not exist"),
            "{item:?}"
        );
    }

    #[test]
    fn a_webhook_already_broken_in_the_baseline_is_a_warning_and_a_working_one_passes() {
        let broken = Snapshot::test().service("w", "svc", 0).webhook(
            "ValidatingWebhookConfiguration",
            "old",
            true,
            ("w", "svc"),
        );
        assert_eq!(
            run("webhooks", &broken, Some(&broken), &target("v1.37"), &Policy::default()).level,
            Level::Warning
        );
        let working = Snapshot::test().service("w", "svc", 1).webhook(
            "ValidatingWebhookConfiguration",
            "old",
            true,
            ("w", "svc"),
        );
        assert_eq!(
            run("webhooks", &working, None, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Success
        );
    }

    fn crd(name: &str, served: &[&str], stored: &[&str]) -> CrdVersions {
        let owned = |v: &[&str]| v.iter().map(|s| (*s).to_owned()).collect();
        CrdVersions { name: name.into(), served: owned(served), stored: owned(stored) }
    }

    fn with(crds: Vec<CrdVersions>) -> Snapshot {
        let mut s = Snapshot::test();
        s.crd_versions = Gathered::Ok(crds);
        s
    }

    #[test]
    fn a_stored_version_no_longer_served_is_named() {
        let ok = with(vec![crd("widgets.example.com", &["v1alpha1", "v1"], &["v1alpha1", "v1"])]);
        assert_eq!(
            run("crd-versions", &ok, None, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Success
        );
        let stale = with(vec![
            crd("widgets.example.com", &["v1"], &["v1alpha1", "v1"]),
            crd("gadgets.example.com", &["v1"], &["v1"]),
        ]);
        let item = run("crd-versions", &stale, None, &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
        assert_eq!(named(&item), ["widgets.example.com"]);
        assert!(item.evidence[0].reason.contains("v1alpha1 no longer served"), "{item:?}");
    }

    #[test]
    fn an_excluded_crd_is_not_judged_and_an_unreadable_list_is_could_not_run() {
        let stale = with(vec![crd("widgets.example.com", &["v1"], &["v1alpha1"])]);
        let mut policy = Policy::default();
        policy.exclude.names = vec!["widgets.*".into()];
        assert_eq!(
            run("crd-versions", &stale, None, &target("v1.37"), &policy).phase,
            ItemPhase::Success
        );
        let forbidden = Snapshot::test().unavailable(Source::CrdVersions, 403, "forbidden");
        assert_eq!(
            run("crd-versions", &forbidden, None, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Error
        );
    }
}
