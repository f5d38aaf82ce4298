//! `apiserver-certificate`: the API server's serving certificate (read from a TLS
//! handshake) does not expire within `precheck.certificateDays`; an expired one is Fatal,
//! one expiring soon a Warning (an upgrade is when certificates are usually renewed, and
//! when an expired one stops everything).

use postcheck_model::{Evidence, Level};

use super::super::{CheckContext, Finding};
use crate::snapshot::Gathered;

/// `apiserver-certificate`.
pub(crate) fn apiserver_certificate(ctx: &CheckContext) -> Finding {
    let certs = match &ctx.snapshot.serving_cert {
        Gathered::Ok(certs) => certs,
        Gathered::NotGathered => {
            return Finding::skip("the API server's address was not given to read its certificate");
        }
        Gathered::Unavailable(u) => return Finding::error(format!("could not run: {}", u.reason)),
    };
    let now = ctx.snapshot.now();
    let days = i64::from(ctx.policy.precheck.certificate_days);
    let mut evidence = Vec::new();
    let mut expired = false;
    for c in certs {
        let left = (c.not_after - now).num_days();
        let reason = if c.not_after <= now {
            expired = true;
            format!("expired on {} ({})", c.not_after.format("%Y-%m-%d"), c.subject)
        } else if left < days {
            format!(
                "expires on {}, in {left} day(s), within {days} ({})",
                c.not_after.format("%Y-%m-%d"),
                c.subject
            )
        } else {
            continue;
        };
        evidence.push(Evidence::cluster("Certificate", &c.endpoint, reason));
    }
    if evidence.is_empty() {
        let until = certs.iter().map(|c| c.not_after).min();
        return Finding::pass(match until {
            Some(t) => format!("the serving certificate is valid until {}", t.format("%Y-%m-%d")),
            None => "no certificate read".to_owned(),
        });
    }
    let level = if expired { Level::Fatal } else { Level::Warning };
    Finding {
        level: Some(level),
        ..Finding::fail(
            if expired {
                "the API server's serving certificate has expired".to_owned()
            } else {
                format!("the API server's serving certificate expires within {days} day(s)")
            },
            evidence,
        )
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::ItemPhase;

    use super::*;
    use crate::checks::precheck::testing::run;
    use crate::checks::testing::target;
    use crate::policy::Policy;
    use crate::snapshot::{ServingCertificate, Snapshot};

    fn cert_expiring_in(days: i64) -> Snapshot {
        let mut s = Snapshot::test();
        let now = s.now();
        s.serving_cert = Gathered::Ok(vec![ServingCertificate {
            endpoint: "127.0.0.1:6443".into(),
            subject: "CN=kube-apiserver".into(),
            not_before: now - Duration::days(300),
            not_after: now + Duration::days(days),
        }]);
        s
    }

    #[test]
    fn a_certificate_expiring_soon_warns_an_expired_one_is_fatal_and_a_fresh_one_passes() {
        let p = Policy::default();
        let soon = run("apiserver-certificate", &cert_expiring_in(10), &target("v1.37"), &p);
        assert_eq!((soon.phase, soon.level), (ItemPhase::Failed, Level::Warning));
        assert!(soon.evidence[0].reason.contains("in 10 day(s)"), "{soon:?}");
        let gone = run("apiserver-certificate", &cert_expiring_in(-1), &target("v1.37"), &p);
        assert_eq!(gone.level, Level::Fatal);
        assert_eq!(
            run("apiserver-certificate", &cert_expiring_in(200), &target("v1.37"), &p).phase,
            ItemPhase::Success
        );
        let mut unread = Snapshot::test();
        unread.serving_cert = Gathered::NotGathered;
        assert_eq!(
            run("apiserver-certificate", &unread, &target("v1.37"), &p).phase,
            ItemPhase::Skipped
        );
    }
}
