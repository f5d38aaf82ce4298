//! `events`: Warning events since the check window began, grouped by object and reason.
//!
//! The window begins when the baseline was taken (before the upgrade) or, without one, it
//! is whatever the API server still keeps (an hour by default). Events are hints, never
//! proof: the item is a Warning when some reason usually means damage (`BackOff`,
//! `FailedScheduling`, `FailedMount`...), Info otherwise, and never Fatal.

use std::collections::BTreeMap;

use postcheck_model::{Evidence, Level};

use super::{CheckContext, Finding};

/// Reasons that usually mean something is broken, not merely noisy.
const SERIOUS: [&str; 12] = [
    "BackOff",
    "Failed",
    "FailedScheduling",
    "FailedMount",
    "FailedAttachVolume",
    "FailedCreate",
    "FailedCreatePodSandBox",
    "Unhealthy",
    "Evicted",
    "OOMKilling",
    "NodeNotReady",
    "FailedSync",
];
/// Groups listed in the evidence at most; the message counts them all.
const MAX_GROUPS: usize = 100;

/// `events`: the Warning events of the window, grouped.
pub(super) fn events(ctx: &CheckContext) -> Finding {
    let since = ctx.baseline.map(|b| b.taken_at);
    let mut groups: BTreeMap<(&str, &str, &str, &str), (i64, &str)> = BTreeMap::new();
    for e in ctx.snapshot.event_list() {
        if ctx.policy.excludes_object(&e.namespace, &e.name)
            || since.is_some_and(|s| e.last_seen.is_some_and(|l| l < s))
        {
            continue;
        }
        let entry = groups
            .entry((e.namespace.as_str(), e.kind.as_str(), e.name.as_str(), e.reason.as_str()))
            .or_insert((0, ""));
        entry.0 += i64::from(e.count.max(1));
        entry.1 = &e.message;
    }
    let window = since
        .map(|s| format!(" since the baseline ({})", s.format("%Y-%m-%d %H:%M:%SZ")))
        .unwrap_or_default();
    if groups.is_empty() {
        return Finding::pass(format!("no Warning event{window}"));
    }
    let serious = groups.keys().any(|(_, _, _, reason)| SERIOUS.contains(reason));
    let mut ranked: Vec<_> = groups.into_iter().collect();
    ranked.sort_by(|a, b| b.1.0.cmp(&a.1.0).then(a.0.cmp(&b.0)));
    let total = ranked.len();
    let evidence = ranked
        .into_iter()
        .take(MAX_GROUPS)
        .map(|((ns, kind, name, reason), (count, message))| {
            let text = format!("{reason} ×{count}: {message}");
            if ns.is_empty() {
                Evidence::cluster(kind, name, text)
            } else {
                Evidence::namespaced(kind, ns, name, text)
            }
        })
        .collect();
    let level = if serious { Level::Warning } else { Level::Info };
    Finding {
        level: Some(level),
        ..Finding::fail(format!("{total} object(s) had Warning events{window}"), evidence)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::{ItemPhase, Level};

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;
    use crate::testing::fixture_time;

    #[test]
    fn no_warning_event_passes() {
        assert_eq!(
            run("events", &Snapshot::test(), None, &target("v1.37"), &Policy::default()).phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn events_are_grouped_by_object_and_reason_and_never_fatal() {
        let now = Snapshot::test()
            .event("shop", "Pod", "payments-1", "BackOff", 5, Duration::minutes(1))
            .event("shop", "Pod", "payments-1", "BackOff", 7, Duration::minutes(2))
            .event("shop", "Pod", "web-1", "DNSConfigForming", 1, Duration::minutes(1));
        let item = run("events", &now, None, &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
        assert_eq!(named(&item), ["payments-1", "web-1"]);
        assert!(item.evidence[0].reason.starts_with("BackOff ×12"), "{item:?}");
    }

    #[test]
    fn only_benign_reasons_are_info_and_events_before_the_baseline_are_ignored() {
        let before = Snapshot::test();
        let mut baseline = before.clone();
        baseline.taken_at = fixture_time() - Duration::minutes(30);
        let now = Snapshot::test()
            .event("shop", "Pod", "old", "BackOff", 3, Duration::hours(2))
            .event("shop", "Pod", "web-1", "DNSConfigForming", 1, Duration::minutes(1));
        let item = run("events", &now, Some(&baseline), &target("v1.37"), &Policy::default());
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Info));
        assert_eq!(named(&item), ["web-1"]);
        assert!(item.message.contains("since the baseline"), "{}", item.message);
    }
}
