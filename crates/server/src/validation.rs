//! From the body of `POST .../operation/postcheck` or `.../operation/precheck` to a typed
//! request, or CCE's 400.
//!
//! Parse, don't validate: [`ValidPostCheck`] and [`ValidPreCheck`] can only be made here,
//! so a handler holding one knows the content type was JSON, `apiVersion` is `v3`, `kind`
//! is `PostCheckTask` (or `PreCheckTask`), `spec.clusterID` (when given) names the path's
//! cluster, both versions parse, and the target is not older than the source, and the body
//! and its `spec` are JSON objects (an array is never read by position); for a pre-check,
//! every `skippedCheckItemList` entry names a pre-check item and selects nodes as CCE does
//! (`node.uid`, `In`). Unknown fields are ignored. Strings and lists are bounded
//! ([`MAX_VERSION_CHARS`], [`MAX_MARKER_CHARS`], [`MAX_SKIPPED_ITEMS`]...).

use http::HeaderMap;
use postcheck_engine::CheckSpec;
use postcheck_model::{
    API_VERSION, KIND, PRECHECK_KIND, PostCheckRequest, PostCheckSpec, PreCheckRequest,
    PrecheckSpec, SkippedCheckItem, Version,
};

use crate::domain::ClusterId;
use crate::error::ApiError;
use crate::runner::PrecheckPlan;

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
    let request: PostCheckRequest = parse_envelope(body, KIND, &[])?;
    check_header(request.api_version.as_deref(), request.kind.as_deref(), KIND)?;
    let mut spec = request.spec.ok_or_else(|| invalid("spec is required.".into()))?;
    check_cluster_id(&mut spec.cluster_id, path_cluster)?;
    let check = parse_versions(spec.cluster_version.as_deref(), spec.target_version.as_deref())?;
    Ok(ValidPostCheck { spec, check })
}

/// A pre-check request that passed every rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidPreCheck {
    /// The spec to echo in the task (`clusterID` filled in from the path when absent).
    pub spec: PrecheckSpec,
    /// What the engine is asked.
    pub plan: PrecheckPlan,
}

/// The most entries `skippedCheckItemList` may have, and values one selector may list.
pub const MAX_SKIPPED_ITEMS: usize = 100;
/// The most values one `resourceSelector` may list.
pub const MAX_SELECTOR_VALUES: usize = 1000;
/// The longest item name or selector value accepted.
pub const MAX_NAME_CHARS: usize = 128;

/// Parses and checks a pre-check body for the cluster of the path: the rules of a
/// post-check body with `kind` `PreCheckTask`, and each `skippedCheckItemList` entry names
/// an item of the pre-check's catalogue, with a `resourceSelector` (when given) of key
/// `node.uid`, operator `In` (or absent) and at least one value.
pub fn parse_precheck(body: &[u8], path_cluster: &ClusterId) -> Result<ValidPreCheck, ApiError> {
    let request: PreCheckRequest = parse_envelope(body, PRECHECK_KIND, &["skippedCheckItemList"])?;
    check_header(request.api_version.as_deref(), request.kind.as_deref(), PRECHECK_KIND)?;
    let mut spec = request.spec.ok_or_else(|| invalid("spec is required.".into()))?;
    check_cluster_id(&mut spec.cluster_id, path_cluster)?;
    let check = parse_versions(spec.cluster_version.as_deref(), spec.target_version.as_deref())?;
    check_skipped(&spec.skipped_check_item_list)?;
    let plan = PrecheckPlan { check, skipped: spec.skipped_check_item_list.clone() };
    Ok(ValidPreCheck { spec, plan })
}

/// The shape of each `skippedCheckItemList` entry, then its name against the catalogue.
fn check_skipped(items: &[SkippedCheckItem]) -> Result<(), ApiError> {
    if items.len() > MAX_SKIPPED_ITEMS {
        return Err(invalid(format!(
            "spec.skippedCheckItemList has more than {MAX_SKIPPED_ITEMS} entries."
        )));
    }
    for (i, item) in items.iter().enumerate() {
        let at = format!("spec.skippedCheckItemList[{i}]");
        if item.name.trim().is_empty() {
            return Err(invalid(format!("{at}.name is required.")));
        }
        if item.name.chars().count() > MAX_NAME_CHARS {
            return Err(invalid(format!("{at}.name is longer than {MAX_NAME_CHARS} characters.")));
        }
        let Some(selector) = &item.resource_selector else { continue };
        if selector.key != NODE_UID_KEY {
            return Err(invalid(format!(
                "{at}.resourceSelector.key must be \"{NODE_UID_KEY}\", not {:?}.",
                truncate(&selector.key)
            )));
        }
        if let Some(operator) = selector.operator.as_deref().filter(|o| *o != "In") {
            return Err(invalid(format!(
                "{at}.resourceSelector.operator must be \"In\", not {:?}.",
                truncate(operator)
            )));
        }
        if selector.values.is_empty() {
            return Err(invalid(format!(
                "{at}.resourceSelector.values must name at least one node UID."
            )));
        }
        if selector.values.len() > MAX_SELECTOR_VALUES {
            return Err(invalid(format!(
                "{at}.resourceSelector.values has more than {MAX_SELECTOR_VALUES} entries."
            )));
        }
        if selector.values.iter().any(|v| v.is_empty() || v.chars().count() > MAX_NAME_CHARS) {
            return Err(invalid(format!(
                "{at}.resourceSelector.values must be node UIDs of 1 to {MAX_NAME_CHARS} characters."
            )));
        }
    }
    postcheck_engine::validate_skipped(items).map_err(|e| invalid(format!("{e}.")))
}

/// The only `resourceSelector.key` CCE defines.
pub const NODE_UID_KEY: &str = "node.uid";

fn invalid(message: String) -> ApiError {
    ApiError::InvalidRequest(message)
}

/// A body that is a JSON object whose `spec` (when present) is an object too, and whose
/// `spec` fields named in `lists` (when present) are arrays, read as `R` (serde would read
/// an array by position: `"spec": ["id", "v1.15"]`, and its own message names no field).
fn parse_envelope<R: serde::de::DeserializeOwned>(
    body: &[u8],
    kind: &str,
    lists: &[&str],
) -> Result<R, ApiError> {
    let not_valid =
        |e: serde_json::Error| invalid(format!("The body is not a valid {kind} request: {e}."));
    let value: serde_json::Value = serde_json::from_slice(body).map_err(not_valid)?;
    let Some(object) = value.as_object() else {
        return Err(invalid("The body must be a JSON object.".into()));
    };
    if object.get("spec").is_some_and(|s| !s.is_object() && !s.is_null()) {
        return Err(invalid("spec must be an object.".into()));
    }
    for list in lists {
        if object.get("spec").and_then(|s| s.get(list)).is_some_and(|l| !l.is_array()) {
            return Err(invalid(format!("spec.{list} must be an array.")));
        }
    }
    serde_json::from_value(value).map_err(not_valid)
}

/// `apiVersion` is `v3` and `kind` is `expected`.
fn check_header(
    api_version: Option<&str>,
    kind: Option<&str>,
    expected: &str,
) -> Result<(), ApiError> {
    match api_version {
        None => return Err(invalid("apiVersion is required.".into())),
        Some(API_VERSION) => {}
        Some(other) => {
            return Err(invalid(format!("apiVersion must be \"v3\", not {:?}.", truncate(other))));
        }
    }
    match kind {
        None => Err(invalid("kind is required.".into())),
        Some(k) if k == expected => Ok(()),
        Some(other) => {
            Err(invalid(format!("kind must be \"{expected}\", not {:?}.", truncate(other))))
        }
    }
}

/// `spec.clusterID`, when given, names the path's cluster; absent, it is filled in.
fn check_cluster_id(given: &mut Option<String>, path_cluster: &ClusterId) -> Result<(), ApiError> {
    match given.as_deref() {
        None => *given = Some(path_cluster.to_string()),
        Some(id) => {
            if !ClusterId::parse(id).is_ok_and(|id| &id == path_cluster) {
                return Err(invalid(format!(
                    "spec.clusterID {:?} differs from the cluster of the path {path_cluster}.",
                    truncate(id)
                )));
            }
        }
    }
    Ok(())
}

/// Both versions parse, within bounds, and the target is not older than the source.
fn parse_versions(source: Option<&str>, target: Option<&str>) -> Result<CheckSpec, ApiError> {
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
    let source = version("clusterVersion", source)?;
    let target = version("targetVersion", target)?;
    if let (Some(s), Some(t)) = (&source, &target)
        && t.cmp_kubernetes(s).is_lt()
    {
        return Err(ApiError::UnsupportedVersion(format!(
            "The target version {t} is lower than the source version {s}: an upgrade cannot go back."
        )));
    }
    Ok(CheckSpec { target, source })
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

    fn parse_pre(body: serde_json::Value) -> Result<ValidPreCheck, ApiError> {
        parse_precheck(body.to_string().as_bytes(), &ClusterId::parse(CLUSTER).unwrap())
    }

    fn precheck() -> serde_json::Value {
        json!({"kind": "PreCheckTask", "apiVersion": "v3",
               "spec": {"clusterID": CLUSTER, "clusterVersion": "v1.36", "targetVersion": "v1.37",
                        "skippedCheckItemList": [{"name": "node-ready",
                            "resourceSelector": {"key": "node.uid", "values": ["u1"], "operator": "In"}}]}})
    }

    fn pre_code(r: Result<ValidPreCheck, ApiError>) -> (&'static str, String) {
        let e = r.unwrap_err();
        (e.status_and_code().1, e.to_string())
    }

    #[test]
    fn a_precheck_as_the_sdk_sends_it_is_valid() {
        let valid = parse_pre(precheck()).unwrap();
        assert_eq!(valid.plan.check.target, Some(Version::parse("v1.37").unwrap()));
        assert_eq!(valid.plan.check.source, Some(Version::parse("v1.36").unwrap()));
        assert_eq!(valid.plan.skipped, valid.spec.skipped_check_item_list);
        assert_eq!(valid.plan.skipped[0].name, "node-ready");
        let bare =
            parse_pre(json!({"kind": "PreCheckTask", "apiVersion": "v3", "spec": {}})).unwrap();
        assert_eq!(
            bare.spec.cluster_id.as_deref(),
            Some(CLUSTER),
            "clusterID filled from the path"
        );
    }

    #[test]
    fn each_precheck_rule_refuses_with_its_code_and_names_the_field() {
        let with = |f: &dyn Fn(&mut serde_json::Value)| {
            let mut v = precheck();
            f(&mut v);
            parse_pre(v)
        };
        let skipped = "/spec/skippedCheckItemList/0";
        let cases: Vec<(Result<ValidPreCheck, ApiError>, &str, &str)> = vec![
            (with(&|v| v["kind"] = json!("PostCheckTask")), "CCE.01400001", "PreCheckTask"),
            (with(&|v| v["apiVersion"] = json!("v2")), "CCE.01400001", "apiVersion"),
            (
                with(&|v| v["spec"]["clusterID"] = json!("11111111-1743-11ee-8e46-0255ac10004c")),
                "CCE.01400001",
                "clusterID",
            ),
            (
                with(&|v| v["spec"]["targetVersion"] = json!("next")),
                "CCE.01400001",
                "targetVersion",
            ),
            (with(&|v| v["spec"]["targetVersion"] = json!("v1.35")), "CCE.01400015", "lower"),
            (
                with(&|v| *v.pointer_mut(skipped).unwrap() = json!({"name": "no-such-item"})),
                "CCE.01400001",
                "no-such-item",
            ),
            (
                with(&|v| *v.pointer_mut(skipped).unwrap() = json!({"name": ""})),
                "CCE.01400001",
                "name",
            ),
            (
                with(&|v| {
                    v.pointer_mut(skipped).unwrap()["resourceSelector"]["key"] = json!("node.name")
                }),
                "CCE.01400001",
                "node.uid",
            ),
            (
                with(&|v| {
                    v.pointer_mut(skipped).unwrap()["resourceSelector"]["operator"] = json!("NotIn")
                }),
                "CCE.01400001",
                "In",
            ),
            (
                with(&|v| {
                    v.pointer_mut(skipped).unwrap()["resourceSelector"]["values"] = json!([])
                }),
                "CCE.01400001",
                "values",
            ),
            (
                with(&|v| v["spec"]["skippedCheckItemList"] = json!({"name": "node-ready"})),
                "CCE.01400001",
                "skippedCheckItemList",
            ),
        ];
        for (result, code, mentions) in cases {
            let (got, message) = pre_code(result);
            assert_eq!(got, code, "{message}");
            assert!(message.contains(mentions), "{message:?} should mention {mentions:?}");
        }
    }

    #[test]
    fn a_selector_without_an_operator_means_in() {
        let mut v = precheck();
        v.pointer_mut("/spec/skippedCheckItemList/0/resourceSelector")
            .unwrap()
            .as_object_mut()
            .unwrap()
            .remove("operator");
        assert!(parse_pre(v).is_ok());
    }
}
