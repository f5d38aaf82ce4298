//! `service-endpoints`: Services with a selector have at least one ready endpoint (counted
//! from their EndpointSlices).
//!
//! Against the baseline: a Service that had ready endpoints before and has none now is
//! Fatal; one that had none before either is a Warning; one new since the baseline is Fatal
//! (nothing shows it was broken before). Without a baseline, no ready endpoint is a Warning
//! (a Service may legitimately wait for pods). Services behind an APIService or a webhook are
//! left to `apiservices` and `webhooks`, which say what the outage breaks.

use postcheck_model::Evidence;

use super::grading::{Graded, already};
use super::{CheckContext, Finding};
use crate::snapshot::Snapshot;

/// Whether an APIService or a webhook calls `namespace/name` (when those were gathered).
fn backs_an_extension(snapshot: &Snapshot, namespace: &str, name: &str) -> bool {
    let is = |s: &crate::snapshot::ServiceRef| s.namespace == namespace && s.name == name;
    snapshot.api_service_list().iter().any(|a| a.service.as_ref().is_some_and(is))
        || snapshot.webhook_list().iter().any(|w| is(&w.service))
}

/// `service-endpoints`: no Service with a selector is left without a ready endpoint.
pub(super) fn service_endpoints(ctx: &CheckContext) -> Finding {
    let baseline = ctx.baseline.filter(|b| b.services.ok().is_some());
    let mut graded = Graded::default();
    let mut judged = 0;
    for s in ctx.snapshot.service_list().iter().filter(|s| s.has_selector) {
        if ctx.policy.excludes_object(&s.namespace, &s.name)
            || backs_an_extension(ctx.snapshot, &s.namespace, &s.name)
        {
            continue;
        }
        judged += 1;
        if s.ready > 0 {
            continue;
        }
        let (fatal, reason) = match baseline.map(|b| b.find_service(&s.namespace, &s.name)) {
            None => {
                (false, "no ready endpoint (no baseline to tell whether it had any)".to_owned())
            }
            Some(None) => (true, "no ready endpoint; new since the baseline".to_owned()),
            Some(Some(b)) if b.ready > 0 => {
                (true, format!("no ready endpoint; had {} in the baseline", b.ready))
            }
            Some(Some(_)) => {
                (false, "no ready endpoint; had none in the baseline either".to_owned())
            }
        };
        graded.push(fatal, Evidence::namespaced("Service", &s.namespace, &s.name, reason));
    }
    graded.finding(format!("{judged} Service(s) with a selector have ready endpoints"), |f, w| {
        format!("{} Service(s) have no ready endpoint{}", f + w, already(w))
    })
}

#[cfg(test)]
mod tests {
    use postcheck_model::{CheckItem, ItemPhase, Level};

    use super::*;
    use crate::checks::testing::*;
    use crate::policy::Policy;

    fn judge(now: &Snapshot, before: Option<&Snapshot>) -> CheckItem {
        run("service-endpoints", now, before, &target("v1.37.2"), &Policy::default())
    }

    #[test]
    fn services_with_ready_endpoints_pass() {
        let s = Snapshot::test().service("shop", "checkout", 2).service("shop", "cart", 1);
        assert_eq!(judge(&s, Some(&s)).phase, ItemPhase::Success);
    }

    #[test]
    fn a_service_that_lost_its_endpoints_is_fatal() {
        let before = Snapshot::test().service("shop", "checkout", 2);
        let item = judge(&Snapshot::test().service("shop", "checkout", 0), Some(&before));
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["checkout"]);
        assert_eq!(item.evidence[0].reason, "no ready endpoint; had 2 in the baseline");
    }

    #[test]
    fn a_service_without_endpoints_before_is_a_warning_and_so_is_one_without_a_baseline() {
        let empty = Snapshot::test().service("shop", "legacy", 0);
        let item = judge(&empty, Some(&empty));
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
        assert_eq!(judge(&empty, None).level, Level::Warning);
    }

    #[test]
    fn a_new_service_without_endpoints_is_fatal() {
        let item = judge(&Snapshot::test().service("shop", "new", 0), Some(&Snapshot::test()));
        assert_eq!(item.level, Level::Fatal);
        assert!(item.evidence[0].reason.contains("new since the baseline"));
    }

    #[test]
    fn a_service_behind_an_apiservice_is_left_to_apiservices() {
        let s = Snapshot::test().service("monitoring", "metrics", 0).api_service(
            "v1beta1.metrics.k8s.io",
            Some(("monitoring", "metrics")),
            false,
        );
        assert_eq!(judge(&s, Some(&Snapshot::test())).phase, ItemPhase::Success);
    }

    /// Legitimate states: a selector-less Service whose EndpointSlices are managed by
    /// hand (even with none ready) is not judged; ExternalName Services are not gathered
    /// (see gather/sources/services.rs).
    #[test]
    fn a_selectorless_service_with_manual_endpoints_is_not_judged() {
        let mut now = Snapshot::test().service("shop", "legacy-db", 0);
        if let crate::snapshot::Gathered::Ok(list) = &mut now.services {
            list[0].has_selector = false;
        }
        for baseline in [None, Some(&Snapshot::test())] {
            assert_eq!(judge(&now, baseline).phase, ItemPhase::Success);
        }
    }
}
