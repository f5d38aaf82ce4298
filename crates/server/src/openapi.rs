//! The OpenAPI document served at `/openapi.json`, generated from the handlers' and the
//! wire types' annotations, so it cannot drift from the code. The check operations are
//! annotated once, under `/api/v3`; [`Autopilot`] copies them under `/autopilot/v3`, where
//! the same handlers serve them.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "postcheck", description = "CCE v3 post- and pre-upgrade check API, with evidence; also under CCE Autopilot's /autopilot/v3."),
    paths(
        routes::postcheck::create,
        routes::tasks::get,
        routes::tasks::list,
        routes::precheck::create,
        routes::precheck::get,
        routes::precheck::list,
        routes::clusters::create,
        routes::clusters::list,
        routes::clusters::get,
        routes::clusters::delete,
        routes::baseline::take,
        routes::baseline::put,
        routes::baseline::get,
    ),
    components(schemas(
        postcheck_model::PostCheckRequest,
        postcheck_model::PostCheckSpec,
        postcheck_model::PostCheckTask,
        postcheck_model::TaskMetadata,
        postcheck_model::TaskStatus,
        postcheck_model::TaskPhase,
        postcheck_model::TaskList,
        postcheck_model::task::ListMetadata,
        postcheck_model::CheckItem,
        postcheck_model::Evidence,
        postcheck_model::BaselineRef,
        postcheck_model::BaselineSource,
        postcheck_model::BlameCounts,
        postcheck_model::ResolvedFinding,
        postcheck_model::PreCheckRequest,
        postcheck_model::PrecheckSpec,
        postcheck_model::SkippedCheckItem,
        postcheck_model::ResourceSelector,
        postcheck_model::PreCheckTask,
        postcheck_model::PrecheckStatus,
        postcheck_model::PrecheckPhase,
        postcheck_model::ItemsCheckStatus,
        postcheck_model::NodeCheckStatus,
        postcheck_model::NodeStageStatus,
        postcheck_model::NodeInfo,
        postcheck_model::PreCheckItemStatus,
        postcheck_model::RiskSource,
        postcheck_model::ConfigurationRisk,
        postcheck_model::DeprecatedApiRisk,
        postcheck_model::NodeRisk,
        postcheck_model::AddonRisk,
        postcheck_model::PreCheckTaskList,
        crate::error::ErrorBody,
        crate::registry::ClusterRegistration,
        crate::registry::ClusterView,
        crate::registry::ClusterList,
        crate::routes::baseline::BaselineView,
    )),
    modifiers(&Security, &Autopilot),
    tags(
        (name = "postcheck", description = "Post-upgrade checks"),
        (name = "precheck", description = "Pre-upgrade checks (their Snapshot becomes the cluster's baseline)"),
        (name = "clusters", description = "Clusters a project may check"),
    )
)]
struct ApiDoc;

/// Copies every check operation documented under the first of [`routes::PREFIXES`] to the
/// others (CCE Autopilot's), as the router mounts them.
struct Autopilot;

impl Modify for Autopilot {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let [main, others @ ..] = routes::PREFIXES;
        for op in routes::CHECK_OPERATIONS {
            let Some(item) = openapi.paths.paths.get(&format!("{main}{op}")).cloned() else {
                continue;
            };
            for prefix in others {
                openapi.paths.paths.insert(format!("{prefix}{op}"), item.clone());
            }
        }
    }
}

struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-Auth-Token"))),
        );
        components.add_security_scheme(
            "aksk",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::with_description(
                "Authorization",
                "SDK-HMAC-SHA256 Access=AK, SignedHeaders=..., Signature=... (with X-Sdk-Date), as the Huawei Cloud SDKs sign",
            ))),
        );
    }
}

/// The service's OpenAPI document.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

#[cfg(test)]
mod tests {
    #[test]
    fn documents_every_api_route() {
        let doc = serde_json::to_value(super::document()).unwrap();
        let paths = doc["paths"].as_object().unwrap();
        let checks = crate::routes::PREFIXES.iter().flat_map(|prefix| {
            crate::routes::CHECK_OPERATIONS.iter().map(move |op| format!("{prefix}{op}"))
        });
        let others = [crate::routes::CLUSTERS, crate::routes::CLUSTER, crate::routes::BASELINE]
            .map(str::to_owned);
        for p in checks.chain(others) {
            assert!(paths.contains_key(&p), "{p} is missing from the OpenAPI document");
        }
        for schema in ["PostCheckTask", "PreCheckTask", "PreCheckTaskList", "PrecheckStatus"] {
            assert!(doc["components"]["schemas"][schema].is_object(), "{schema} is missing");
        }
    }
}
