//! `deprecated-api-clients`: clients that still call deprecated or removed API versions,
//! from the API server's `apiserver_requested_deprecated_apis` metric (since its last
//! start). Fatal when the version is removed at or before the target (those clients break
//! with the upgrade); a Warning when it is only deprecated. Each API is named in CCE's
//! `deprecatedAPIRisks{url, userAgent}` (the metric does not say who called; the user agent
//! stays empty).

use postcheck_model::{Evidence, Level, Version};

use super::super::{CheckContext, Finding};

/// Evidence kind of an API path (CCE names the risk by its URL).
pub(crate) const API_KIND: &str = "APIResource";

/// `deprecated-api-clients`.
pub(crate) fn deprecated_api_clients(ctx: &CheckContext) -> Finding {
    let target = ctx.spec.target.as_ref();
    let mut evidence = Vec::new();
    let mut removed = 0;
    for call in ctx.snapshot.deprecated_api_calls() {
        let removal = call.removed_release.as_deref().and_then(|r| Version::parse(r).ok());
        let gone = match (&removal, target) {
            (Some(r), Some(t)) => r.minor_pair() <= t.minor_pair(),
            _ => false,
        };
        let reason = match (&removal, gone) {
            (Some(r), true) => {
                removed += 1;
                format!(
                    "still called; removed in {r}, at or before the target: these clients break with the upgrade"
                )
            }
            (Some(r), false) => format!("still called; deprecated, removed in {r}"),
            (None, _) => "still called; deprecated (no removal planned yet)".to_owned(),
        };
        evidence.push(Evidence::cluster(API_KIND, call.url(), reason));
    }
    if evidence.is_empty() {
        return Finding::pass("no client called a deprecated API since the API server started");
    }
    let n = evidence.len();
    let level = if removed > 0 { Level::Fatal } else { Level::Warning };
    Finding {
        level: Some(level),
        ..Finding::fail(
            format!("{n} deprecated API(s) still called, {removed} removed at the target"),
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use super::*;
    use crate::checks::precheck::testing::run;
    use crate::checks::testing::target;
    use crate::policy::Policy;
    use crate::snapshot::{DeprecatedApiCall, Gathered, Snapshot};

    fn calls(removed: Option<&str>) -> Snapshot {
        let mut s = Snapshot::test().version("v1.36.3");
        s.deprecated_apis = Gathered::Ok(vec![DeprecatedApiCall {
            group: "faults.postcheck.dev".into(),
            version: "v1beta1".into(),
            resource: "widgets".into(),
            subresource: String::new(),
            removed_release: removed.map(Into::into),
        }]);
        s
    }

    #[test]
    fn a_deprecated_api_still_called_is_a_warning_and_one_removed_at_the_target_fatal() {
        let deprecated =
            run("deprecated-api-clients", &calls(None), &target("v1.37"), &Policy::default());
        assert_eq!((deprecated.phase, deprecated.level), (ItemPhase::Failed, Level::Warning));
        assert_eq!(deprecated.evidence[0].name, "/apis/faults.postcheck.dev/v1beta1/widgets");
        let removed = run(
            "deprecated-api-clients",
            &calls(Some("1.37")),
            &target("v1.37"),
            &Policy::default(),
        );
        assert_eq!(removed.level, Level::Fatal);
        let later = run(
            "deprecated-api-clients",
            &calls(Some("1.39")),
            &target("v1.37"),
            &Policy::default(),
        );
        assert_eq!(later.level, Level::Warning);
        let none =
            run("deprecated-api-clients", &Snapshot::test(), &target("v1.37"), &Policy::default());
        assert_eq!(none.phase, ItemPhase::Success);
    }
}
