//! A tenant's kubeconfig made safe for the service: data, never instructions to the host.
//!
//! kubectl's kubeconfig can run commands (`exec`, `auth-provider`), read the host's files
//! (`tokenFile`, `certificate-authority`, `client-certificate`, `client-key`) and route
//! traffic through a proxy (`proxy-url`). On a laptop that is the user's own business; in
//! a service run for many tenants it would let a tenant run commands as the service, read
//! its files and send them wherever it likes. So the service keeps only what it
//! recognises, inline, from the one context chosen, and refuses everything else with the
//! field named. [`sanitize`] runs at registration (API and `postcheck cluster add`) and
//! again every time a client is built from stored credentials, so a row written by any
//! other means is refused too.
//!
//! An operator who trusts every tenant may let exec plugins through
//! ([`KubeconfigPolicy::allow_exec`], `serve --dangerously-allow-exec-plugins`).

use serde_json::{Map, Value};

/// What the service accepts beyond the inline fields.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct KubeconfigPolicy {
    /// Keep `users[].user.exec`: the service then runs the tenant's command. Dangerous.
    pub allow_exec: bool,
}

/// Why a kubeconfig was refused. The text names the field and is safe to show the tenant.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KubeconfigRefusal {
    /// Not a YAML or JSON document of the expected shape.
    #[error("kubeconfig is not a readable kubeconfig: {0}")]
    Unreadable(String),
    /// The context to use is not there.
    #[error("kubeconfig has no context {0:?}")]
    NoContext(String),
    /// No context was given and the kubeconfig has no current-context.
    #[error("kubeconfig has no current-context; give context")]
    NoCurrentContext,
    /// A cluster or user the context names is not there.
    #[error("kubeconfig has no {kind} {name:?} (named by the context)")]
    Missing {
        /// `cluster` or `user`.
        kind: &'static str,
        /// The name the context gives.
        name: String,
    },
    /// A field the service refuses.
    #[error("kubeconfig field {field} is not accepted by the service: {why}")]
    Refused {
        /// Where it is, such as `users[0].user.exec`.
        field: String,
        /// Why, and what to give instead.
        why: &'static str,
    },
}

/// A kubeconfig reduced to one context, its cluster and its user, every credential inline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SafeKubeconfig {
    /// The sanitized document (JSON, which any kubeconfig reader reads as YAML).
    pub document: String,
    /// The chosen context.
    pub context: String,
    /// The API server's URL, as given (the endpoint policy checks it separately).
    pub server: String,
}

const EXEC_WHY: &str = "exec plugins run a command on the service's host; give an inline token or client-certificate-data and client-key-data";
const AUTH_PROVIDER_WHY: &str =
    "auth-provider plugins run on the service's host; give an inline token";
const FILE_WHY: &str = "file paths name the service's own files; give the inline *-data field";
const TOKEN_FILE_WHY: &str = "tokenFile names a file of the service's host; give token inline";
const PROXY_WHY: &str = "the service connects to the API server itself, never through a proxy";
const UNKNOWN_WHY: &str = "the service does not recognise it";
const NOT_STRING_WHY: &str = "it must be a string";
const NOT_BOOL_WHY: &str = "it must be true or false";

/// Fields of `clusters[].cluster` kept, and how each is typed.
const CLUSTER_FIELDS: &[(&str, Kind)] = &[
    ("server", Kind::Text),
    ("certificate-authority-data", Kind::Text),
    ("insecure-skip-tls-verify", Kind::Bool),
    ("tls-server-name", Kind::Text),
    ("disable-compression", Kind::Bool),
    ("extensions", Kind::Dropped),
];

/// Fields of `users[].user` kept.
const USER_FIELDS: &[(&str, Kind)] = &[
    ("token", Kind::Text),
    ("client-certificate-data", Kind::Text),
    ("client-key-data", Kind::Text),
    ("username", Kind::Text),
    ("password", Kind::Text),
    ("extensions", Kind::Dropped),
];

/// Fields of `contexts[].context` kept.
const CONTEXT_FIELDS: &[(&str, Kind)] = &[
    ("cluster", Kind::Text),
    ("user", Kind::Text),
    ("namespace", Kind::Text),
    ("extensions", Kind::Dropped),
];

/// Top-level fields read; everything but the three lists and the context is dropped.
const TOP_FIELDS: &[&str] = &[
    "apiVersion",
    "kind",
    "clusters",
    "contexts",
    "users",
    "current-context",
    "preferences",
    "extensions",
];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Text,
    Bool,
    Dropped,
}

/// Reduces `text` to the chosen `context` (its current context when `None`), refusing
/// anything that would make the service run a command, read a file or use a proxy, and
/// anything it does not recognise.
pub fn sanitize(
    text: &str,
    context: Option<&str>,
    policy: KubeconfigPolicy,
) -> Result<SafeKubeconfig, KubeconfigRefusal> {
    let unreadable = |e: String| KubeconfigRefusal::Unreadable(e);
    let doc: Value = serde_yaml_ng::from_str(text).map_err(|e| unreadable(e.to_string()))?;
    let top = doc.as_object().ok_or_else(|| unreadable("it is not a mapping".into()))?;
    for key in top.keys() {
        if !TOP_FIELDS.contains(&key.as_str()) {
            return Err(refused(key.clone(), UNKNOWN_WHY));
        }
    }
    let chosen = match context {
        Some(c) => c.to_owned(),
        None => top
            .get("current-context")
            .and_then(Value::as_str)
            .filter(|c| !c.is_empty())
            .ok_or(KubeconfigRefusal::NoCurrentContext)?
            .to_owned(),
    };
    let (ci, context_entry) = named(top, "contexts", "context", &chosen)?
        .ok_or_else(|| KubeconfigRefusal::NoContext(chosen.clone()))?;
    let context_body = keep(context_entry, &format!("contexts[{ci}].context"), CONTEXT_FIELDS)?;
    let cluster_name = context_body.get("cluster").and_then(Value::as_str).unwrap_or("").to_owned();
    let user_name = context_body.get("user").and_then(Value::as_str).unwrap_or("").to_owned();
    let (li, cluster_entry) = named(top, "clusters", "cluster", &cluster_name)?
        .ok_or(KubeconfigRefusal::Missing { kind: "cluster", name: cluster_name.clone() })?;
    let cluster_body = cluster(cluster_entry, &format!("clusters[{li}].cluster"))?;
    let server = cluster_body
        .get("server")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| refused(format!("clusters[{li}].cluster.server"), "it is required"))?
        .to_owned();
    let user_body = if user_name.is_empty() {
        Map::new()
    } else {
        let (ui, user_entry) = named(top, "users", "user", &user_name)?
            .ok_or(KubeconfigRefusal::Missing { kind: "user", name: user_name.clone() })?;
        user(user_entry, &format!("users[{ui}].user"), policy)?
    };
    let safe = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Config",
        "current-context": chosen,
        "contexts": [{"name": chosen, "context": context_body}],
        "clusters": [{"name": cluster_name, "cluster": cluster_body}],
        "users": [{"name": user_name, "user": user_body}],
    });
    Ok(SafeKubeconfig { document: safe.to_string(), context: chosen, server })
}

fn refused(field: String, why: &'static str) -> KubeconfigRefusal {
    KubeconfigRefusal::Refused { field, why }
}

/// An entry of a list found by name: its index and its body's mapping.
type Found<'a> = Option<(usize, &'a Map<String, Value>)>;

/// The entry of `list` (`contexts`, `clusters`, `users`) called `name`: its index and its
/// `body` key's mapping.
fn named<'a>(
    top: &'a Map<String, Value>,
    list: &str,
    body: &str,
    name: &str,
) -> Result<Found<'a>, KubeconfigRefusal> {
    let Some(entries) = top.get(list) else { return Ok(None) };
    let entries = entries.as_array().ok_or_else(|| refused(list.into(), "it must be a list"))?;
    for (i, entry) in entries.iter().enumerate() {
        if entry.get("name").and_then(Value::as_str) != Some(name) {
            continue;
        }
        let entry = entry
            .as_object()
            .ok_or_else(|| refused(format!("{list}[{i}]"), "it must be a mapping"))?;
        for key in entry.keys() {
            if key != "name" && key != body {
                return Err(refused(format!("{list}[{i}].{key}"), UNKNOWN_WHY));
            }
        }
        return match entry.get(body) {
            None | Some(Value::Null) => Ok(Some((i, empty()))),
            Some(Value::Object(m)) => Ok(Some((i, m))),
            Some(_) => Err(refused(format!("{list}[{i}].{body}"), "it must be a mapping")),
        };
    }
    Ok(None)
}

fn empty() -> &'static Map<String, Value> {
    static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(Map::new)
}

/// The fields of `body` listed in `allowed`, type-checked; any other field is refused.
fn keep(
    body: &Map<String, Value>,
    at: &str,
    allowed: &[(&str, Kind)],
) -> Result<Map<String, Value>, KubeconfigRefusal> {
    let mut out = Map::new();
    for (key, value) in body {
        let field = || format!("{at}.{key}");
        let Some((_, kind)) = allowed.iter().find(|(k, _)| k == key) else {
            return Err(refused(field(), UNKNOWN_WHY));
        };
        match (kind, value) {
            (_, Value::Null) | (Kind::Dropped, _) => {}
            (Kind::Text, Value::String(_)) | (Kind::Bool, Value::Bool(_)) => {
                out.insert(key.clone(), value.clone());
            }
            (Kind::Text, _) => return Err(refused(field(), NOT_STRING_WHY)),
            (Kind::Bool, _) => return Err(refused(field(), NOT_BOOL_WHY)),
        }
    }
    Ok(out)
}

fn cluster(body: &Map<String, Value>, at: &str) -> Result<Map<String, Value>, KubeconfigRefusal> {
    for (key, why) in [("certificate-authority", FILE_WHY), ("proxy-url", PROXY_WHY)] {
        if body.contains_key(key) {
            return Err(refused(format!("{at}.{key}"), why));
        }
    }
    keep(body, at, CLUSTER_FIELDS)
}

fn user(
    body: &Map<String, Value>,
    at: &str,
    policy: KubeconfigPolicy,
) -> Result<Map<String, Value>, KubeconfigRefusal> {
    let mut rest = body.clone();
    let exec = rest.remove("exec");
    for (key, why) in [
        ("auth-provider", AUTH_PROVIDER_WHY),
        ("tokenFile", TOKEN_FILE_WHY),
        ("client-certificate", FILE_WHY),
        ("client-key", FILE_WHY),
    ] {
        if rest.contains_key(key) {
            return Err(refused(format!("{at}.{key}"), why));
        }
    }
    let mut out = keep(&rest, at, USER_FIELDS)?;
    match exec {
        None | Some(Value::Null) => {}
        Some(_) if !policy.allow_exec => return Err(refused(format!("{at}.exec"), EXEC_WHY)),
        Some(exec) => {
            out.insert("exec".into(), exec);
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(user: &str, cluster_extra: &str) -> String {
        format!(
            "apiVersion: v1\nkind: Config\ncurrent-context: one\nclusters:\n- name: c1\n  cluster:\n    server: https://10.0.0.1:6443\n    certificate-authority-data: Q0E=\n{cluster_extra}- name: c2\n  cluster:\n    server: https://10.0.0.2:6443\n    proxy-url: http://evil\ncontexts:\n- name: one\n  context: {{cluster: c1, user: u}}\n- name: two\n  context: {{cluster: c2, user: other}}\nusers:\n- name: u\n  user:\n{user}- name: other\n  user:\n    exec: {{command: /bin/sh}}\n"
        )
    }

    fn refusal(text: &str) -> String {
        match sanitize(text, None, KubeconfigPolicy::default()) {
            Err(KubeconfigRefusal::Refused { field, .. }) => field,
            other => panic!("not refused: {other:?}"),
        }
    }

    #[test]
    fn keeps_only_the_chosen_context_with_inline_credentials() {
        let safe =
            sanitize(&config("    token: t\n", ""), None, KubeconfigPolicy::default()).unwrap();
        assert_eq!(safe.server, "https://10.0.0.1:6443");
        assert_eq!(safe.context, "one");
        assert!(
            !safe.document.contains("c2") && !safe.document.contains("exec"),
            "{}",
            safe.document
        );
        assert!(!safe.document.contains("evil"), "{}", safe.document);
        let parsed = kube::config::Kubeconfig::from_yaml(&safe.document).unwrap();
        assert_eq!(parsed.contexts.len(), 1);
        assert!(parsed.auth_infos[0].auth_info.as_ref().unwrap().token.is_some());
    }

    #[test]
    fn refuses_each_hostile_field_by_name() {
        assert_eq!(refusal(&config("    exec: {command: /bin/sh}\n", "")), "users[0].user.exec");
        assert_eq!(
            refusal(&config("    auth-provider: {name: gcp}\n", "")),
            "users[0].user.auth-provider"
        );
        assert_eq!(refusal(&config("    tokenFile: /etc/shadow\n", "")), "users[0].user.tokenFile");
        assert_eq!(
            refusal(&config("    client-certificate: /etc/c\n", "")),
            "users[0].user.client-certificate"
        );
        assert_eq!(refusal(&config("    client-key: /etc/k\n", "")), "users[0].user.client-key");
        assert_eq!(refusal(&config("    as: admin\n", "")), "users[0].user.as");
        assert_eq!(
            refusal(&config("    token: t\n", "    certificate-authority: /etc/ca\n")),
            "clusters[0].cluster.certificate-authority"
        );
        assert_eq!(
            refusal(&config("    token: t\n", "    proxy-url: http://x\n")),
            "clusters[0].cluster.proxy-url"
        );
        assert_eq!(
            refusal(&config("    token: t\n", "    something-new: 1\n")),
            "clusters[0].cluster.something-new"
        );
        assert_eq!(refusal(&config("    token: [1]\n", "")), "users[0].user.token");
    }

    #[test]
    fn exec_passes_only_when_the_operator_allows_it() {
        let text = config(
            "    exec: {command: /bin/true, apiVersion: client.authentication.k8s.io/v1}\n",
            "",
        );
        let safe = sanitize(&text, None, KubeconfigPolicy { allow_exec: true }).unwrap();
        assert!(safe.document.contains("/bin/true"));
        assert_eq!(
            sanitize(&text, None, KubeconfigPolicy { allow_exec: true }).unwrap(),
            safe,
            "sanitizing is a fixed point"
        );
    }

    #[test]
    fn the_other_contexts_are_dropped_not_judged() {
        // Context "two" has a proxy and an exec user; choosing "one" never reads them.
        assert!(
            sanitize(&config("    token: t\n", ""), Some("one"), KubeconfigPolicy::default())
                .is_ok()
        );
        assert_eq!(
            sanitize(&config("    token: t\n", ""), Some("two"), KubeconfigPolicy::default())
                .unwrap_err(),
            KubeconfigRefusal::Refused {
                field: "clusters[1].cluster.proxy-url".into(),
                why: PROXY_WHY
            }
        );
        assert!(matches!(
            sanitize(&config("    token: t\n", ""), Some("three"), KubeconfigPolicy::default()),
            Err(KubeconfigRefusal::NoContext(_))
        ));
        assert!(matches!(
            sanitize("{not: [closed", None, KubeconfigPolicy::default()),
            Err(KubeconfigRefusal::Unreadable(_))
        ));
    }

    #[test]
    fn a_sanitized_document_sanitizes_to_itself() {
        let safe =
            sanitize(&config("    token: t\n", ""), None, KubeconfigPolicy::default()).unwrap();
        assert_eq!(sanitize(&safe.document, None, KubeconfigPolicy::default()).unwrap(), safe);
    }
}
