//! From the body of `POST .../operation/postcheck` to a typed request, or CCE's 400.
//!
//! Parse, don't validate: [`ValidPostCheck`] can only be made here, so a handler holding
//! one knows the content type was JSON, `apiVersion` is `v3`, `kind` is `PostCheckTask`,
//! `spec.clusterID` (when given) names the path's cluster, both versions parse, and the
//! target is not older than the source, and the body and its `spec` are JSON objects (an
//! array is never read by position). Unknown fields are ignored. Version strings are
//! bounded by [`MAX_VERSION_CHARS`], the task list's marker by [`MAX_MARKER_CHARS`].

use http::HeaderMap;
use postcheck_engine::CheckSpec;
use postcheck_model::{API_VERSION, KIND, PostCheckRequest, PostCheckSpec, Version};

use crate::domain::ClusterId;
use crate::error::ApiError;

/// A post-check request that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPostCheck {
    /// The spec to echo in the task (`clusterID` filled in from the path when absent).
    pub spec: PostCheckSpec,
    /// What the engine compares against.
    pub check: CheckSpec,
}

/// Refuses a body that is not declared as JSON (`application/json`, any parameters).
pub fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let content_type =
        headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let essence = content_type.split(';').next().unwrap_or("").trim();
    if essence.eq_ignore_ascii_case("application/json") {
        Ok(())
    } else if content_type.is_empty() {
        Err(ApiError::UnsupportedContentType("Send the body as application/json.".into()))
    } else {
        Err(ApiError::UnsupportedContentType(format!(
            "{:?} is not application/json.",
            truncate(content_type)
        )))
    }
}

/// Parses and checks a post-check body for the cluster of the path.
pub fn parse_postcheck(body: &[u8], path_cluster: &ClusterId) -> Result<ValidPostCheck, ApiError> {
    let invalid = |m: String| ApiError::InvalidRequest(m);
    let value: serde_json::Value = serde_json::from_slice(body)
        .map_err(|e| invalid(format!("The body is not a valid PostCheckTask request: {e}.")))?;
    // Objects only: serde would read an array by position ("spec": ["id", "v1.15"]).
    let Some(object) = value.as_object() else {
        return Err(invalid("The body must be a JSON object.".into()));
    };
    if object.get("spec").is_some_and(|s| !s.is_object() && !s.is_null()) {
        return Err(invalid("spec must be an object.".into()));
    }
    let request: PostCheckRequest = serde_json::from_value(value)
        .map_err(|e| invalid(format!("The body is not a valid PostCheckTask request: {e}.")))?;
    match request.api_version.as_deref() {
        None => return Err(invalid("apiVersion is required.".into())),
        Some(API_VERSION) => {}
        Some(other) => {
            return Err(invalid(format!("apiVersion must be \"v3\", not {:?}.", truncate(other))));
        }
    }
    match request.kind.as_deref() {
        None => return Err(invalid("kind is required.".into())),
        Some(KIND) => {}
        Some(other) => {
            return Err(invalid(format!(
                "kind must be \"PostCheckTask\", not {:?}.",
                truncate(other)
            )));
        }
    }
    let mut spec = request.spec.ok_or_else(|| invalid("spec is required.".into()))?;
    match spec.cluster_id.as_deref() {
        None => spec.cluster_id = Some(path_cluster.to_string()),
        Some(given) => {
            let same = ClusterId::parse(given).is_ok_and(|id| &id == path_cluster);
            if !same {
                return Err(invalid(format!(
                    "spec.clusterID {:?} differs from the cluster of the path {path_cluster}.",
                    truncate(given)
                )));
            }
        }
    }
    let version = |field: &str, value: Option<&str>| -> Result<Option<Version>, ApiError> {
        if value.is_some_and(|v| v.chars().count() > MAX_VERSION_CHARS) {
            return Err(invalid(format!(
                "spec.{field} is longer than {MAX_VERSION_CHARS} characters."
            )));
        }
        value
            .map(|v| Version::parse(v).map_err(|e| invalid(format!("spec.{field}: {e}."))))
            .transpose()
    };
    let source = version("clusterVersion", spec.cluster_version.as_deref())?;
    let target = version("targetVersion", spec.target_version.as_deref())?;
    if let (Some(s), Some(t)) = (&source, &target)
        && t.cmp_kubernetes(s).is_lt()
    {
        return Err(ApiError::UnsupportedVersion(format!(
            "The target version {t} is lower than the source version {s}: an upgrade cannot go back."
        )));
    }
    Ok(ValidPostCheck { spec, check: CheckSpec { target, source } })
}

/// The longest version string accepted.
pub const MAX_VERSION_CHARS: usize = 64;

/// The longest task-list marker accepted (a task ID is 36).
pub const MAX_MARKER_CHARS: usize = 64;

fn truncate(s: &str) -> String {
    s.chars().take(64).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const CLUSTER: &str = "8978deaa-1743-11ee-8e46-0255ac10004c";

    fn parse(body: serde_json::Value) -> Result<ValidPostCheck, ApiError> {
        parse_postcheck(body.to_string().as_bytes(), &ClusterId::parse(CLUSTER).unwrap())
    }

    fn seed() -> serde_json::Value {
        json!({"kind": "PostCheckTask", "apiVersion": "v3",
               "spec": {"clusterID": CLUSTER, "clusterVersion": "v1.15.11-r1", "targetVersion": "v1.19.16-r80"}})
    }

    fn code(r: Result<ValidPostCheck, ApiError>) -> &'static str {
        r.unwrap_err().status_and_code().1
    }

    #[test]
    fn the_seed_request_is_valid() {
        let valid = parse(seed()).unwrap();
        assert_eq!(valid.spec.target_version.as_deref(), Some("v1.19.16-r80"));
        assert_eq!(valid.check.target, Some(Version::parse("v1.19.16-r80").unwrap()));
        assert_eq!(valid.check.source, Some(Version::parse("v1.15.11-r1").unwrap()));
    }

    #[test]
    fn the_synthetic_extension_is_kept_in_the_spec() {
        let mut body = seed();
        body["spec"]["synthetic"] = json!(true);
        assert_eq!(parse(body).unwrap().spec.synthetic, Some(true));
        assert_eq!(
            parse(seed()).unwrap().spec.synthetic,
            None,
            "absent means no, and is not echoed"
        );
    }

    #[test]
    fn the_node_join_extension_is_kept_in_the_spec_and_must_be_a_boolean() {
        let mut body = seed();
        body["spec"]["nodeJoin"] = json!(true);
        assert_eq!(parse(body.clone()).unwrap().spec.node_join, Some(true));
        assert_eq!(parse(seed()).unwrap().spec.node_join, None, "absent means no");
        body["spec"]["nodeJoin"] = json!("yes");
        assert_eq!(code(parse(body)), "CCE.01400001");
    }

    #[test]
    fn an_empty_spec_is_valid_and_names_the_path_cluster() {
        let valid =
            parse(json!({"kind": "PostCheckTask", "apiVersion": "v3", "spec": {}, "extra": [1]}))
                .unwrap();
        assert_eq!(valid.spec.cluster_id.as_deref(), Some(CLUSTER));
        assert_eq!(valid.check, CheckSpec::default());
    }

    #[test]
    fn each_rule_refuses_with_its_code() {
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = seed();
            f(&mut v);
            v
        };
        assert_eq!(
            code(parse_postcheck(b"{not json", &ClusterId::parse(CLUSTER).unwrap())),
            "CCE.01400001"
        );
        assert_eq!(code(parse(json!([1, 2]))), "CCE.01400001");
        assert_eq!(
            code(parse(with(&|v| v["spec"] = json!([CLUSTER, "v1.15.11-r1", "v1.19.16-r80"])))),
            "CCE.01400001"
        );
        assert_eq!(code(parse(with(&|v| v["apiVersion"] = json!("v2")))), "CCE.01400001");
        assert_eq!(code(parse(with(&|v| v["apiVersion"] = json!(3)))), "CCE.01400001");
        assert_eq!(
            code(parse(with(&|v| {
                v.as_object_mut().unwrap().remove("apiVersion");
            }))),
            "CCE.01400001"
        );
        assert_eq!(code(parse(with(&|v| v["kind"] = json!("PreCheckTask")))), "CCE.01400001");
        assert_eq!(
            code(parse(with(&|v| {
                v.as_object_mut().unwrap().remove("spec");
            }))),
            "CCE.01400001"
        );
        assert_eq!(
            code(parse(with(
                &|v| v["spec"]["clusterID"] = json!("11111111-1743-11ee-8e46-0255ac10004c")
            ))),
            "CCE.01400001"
        );
        assert_eq!(
            code(parse(with(&|v| v["spec"]["targetVersion"] = json!("latest")))),
            "CCE.01400001"
        );
        assert_eq!(
            code(parse(with(&|v| v["spec"]["clusterVersion"] = json!("v1.x")))),
            "CCE.01400001"
        );
        assert_eq!(
            code(parse(with(&|v| v["spec"]["targetVersion"] = json!("v1.13.0")))),
            "CCE.01400015"
        );
    }

    #[test]
    fn the_same_version_is_not_a_downgrade() {
        let mut v = seed();
        v["spec"]["targetVersion"] = json!("v1.15.11-r1");
        assert!(parse(v).is_ok());
    }

    #[test]
    fn content_types_other_than_json_are_refused() {
        let mut h = HeaderMap::new();
        assert_eq!(require_json(&h).unwrap_err().status_and_code().1, "CCE.01400006");
        h.insert("content-type", "application/json;charset=utf-8".parse().unwrap());
        require_json(&h).unwrap();
        h.insert("content-type", "text/plain".parse().unwrap());
        assert_eq!(require_json(&h).unwrap_err().status_and_code().1, "CCE.01400006");
    }
}
