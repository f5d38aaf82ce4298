//! The HTTP surface: which path goes to which handler, behind which middleware.
//!
//! - [`postcheck`]: `POST .../operation/postcheck`, the seed's API.
//! - [`tasks`]: `GET .../operation/postcheck/tasks[/{task_id}]`.
//! - [`precheck`]: `POST .../operation/precheck`, `GET .../operation/precheck/tasks[/{task_id}]`.
//! - [`clusters`]: the clusters a project may check; [`baseline`]: their baselines.
//! - [`health`]: `/healthz`, `/readyz`, `/metrics`, `/openapi.json` (no credentials).
//!
//! The check operations (post and pre, and their tasks) are one set of routes
//! ([`CHECK_OPERATIONS`]) mounted under both prefixes, CCE's `/api/v3` and CCE Autopilot's
//! `/autopilot/v3` ([`PREFIXES`]), with the same handlers. Every API route sits behind
//! [`middleware::authenticate`]; every response gets an `X-Request-Id`, is counted by
//! [`middleware::track`], and, when it is an error, carries CCE's JSON body
//! ([`middleware::cce_errors`]).

pub mod baseline;
pub mod clusters;
pub mod health;
pub mod middleware;
pub mod postcheck;
pub mod precheck;
pub mod tasks;

use std::collections::HashMap;

use axum::Router;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path};
use axum::http::request::Parts;
use axum::middleware::{from_fn, from_fn_with_state};
use axum::routing::{get, post};
use tower::ServiceBuilder;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnResponse, TraceLayer};

use crate::domain::{ClusterId, ProjectId, TaskId};
use crate::error::ApiError;
use crate::state::AppState;

/// CCE's prefix and CCE Autopilot's: the check operations are served under both.
pub const PREFIXES: [&str; 2] = ["/api/v3", "/autopilot/v3"];

/// `POST` here runs a post-check (under a prefix).
pub const POSTCHECK_OP: &str = "/projects/{project_id}/clusters/{cluster_id}/operation/postcheck";
/// `GET` here lists a cluster's post-check tasks (under a prefix).
pub const POSTCHECK_TASKS_OP: &str =
    "/projects/{project_id}/clusters/{cluster_id}/operation/postcheck/tasks";
/// `GET` here reads one post-check task (under a prefix).
pub const POSTCHECK_TASK_OP: &str =
    "/projects/{project_id}/clusters/{cluster_id}/operation/postcheck/tasks/{task_id}";
/// `POST` here runs a pre-check (under a prefix).
pub const PRECHECK_OP: &str = "/projects/{project_id}/clusters/{cluster_id}/operation/precheck";
/// `GET` here lists a cluster's pre-check tasks (under a prefix).
pub const PRECHECK_TASKS_OP: &str =
    "/projects/{project_id}/clusters/{cluster_id}/operation/precheck/tasks";
/// `GET` here reads one pre-check task (under a prefix).
pub const PRECHECK_TASK_OP: &str =
    "/projects/{project_id}/clusters/{cluster_id}/operation/precheck/tasks/{task_id}";
/// The check operations, served under every one of [`PREFIXES`].
pub const CHECK_OPERATIONS: [&str; 6] = [
    POSTCHECK_OP,
    POSTCHECK_TASKS_OP,
    POSTCHECK_TASK_OP,
    PRECHECK_OP,
    PRECHECK_TASKS_OP,
    PRECHECK_TASK_OP,
];

/// `POST` registers, `GET` lists a project's clusters.
pub const CLUSTERS: &str = "/api/v3/projects/{project_id}/clusters";
/// `GET` reads, `DELETE` removes a registered cluster.
pub const CLUSTER: &str = "/api/v3/projects/{project_id}/clusters/{cluster_id}";
/// `POST` takes, `PUT` stores, `GET` reads a registered cluster's baseline.
pub const BASELINE: &str = "/api/v3/projects/{project_id}/clusters/{cluster_id}/baseline";

/// The check operations under `prefix`, each with its handler.
fn check_operations(router: Router<AppState>, prefix: &str) -> Router<AppState> {
    let at = |op: &str| format!("{prefix}{op}");
    router
        .route(&at(POSTCHECK_OP), post(postcheck::create))
        .route(&at(POSTCHECK_TASKS_OP), get(tasks::list))
        .route(&at(POSTCHECK_TASK_OP), get(tasks::get))
        .route(&at(PRECHECK_OP), post(precheck::create))
        .route(&at(PRECHECK_TASKS_OP), get(precheck::list))
        .route(&at(PRECHECK_TASK_OP), get(precheck::get))
}

/// The `{project_id}` of an API path under any of [`PREFIXES`].
pub fn project_of_path(path: &str) -> Option<&str> {
    PREFIXES.iter().find_map(|prefix| {
        let rest = path.strip_prefix(prefix)?.strip_prefix("/projects/")?;
        Some(rest.split('/').next().unwrap_or(rest))
    })
}

/// The whole application: API routes, public routes, middleware.
pub fn router(state: AppState) -> Router {
    let api = PREFIXES
        .iter()
        .fold(Router::new(), |router, prefix| check_operations(router, prefix))
        .route(CLUSTERS, post(clusters::create).get(clusters::list))
        .route(CLUSTER, get(clusters::get).delete(clusters::delete))
        .route(BASELINE, post(baseline::take).put(baseline::put).get(baseline::get))
        .route_layer(from_fn_with_state(state.clone(), middleware::authenticate));
    let public = Router::new()
        .route("/healthz", get(health::healthz))
        .route("/readyz", get(health::readyz))
        .route("/metrics", get(health::metrics))
        .route("/openapi.json", get(health::openapi));
    let max_body = state.limits.max_body_bytes;
    Router::new()
        .merge(api)
        .merge(public)
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(from_fn_with_state(state.clone(), middleware::track))
        .layer(from_fn_with_state(state.clone(), middleware::limit_in_flight))
        .layer(DefaultBodyLimit::max(max_body))
        .layer(from_fn(middleware::cce_errors))
        .layer(
            ServiceBuilder::new()
                .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
                .layer(TraceLayer::new_for_http().make_span_with(|request: &axum::extract::Request| {
                    let id = request.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
                    tracing::info_span!("request", method = %request.method(), path = %request.uri().path(), request_id = %id)
                }).on_response(DefaultOnResponse::new().level(tracing::Level::INFO)))
                .layer(PropagateRequestIdLayer::x_request_id()),
        )
        .with_state(state)
}

async fn not_found() -> ApiError {
    ApiError::NotFound("No such route.".into())
}

async fn method_not_allowed() -> ApiError {
    ApiError::MethodNotAllowed("The route does not take this method.".into())
}

async fn path_params<S: Send + Sync>(
    parts: &mut Parts,
    state: &S,
) -> Result<HashMap<String, String>, ApiError> {
    Path::<HashMap<String, String>>::from_request_parts(parts, state)
        .await
        .map(|Path(p)| p)
        .map_err(|e| ApiError::InvalidRequest(format!("The path is not valid: {e}.")))
}

fn param<'a>(params: &'a HashMap<String, String>, name: &str) -> Result<&'a str, ApiError> {
    params
        .get(name)
        .map(String::as_str)
        .ok_or_else(|| ApiError::InvalidRequest(format!("The path has no {name}.")))
}

/// `{project_id}` of the path, parsed.
#[derive(Debug, Clone)]
pub struct ProjectPath {
    /// The project.
    pub project: ProjectId,
}

/// `{project_id}/clusters/{cluster_id}` of the path, parsed.
#[derive(Debug, Clone)]
pub struct ClusterPath {
    /// The project.
    pub project: ProjectId,
    /// The cluster.
    pub cluster: ClusterId,
}

/// `.../tasks/{task_id}` of the path, parsed.
#[derive(Debug, Clone)]
pub struct TaskPath {
    /// The project.
    pub project: ProjectId,
    /// The cluster.
    pub cluster: ClusterId,
    /// The task.
    pub task: TaskId,
}

fn invalid(e: crate::domain::InvalidId) -> ApiError {
    ApiError::InvalidRequest(format!("{e}."))
}

/// The path's project, parsed, and (defence in depth: the authentication middleware says
/// the same first) the caller's own.
fn project(parts: &Parts, params: &HashMap<String, String>) -> Result<ProjectId, ApiError> {
    let project = ProjectId::parse(param(params, "project_id")?).map_err(invalid)?;
    match parts.extensions.get::<crate::auth::Caller>() {
        Some(caller) if caller.project != project => {
            Err(ApiError::Forbidden("The credential does not belong to this project.".into()))
        }
        _ => Ok(project),
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ProjectPath {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let p = path_params(parts, state).await?;
        Ok(Self { project: project(parts, &p)? })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for ClusterPath {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let p = path_params(parts, state).await?;
        Ok(Self {
            project: project(parts, &p)?,
            cluster: ClusterId::parse(param(&p, "cluster_id")?).map_err(invalid)?,
        })
    }
}

impl<S: Send + Sync> FromRequestParts<S> for TaskPath {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        let p = path_params(parts, state).await?;
        Ok(Self {
            project: project(parts, &p)?,
            cluster: ClusterId::parse(param(&p, "cluster_id")?).map_err(invalid)?,
            task: TaskId::parse(param(&p, "task_id")?).map_err(invalid)?,
        })
    }
}
