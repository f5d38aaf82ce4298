//! `upgrade-path`: the target is a valid next step from the version the cluster is on.
//!
//! Upstream, the control plane goes one minor at a time (a patch upgrade within the minor
//! is always fine). CCE supports its own table of jumps (`shared/cce-reference.md` §4),
//! chosen with `precheck.upgradePath: cce`; past the table's last entry it goes one minor
//! at a time too.

use postcheck_model::{Evidence, Version};

use super::super::{CheckContext, Finding};
use crate::policy::UpgradePathRule;

/// CCE's supported minor jumps (2026): from each minor, the minors it may go to.
const CCE_JUMPS: &[(u32, &[u32])] = &[
    (15, &[19]),
    (17, &[19]),
    (19, &[21, 23]),
    (21, &[23]),
    (23, &[25, 27]),
    (25, &[27]),
    (27, &[28]),
    (28, &[29, 31]),
    (29, &[30, 31]),
    (30, &[31]),
    (31, &[32]),
    (32, &[33]),
];

/// The minors `rule` allows an upgrade from `minor` to go to (besides staying on it).
pub(crate) fn allowed_minors(rule: UpgradePathRule, minor: u32) -> Vec<u32> {
    match rule {
        UpgradePathRule::Upstream => vec![minor + 1],
        UpgradePathRule::Cce => CCE_JUMPS
            .iter()
            .find(|(from, _)| *from == minor)
            .map_or_else(|| vec![minor + 1], |(_, to)| to.to_vec()),
    }
}

/// `upgrade-path`: the cluster is on the version the spec says, and the target is a step
/// the rule allows from it.
pub(crate) fn upgrade_path(ctx: &CheckContext) -> Finding {
    let Some(target) = &ctx.spec.target else {
        return Finding::error("no target version was given");
    };
    let server = ctx.snapshot.server_version.ok().and_then(|v| Version::parse(v).ok());
    let Some(now) = server.or_else(|| ctx.spec.source.clone()) else {
        return Finding::error("the API server's version could not be read");
    };
    let cluster = |reason: String| vec![Evidence::cluster("Cluster", "kube-apiserver", reason)];
    if let Some(source) = &ctx.spec.source
        && !now.still_on(source)
    {
        return Finding::fail(
            format!("the cluster is on {now}, not on the clusterVersion {source}"),
            cluster(format!("the API server reports {now}; the request says {source}")),
        );
    }
    let rule = ctx.policy.precheck.upgrade_path;
    let rule_name = match rule {
        UpgradePathRule::Upstream => "upstream: one minor at a time",
        UpgradePathRule::Cce => "CCE's supported upgrade paths",
    };
    if target.major != now.major {
        return Finding::fail(
            format!("{now} -> {target} changes the major version"),
            cluster(format!("no upgrade path from {now} to {target}")),
        );
    }
    if target.cmp_kubernetes(&now).is_lt() {
        return Finding::fail(
            format!("the target {target} is older than the cluster's {now}"),
            cluster(format!(
                "downgrade from {now} to {target}: Kubernetes does not support downgrades"
            )),
        );
    }
    if target.minor == now.minor {
        return Finding::pass(format!("{now} -> {target} stays on the minor (a patch upgrade)"));
    }
    let allowed = allowed_minors(rule, now.minor);
    if allowed.contains(&target.minor) {
        return Finding::pass(format!("{now} -> {target} is a supported step ({rule_name})"));
    }
    let next: Vec<String> = allowed.iter().map(|m| format!("v{}.{m}", now.major)).collect();
    Finding::fail(
        format!(
            "{now} -> {target} is not a supported step ({rule_name}); next: {}",
            next.join(" or ")
        ),
        cluster(format!(
            "no upgrade path from {now} to {target} ({rule_name}); upgrade to {} first",
            next.join(" or ")
        )),
    )
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use super::*;
    use crate::checks::precheck::testing::run;
    use crate::policy::Policy;
    use crate::request::CheckSpec;
    use crate::snapshot::Snapshot;

    fn spec(source: Option<&str>, target: &str) -> CheckSpec {
        CheckSpec {
            source: source.map(|s| s.parse().unwrap()),
            target: Some(target.parse().unwrap()),
        }
    }

    #[test]
    fn one_minor_at_a_time_passes_upstream_and_two_fail() {
        let at_36 = Snapshot::test().version("v1.36.3");
        let policy = Policy::default();
        assert_eq!(
            run("upgrade-path", &at_36, &spec(Some("v1.36"), "v1.37"), &policy).phase,
            ItemPhase::Success
        );
        assert_eq!(
            run("upgrade-path", &at_36, &spec(None, "v1.36.4"), &policy).phase,
            ItemPhase::Success
        );
        let two = run("upgrade-path", &at_36, &spec(None, "v1.38"), &policy);
        assert_eq!(two.phase, ItemPhase::Failed);
        assert!(two.evidence[0].reason.contains("upgrade to v1.37 first"), "{two:?}");
        let down = run("upgrade-path", &at_36, &spec(None, "v1.35"), &policy);
        assert!(down.message.contains("older"), "{down:?}");
    }

    #[test]
    fn cces_table_allows_its_jumps_and_refuses_the_others() {
        let mut policy = Policy::default();
        policy.precheck.upgrade_path = UpgradePathRule::Cce;
        let at_23 = Snapshot::test().version("v1.23.17-r0");
        assert_eq!(
            run("upgrade-path", &at_23, &spec(None, "v1.27"), &policy).phase,
            ItemPhase::Success
        );
        assert_eq!(
            run("upgrade-path", &at_23, &spec(None, "v1.24"), &policy).phase,
            ItemPhase::Failed
        );
        // Past the table: one minor at a time.
        let at_36 = Snapshot::test().version("v1.36.3");
        assert_eq!(
            run("upgrade-path", &at_36, &spec(None, "v1.37"), &policy).phase,
            ItemPhase::Success
        );
    }

    #[test]
    fn a_cluster_not_on_the_stated_version_fails() {
        let at_36 = Snapshot::test().version("v1.36.3");
        let item = run("upgrade-path", &at_36, &spec(Some("v1.35"), "v1.36"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert!(item.message.contains("not on the clusterVersion v1.35"), "{item:?}");
    }
}
