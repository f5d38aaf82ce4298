//! The OpenAPI document served at `/openapi.json`, generated from the handlers' and the
//! wire types' annotations, so it cannot drift from the code.

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::routes;

#[derive(OpenApi)]
#[openapi(
    info(title = "postcheck", description = "CCE v3 post-upgrade check API, with evidence."),
    paths(
        routes::postcheck::create,
        routes::tasks::get,
        routes::tasks::list,
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
        crate::error::ErrorBody,
        crate::registry::ClusterRegistration,
        crate::registry::ClusterView,
        crate::registry::ClusterList,
        crate::routes::baseline::BaselineView,
    )),
    modifiers(&Security),
    tags((name = "postcheck", description = "Post-upgrade checks"), (name = "clusters", description = "Clusters a project may check"))
)]
struct ApiDoc;

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
        for p in [
            crate::routes::POSTCHECK,
            crate::routes::TASKS,
            crate::routes::TASK,
            crate::routes::CLUSTERS,
            crate::routes::CLUSTER,
            crate::routes::BASELINE,
        ] {
            assert!(paths.contains_key(p), "{p} is missing from the OpenAPI document");
        }
        assert!(doc["components"]["schemas"]["PostCheckTask"].is_object());
    }
}
