//! `pvc-bound`: every PersistentVolumeClaim is Bound.
//!
//! A claim Pending on a `volumeBindingMode: WaitForFirstConsumer` StorageClass waits, by
//! design, for a pod that uses it: not a failure (a consumer that cannot start is
//! pod-health's). Against the baseline, a claim that was not Bound before either is a Warning; a claim
//! Bound before (or new since) that is not Bound now is Fatal.

use postcheck_model::Evidence;

use super::grading::{Graded, already};
use super::{CheckContext, Finding};

/// `pvc-bound`: no claim Pending or Lost.
pub(super) fn pvc_bound(ctx: &CheckContext) -> Finding {
    let baseline = ctx.baseline.filter(|b| b.claims.ok().is_some());
    let mut graded = Graded::default();
    let mut judged = 0;
    let mut waiting = 0;
    for c in ctx.snapshot.claim_list() {
        if ctx.policy.excludes_object(&c.namespace, &c.name) {
            continue;
        }
        judged += 1;
        if c.phase == "Bound" {
            continue;
        }
        if c.phase == "Pending" && ctx.snapshot.waits_for_first_consumer(c) {
            waiting += 1;
            continue;
        }
        let before = baseline.and_then(|b| {
            b.claim_list().iter().find(|o| o.namespace == c.namespace && o.name == c.name)
        });
        let (fatal, reason) = match before {
            Some(b) if b.phase == "Bound" => (true, format!("{} (Bound in the baseline)", c.phase)),
            Some(b) => (false, format!("{} (already {} in the baseline)", c.phase, b.phase)),
            None => (true, c.phase.clone()),
        };
        graded.push(
            fatal,
            Evidence::namespaced("PersistentVolumeClaim", &c.namespace, &c.name, reason),
        );
    }
    let bound = judged - waiting;
    let waiting = if waiting > 0 {
        format!("; {waiting} Pending for a first consumer (WaitForFirstConsumer), as designed")
    } else {
        String::new()
    };
    graded.finding(format!("{bound} PersistentVolumeClaim(s) Bound{waiting}"), |f, w| {
        format!("{} PersistentVolumeClaim(s) not Bound{}{waiting}", f + w, already(w))
    })
}

#[cfg(test)]
mod tests {
    use postcheck_model::{ItemPhase, Level};

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;

    #[test]
    fn bound_claims_pass_and_a_pending_one_is_fatal() {
        let ok = Snapshot::test().claim("db", "data-pg-0", "Bound");
        assert_eq!(
            run("pvc-bound", &ok, None, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Success
        );
        let now = ok.clone().claim("shop", "unbound-claim", "Pending");
        let item = run("pvc-bound", &now, Some(&ok), &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["unbound-claim"]);
    }

    #[test]
    fn a_claim_lost_since_the_baseline_is_fatal_one_pending_before_is_a_warning() {
        let before = Snapshot::test().claim("db", "data", "Bound").claim("shop", "old", "Pending");
        let now = Snapshot::test().claim("db", "data", "Lost").claim("shop", "old", "Pending");
        let item = run("pvc-bound", &now, Some(&before), &target("v1.37"), &Policy::default());
        assert_eq!(item.level, Level::Fatal);
        assert_eq!(item.evidence[0].reason, "Lost (Bound in the baseline)");
        assert_eq!(item.evidence[1].reason, "Pending (already Pending in the baseline)");
        let only_old = Snapshot::test().claim("shop", "old", "Pending");
        assert_eq!(
            run("pvc-bound", &only_old, Some(&before), &target("v1.37"), &Policy::default()).level,
            Level::Warning
        );
    }

    /// A legitimate state: a claim of a WaitForFirstConsumer class that no pod uses yet.
    #[test]
    fn a_claim_waiting_for_its_first_consumer_passes_with_or_without_a_baseline() {
        let now = Snapshot::test()
            .storage_class("local-wffc", true)
            .storage_class("standard", false)
            .claim_of_class("shop", "scratch", "Pending", "local-wffc");
        for baseline in [None, Some(&Snapshot::test())] {
            let item = run("pvc-bound", &now, baseline, &target("v1.37"), &Policy::default());
            assert_eq!(item.phase, ItemPhase::Success, "{}", item.message);
            assert!(item.message.contains("first consumer"), "{}", item.message);
        }
        // An Immediate class's Pending claim is still a failure.
        let stuck = now.claim_of_class("shop", "data", "Pending", "standard");
        let item = run("pvc-bound", &stuck, None, &target("v1.37"), &Policy::default());
        assert_eq!(named(&item), ["data"]);
    }
}
