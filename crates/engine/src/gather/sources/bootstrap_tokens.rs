//! kube-system's bootstrap token Secrets (type `bootstrap.kubernetes.io/token`), listed with a
//! field selector on the type (no other Secret is read), each compacted to its public facts:
//! id, expiration, usages and extra groups. The token's secret half (`token-secret`) is
//! not part of the view, so it is never decoded, kept, logged or shown.

use base64::Engine as _;
use chrono::{DateTime, Utc};
use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use serde::Deserialize;

use super::super::Pass;
use super::super::api::Meta;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{BootstrapToken, Source};

/// The Secret type of bootstrap tokens, and the field selector that lists only them.
const TOKEN_TYPE_SELECTOR: &str = "type=bootstrap.kubernetes.io/token";
/// The name prefix the token authenticator requires.
const NAME_PREFIX: &str = "bootstrap-token-";

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<BootstrapToken>, kube::Error> {
    let list = ListRequest::namespaced::<Secret>("kube-system")
        .params(ListParams::default().fields(TOKEN_TYPE_SELECTOR));
    list_all(pass, list, Source::BootstrapTokens, token).await
}

/// A bootstrap token Secret as far as its public facts: no field for `token-secret`.
#[derive(Debug, Deserialize)]
struct View {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    data: Data,
}

/// The public keys of a bootstrap token's data (base64, as the API sends Secret data).
#[derive(Debug, Default, Deserialize)]
struct Data {
    #[serde(default, rename = "token-id")]
    token_id: Option<String>,
    #[serde(default)]
    expiration: Option<String>,
    #[serde(default, rename = "usage-bootstrap-authentication")]
    authentication: Option<String>,
    #[serde(default, rename = "usage-bootstrap-signing")]
    signing: Option<String>,
    #[serde(default, rename = "auth-extra-groups")]
    extra_groups: Option<String>,
}

fn decoded(value: Option<&str>) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD.decode(value?.trim()).ok()?;
    String::from_utf8(bytes).ok().map(|s| s.trim().to_owned())
}

fn token(s: View) -> Option<BootstrapToken> {
    let d = s.data;
    let id = decoded(d.token_id.as_deref())
        .filter(|id| !id.is_empty())
        .or_else(|| s.metadata.name.strip_prefix(NAME_PREFIX).map(str::to_owned))
        .unwrap_or(s.metadata.name);
    let expiration_text = decoded(d.expiration.as_deref()).filter(|e| !e.is_empty());
    let expiration = expiration_text
        .as_deref()
        .and_then(|e| DateTime::parse_from_rfc3339(e).ok())
        .map(|e| e.with_timezone(&Utc));
    let usages = [("authentication", &d.authentication), ("signing", &d.signing)]
        .into_iter()
        .filter(|(_, v)| decoded(v.as_deref()).as_deref() == Some("true"))
        .map(|(u, _)| u.to_owned())
        .collect();
    let extra_groups = decoded(d.extra_groups.as_deref())
        .map(|g| {
            g.split(',').map(str::trim).filter(|g| !g.is_empty()).map(str::to_owned).collect()
        })
        .unwrap_or_default();
    Some(BootstrapToken {
        id,
        expiration_unreadable: expiration_text.is_some() && expiration.is_none(),
        expiration,
        usages,
        extra_groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b64(s: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(s)
    }

    #[test]
    fn keeps_the_public_facts_and_never_the_secret() {
        let raw = serde_json::json!({
            "metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
            "type": "bootstrap.kubernetes.io/token",
            "data": {
                "token-id": b64("abcdef"),
                "token-secret": b64("0123456789abcdef"),
                "expiration": b64("2026-12-01T00:00:00Z"),
                "usage-bootstrap-authentication": b64("true"),
                "usage-bootstrap-signing": b64("true"),
                "auth-extra-groups": b64("system:bootstrappers:kubeadm:default-node-token")
            }
        });
        let t = token(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!(t.id, "abcdef");
        assert_eq!(t.expiration.unwrap().to_rfc3339(), "2026-12-01T00:00:00+00:00");
        assert_eq!(t.usages, ["authentication", "signing"]);
        assert_eq!(t.extra_groups, ["system:bootstrappers:kubeadm:default-node-token"]);
        let kept = serde_json::to_string(&t).unwrap();
        assert!(!kept.contains("0123456789abcdef") && !kept.contains(&b64("0123456789abcdef")));
        assert!(!format!("{t:?}").contains("0123456789abcdef"));
    }

    #[test]
    fn a_token_without_data_keys_is_named_by_its_secret_and_unusable() {
        let raw = serde_json::json!({
            "metadata": {"name": "bootstrap-token-07401b"},
            "data": {"expiration": b64("next tuesday")}
        });
        let t = token(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!(t.id, "07401b");
        assert!(t.expiration_unreadable && t.usages.is_empty());
        assert!(!t.usable_at(chrono::Utc::now()));
    }
}
