//! `node-join`: can a new node still join? Judges the node-join run
//! (`crate::actions::node_join`, recorded in the Snapshot: a kubelet client certificate
//! requested, approved and issued) and the read-only evidence that TLS bootstrap is
//! configured (kube-system's bootstrap tokens, the ClusterRoleBindings of
//! `system:bootstrappers`). Skipped unless it was asked for.
//!
//! Levels, and why:
//!
//! - The certificate path is the proof and is Fatal: a new node's kubelet that cannot get
//!   its client certificate cannot join. The certificate must name
//!   `CN=system:node:<name>, O=system:nodes`, be valid now, name an issuer, allow client
//!   authentication and certify the request's key.
//! - Bootstrap evidence is judged only where the cluster exposes it. None at all is normal
//!   (managed clusters join nodes by other credentials and often hide both), and so are no
//!   usable tokens (kubeadm's expire after a day and one is made for each join) and no
//!   auto-approval (CSRs approved by hand): those pass, said in the message. A usable token
//!   whose groups no binding lets create a CSR is a Warning (a custom role may grant it);
//!   a bootstrapper binding the baseline had and the cluster lost is Fatal (the upgrade
//!   broke the join path).

use chrono::{DateTime, Utc};
use postcheck_model::{Evidence, Level};

use super::synthetic::{action_run, cleanup_note};
use super::{CheckContext, Finding};
use crate::snapshot::{
    BootstrapToken, Gathered, IssuedCertificate, NODE_BOOTSTRAPPER_ROLE,
    NODE_CLIENT_AUTO_APPROVAL_ROLE, NodeJoinOutcome,
};

/// The group every node's client certificate names.
const NODES_GROUP: &str = "system:nodes";

/// `node-join`: the kubelet client certificate was issued and valid; bootstrap, where
/// exposed, lets a bootstrapping node ask for it.
pub(super) fn node_join(ctx: &CheckContext) -> Finding {
    let how = "run with --node-join (or nodeJoin.enabled in the policy)";
    let outcome = match action_run(&ctx.snapshot.node_join, how) {
        Ok(o) => o,
        Err(finding) => return finding,
    };
    let leftovers = cleanup_note(outcome.cleanup_error.as_deref());
    if let Some(why) = &outcome.setup_error {
        return Finding::error(format!("could not run: {why}{leftovers}"));
    }
    let now = ctx.snapshot.now();
    let bootstrap = judge_bootstrap(ctx, now);
    let cert = match issued(outcome, now) {
        Ok(cert) => cert,
        Err(mut evidence) => {
            let first = evidence[0].reason.clone();
            evidence.extend(bootstrap.regressions);
            return Finding::fail(
                format!(
                    "a new node could not get its kubelet client certificate: {first}{leftovers}"
                ),
                evidence,
            );
        }
    };
    let proven = format!(
        "a kubelet client certificate for system:node:{} was requested, approved and issued by {} in {:.1}s (valid until {}); the CSR was deleted",
        outcome.node,
        cert.issuer,
        outcome.elapsed_ms as f64 / 1000.0,
        cert.not_after.format("%Y-%m-%dT%H:%M:%SZ"),
    );
    if !bootstrap.regressions.is_empty() {
        let n = bootstrap.regressions.len();
        return Finding::fail(
            format!(
                "{proven}, but {n} system:bootstrappers binding(s) of the baseline are gone: {}",
                bootstrap.summary
            ),
            bootstrap.regressions,
        );
    }
    if !bootstrap.warnings.is_empty() {
        return Finding {
            level: Some(Level::Warning),
            ..Finding::fail(format!("{proven}; {}", bootstrap.summary), bootstrap.warnings)
        };
    }
    if let Some(c) = &outcome.cleanup_error {
        let evidence = vec![Evidence::cluster("CertificateSigningRequest", &outcome.csr, c)];
        return Finding {
            level: Some(Level::Warning),
            ..Finding::fail(format!("{proven} but not deleted: {c}"), evidence)
        };
    }
    Finding::pass(format!("{proven}; {}", bootstrap.summary))
}

/// The run's certificate when it was issued and is valid; else what is wrong with the
/// path, as evidence on its CSR (never empty).
fn issued(
    outcome: &NodeJoinOutcome,
    now: DateTime<Utc>,
) -> Result<&IssuedCertificate, Vec<Evidence>> {
    let on_csr =
        |reason: String| Evidence::cluster("CertificateSigningRequest", &outcome.csr, reason);
    if let Some(failure) = &outcome.failure {
        return Err(vec![on_csr(failure.clone())]);
    }
    let Some(c) = &outcome.certificate else {
        return Err(vec![on_csr("no certificate was issued and no reason was recorded".into())]);
    };
    let problems = certificate_problems(c, &outcome.node, now);
    if problems.is_empty() { Ok(c) } else { Err(problems.into_iter().map(on_csr).collect()) }
}

/// Why the issued certificate would not let the node `node` in at `now` (empty: it would).
pub(super) fn certificate_problems(
    c: &IssuedCertificate,
    node: &str,
    now: DateTime<Utc>,
) -> Vec<String> {
    let at = |t: DateTime<Utc>| t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    let mut out = Vec::new();
    let cn = format!("system:node:{node}");
    if c.common_names != [cn.clone()] {
        out.push(format!(
            "the issued certificate names CN={} instead of {cn}",
            if c.common_names.is_empty() { "(none)".into() } else { c.common_names.join(",") }
        ));
    }
    if !c.organizations.iter().any(|o| o == NODES_GROUP) {
        out.push(format!(
            "the issued certificate's organizations ({}) do not include {NODES_GROUP}",
            c.organizations.join(", ")
        ));
    }
    if c.issuer.trim().is_empty() {
        out.push("the issued certificate names no issuer".into());
    }
    if now < c.not_before {
        out.push(format!("the issued certificate is not valid before {}", at(c.not_before)));
    }
    if now > c.not_after {
        out.push(format!("the issued certificate expired at {}", at(c.not_after)));
    }
    if !c.client_auth {
        out.push("the issued certificate does not allow client authentication".into());
    }
    if !c.key_matches {
        out.push("the issued certificate certifies another key than the request's".into());
    }
    out
}

/// The bootstrap evidence, judged.
#[derive(Debug, Default)]
pub(super) struct Bootstrap {
    /// For the message.
    pub(super) summary: String,
    /// Worth a look (Warning).
    pub(super) warnings: Vec<Evidence>,
    /// Lost since the baseline (Fatal).
    pub(super) regressions: Vec<Evidence>,
}

/// Judges the bootstrap tokens and bindings where the cluster exposes them.
pub(super) fn judge_bootstrap(ctx: &CheckContext, now: DateTime<Utc>) -> Bootstrap {
    let (tokens, bindings) =
        match (&ctx.snapshot.bootstrap_tokens, &ctx.snapshot.bootstrap_bindings) {
            (Gathered::Ok(t), Gathered::Ok(b)) => (t, b),
            (t, b) => {
                let unread: Vec<String> =
                    [("bootstrap token Secrets", t.state()), ("bindings", b.state())]
                        .into_iter()
                        .filter_map(|(what, s)| match s {
                            Ok(()) => None,
                            Err(None) => Some(format!("the {what} were not gathered")),
                            Err(Some(u)) => {
                                Some(format!("the {what} could not be read ({})", u.reason))
                            }
                        })
                        .collect();
                return Bootstrap {
                    summary: format!("bootstrap not judged: {}", unread.join("; ")),
                    ..Bootstrap::default()
                };
            }
        };
    let mut out = Bootstrap::default();
    if let Some(before) = ctx.baseline.and_then(|b| b.bootstrap_bindings.ok()) {
        for gone in before
            .iter()
            .filter(|b| !bindings.iter().any(|now| now.name == b.name && now.role == b.role))
        {
            out.regressions.push(Evidence::cluster(
                "ClusterRoleBinding",
                &gone.name,
                format!(
                    "granted {} to {} before the upgrade and is gone",
                    gone.role,
                    gone.groups.join(", ")
                ),
            ));
        }
    }
    if tokens.is_empty() && bindings.is_empty() {
        out.summary = "no bootstrap tokens or system:bootstrappers bindings are exposed (the cluster joins nodes by other credentials, as managed ones do): bootstrap not judged".into();
        return out;
    }
    let usable: Vec<&BootstrapToken> = tokens.iter().filter(|t| t.usable_at(now)).collect();
    for t in &usable {
        if !t.groups().any(|g| bindings.iter().any(|b| b.grants(NODE_BOOTSTRAPPER_ROLE, g))) {
            out.warnings.push(Evidence::namespaced(
                "Secret",
                "kube-system",
                format!("bootstrap-token-{}", t.id),
                format!(
                    "a node joining with bootstrap token {} could not create its certificate request: no ClusterRoleBinding grants {NODE_BOOTSTRAPPER_ROLE} to {}",
                    t.id,
                    t.groups().collect::<Vec<_>>().join(" or ")
                ),
            ));
        }
    }
    let names = |role: &str| -> Vec<&str> {
        bindings.iter().filter(|b| b.role == role).map(|b| b.name.as_str()).collect::<Vec<_>>()
    };
    let listed =
        |v: Vec<&str>, none: &str| if v.is_empty() { none.to_owned() } else { v.join(", ") };
    let ids: Vec<&str> = usable.iter().map(|t| t.id.as_str()).collect();
    out.summary = format!(
        "bootstrap: {} usable token(s) of {} ({}), CSR creation granted by {}, auto-approval by {}",
        usable.len(),
        tokens.len(),
        listed(ids, "one is made for each join"),
        listed(names(NODE_BOOTSTRAPPER_ROLE), "no binding"),
        listed(names(NODE_CLIENT_AUTO_APPROVAL_ROLE), "none (approved by hand)"),
    );
    out
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::{ItemPhase, Level};

    use super::*;
    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;
    use crate::testing::fixture_time;

    fn cert() -> IssuedCertificate {
        IssuedCertificate {
            common_names: vec!["system:node:postcheck-node-join-1".into()],
            organizations: vec!["system:nodes".into()],
            issuer: "CN=kubernetes".into(),
            not_before: fixture_time() - Duration::minutes(5),
            not_after: fixture_time() + Duration::minutes(10),
            client_auth: true,
            key_matches: true,
        }
    }

    fn outcome() -> NodeJoinOutcome {
        NodeJoinOutcome {
            csr: "postcheck-node-join-1".into(),
            node: "postcheck-node-join-1".into(),
            certificate: Some(cert()),
            failure: None,
            setup_error: None,
            cleanup_error: None,
            wait_ms: 30_000,
            elapsed_ms: 420,
        }
    }

    fn with(o: NodeJoinOutcome) -> Snapshot {
        Snapshot::test().node_join(o)
    }

    fn judge(s: &Snapshot, baseline: Option<&Snapshot>) -> postcheck_model::CheckItem {
        run("node-join", s, baseline, &target("v1.37"), &Policy::default())
    }

    #[test]
    fn skipped_unless_asked_for_and_only_an_enabled_policy_runs_it() {
        assert_eq!(judge(&Snapshot::test(), None).phase, ItemPhase::Skipped);
        use crate::checks::needs;
        use crate::snapshot::Source;
        assert!(!needs(&Policy::default()).contains(&Source::NodeJoin));
        assert!(!needs(&Policy::default()).contains(&Source::BootstrapTokens));
        let mut p = Policy::default();
        p.node_join.enabled = true;
        let sources = needs(&p);
        for s in [Source::NodeJoin, Source::BootstrapTokens, Source::BootstrapBindings] {
            assert!(sources.contains(&s), "{s:?}");
        }
        assert!(!Source::ALL.contains(&Source::NodeJoin), "a baseline never runs it");
        p.checks.skip = vec!["node-join".into()];
        assert!(!needs(&p).contains(&Source::NodeJoin));
    }

    #[test]
    fn an_issued_valid_certificate_on_a_cluster_exposing_no_bootstrap_passes() {
        let item = judge(&with(outcome()), None);
        assert_eq!(item.phase, ItemPhase::Success, "{item:#?}");
        assert!(item.message.contains("issued by CN=kubernetes"), "{}", item.message);
        assert!(item.message.contains("no bootstrap tokens"), "{}", item.message);
    }

    #[test]
    fn a_certificate_never_issued_fails_fatal_with_the_reason_on_the_csr() {
        let o = NodeJoinOutcome {
            certificate: None,
            failure: Some("no certificate was issued within 10s".into()),
            ..outcome()
        };
        let item = judge(&with(o), None);
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal));
        assert_eq!(named(&item), ["postcheck-node-join-1"]);
        assert_eq!(item.evidence[0].kind, "CertificateSigningRequest");
        assert!(item.message.contains("within 10s"), "{}", item.message);
    }

    #[test]
    fn each_flaw_of_the_certificate_is_named() {
        let now = fixture_time();
        assert!(certificate_problems(&cert(), "postcheck-node-join-1", now).is_empty());
        let flaws = [
            IssuedCertificate { common_names: vec!["system:node:other".into()], ..cert() },
            IssuedCertificate { organizations: vec!["system:masters".into()], ..cert() },
            IssuedCertificate { issuer: String::new(), ..cert() },
            IssuedCertificate { not_before: now + Duration::minutes(1), ..cert() },
            IssuedCertificate { not_after: now - Duration::seconds(1), ..cert() },
            IssuedCertificate { client_auth: false, ..cert() },
            IssuedCertificate { key_matches: false, ..cert() },
        ];
        let words = [
            "instead of",
            "system:nodes",
            "no issuer",
            "not valid before",
            "expired",
            "client",
            "another key",
        ];
        for (c, word) in flaws.iter().zip(words) {
            let problems = certificate_problems(c, "postcheck-node-join-1", now);
            assert_eq!(problems.len(), 1, "{c:?}: {problems:?}");
            assert!(problems[0].contains(word), "{problems:?} should say {word}");
            let item =
                judge(&with(NodeJoinOutcome { certificate: Some(c.clone()), ..outcome() }), None);
            assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal), "{c:?}");
        }
    }

    #[test]
    fn a_setup_error_is_could_not_run_and_a_cleanup_error_a_warning() {
        let forbidden = NodeJoinOutcome {
            setup_error: Some("certificatesigningrequests is forbidden".into()),
            certificate: None,
            ..outcome()
        };
        assert_eq!(judge(&with(forbidden), None).phase, ItemPhase::Error);
        let dirty = NodeJoinOutcome { cleanup_error: Some("HTTP 500".into()), ..outcome() };
        let item = judge(&with(dirty), None);
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning));
    }

    fn kubeadm() -> Snapshot {
        with(outcome())
            .bootstrap_token(
                "abcdef",
                Some(fixture_time() + Duration::hours(20)),
                &["system:bootstrappers:kubeadm:default-node-token"],
            )
            .bootstrap_binding(
                "kubeadm:kubelet-bootstrap",
                NODE_BOOTSTRAPPER_ROLE,
                "system:bootstrappers:kubeadm:default-node-token",
            )
            .bootstrap_binding(
                "kubeadm:node-autoapprove-bootstrap",
                NODE_CLIENT_AUTO_APPROVAL_ROLE,
                "system:bootstrappers:kubeadm:default-node-token",
            )
    }

    #[test]
    fn a_kubeadm_bootstrap_passes_naming_its_token_and_bindings() {
        let item = judge(&kubeadm(), None);
        assert_eq!(item.phase, ItemPhase::Success, "{item:#?}");
        for word in [
            "1 usable token(s) of 1 (abcdef)",
            "kubeadm:kubelet-bootstrap",
            "kubeadm:node-autoapprove-bootstrap",
        ] {
            assert!(item.message.contains(word), "{} should say {word}", item.message);
        }
    }

    #[test]
    fn expired_tokens_and_no_auto_approval_are_normal() {
        let s = with(outcome())
            .bootstrap_token("old001", Some(fixture_time() - Duration::hours(1)), &[])
            .bootstrap_binding(
                "bootstrappers-create",
                NODE_BOOTSTRAPPER_ROLE,
                "system:bootstrappers",
            );
        let item = judge(&s, None);
        assert_eq!(item.phase, ItemPhase::Success, "{item:#?}");
        assert!(item.message.contains("0 usable token(s) of 1"), "{}", item.message);
        assert!(item.message.contains("approved by hand"), "{}", item.message);
        // Bindings without any token (a kubeadm cluster a day later): normal too.
        let s =
            with(outcome()).bootstrap_binding("b", NODE_BOOTSTRAPPER_ROLE, "system:bootstrappers");
        assert_eq!(judge(&s, None).phase, ItemPhase::Success);
    }

    #[test]
    fn a_usable_token_no_binding_lets_create_a_csr_is_a_warning_naming_it() {
        let s = with(outcome()).bootstrap_token("abcdef", None, &[]).bootstrap_binding(
            "other",
            NODE_BOOTSTRAPPER_ROLE,
            "system:bootstrappers:other-group",
        );
        let item = judge(&s, None);
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning), "{item:#?}");
        assert_eq!(named(&item), ["bootstrap-token-abcdef"]);
    }

    #[test]
    fn a_bootstrapper_binding_lost_since_the_baseline_is_fatal() {
        let before = kubeadm();
        let mut after = kubeadm();
        if let Gathered::Ok(b) = &mut after.bootstrap_bindings {
            b.retain(|b| b.name != "kubeadm:node-autoapprove-bootstrap");
        }
        let item = judge(&after, Some(&before));
        assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal), "{item:#?}");
        assert_eq!(named(&item), ["kubeadm:node-autoapprove-bootstrap"]);
        assert_eq!(judge(&before, Some(&before)).phase, ItemPhase::Success);
    }

    #[test]
    fn unreadable_bootstrap_evidence_is_noted_not_failed() {
        use crate::snapshot::Source;
        let s = with(outcome()).unavailable(Source::BootstrapTokens, 403, "secrets is forbidden");
        let item = judge(&s, None);
        assert_eq!(item.phase, ItemPhase::Success, "{item:#?}");
        assert!(
            item.message.contains("could not be read (secrets is forbidden)"),
            "{}",
            item.message
        );
    }
}
