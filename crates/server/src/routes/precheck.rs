//! CCE's pre-upgrade check: `POST .../operation/precheck`, `GET .../operation/precheck/tasks`
//! and `GET .../operation/precheck/tasks/{task_id}` (and the same under CCE Autopilot's
//! `/autopilot/v3/...`).
//!
//! As the post-check: synchronous by default (200 with the finished task), `Prefer:
//! respond-async` for 202 with the `Init` task and `Location`; one check of a cluster at a
//! time, pre or post (429 CCE.01429002); the same credentials, tenancy and throttles. A
//! pre-check that could examine the cluster records its Snapshot as the cluster's baseline,
//! which later post-checks compare against (see [`crate::runner`]).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, OriginalUri, Query, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::{Extension, Json};
use postcheck_model::task::ListMetadata;
use postcheck_model::{API_VERSION, PreCheckRequest, PreCheckTask, PreCheckTaskList};

use super::middleware::throttle_checks;
use super::postcheck::{answer, registered_cluster};
use super::tasks::{ListQuery, no_such_task, page_request};
use super::{ClusterPath, TaskPath};
use crate::error::{ApiError, ErrorBody};
use crate::runner::precheck_document;
use crate::state::AppState;
use crate::validation::{parse_precheck, require_json};

/// Run a pre-upgrade check of a registered cluster.
#[utoipa::path(
    post,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/precheck",
    tag = "precheck",
    params(
        ("project_id" = String, Path, description = "Project ID (32 lowercase hex characters)"),
        ("cluster_id" = String, Path, description = "Cluster ID (UUID)"),
        ("Prefer" = Option<String>, Header, description = "`respond-async` to get 202 and the accepted task at once"),
    ),
    request_body = PreCheckRequest,
    responses(
        (status = 200, description = "The pre-check ended (phase Success, Failed or Error)", body = PreCheckTask),
        (status = 202, description = "The pre-check is accepted (phase Init; Prefer: respond-async)", body = PreCheckTask),
        (status = 400, description = "Invalid request (CCE.01400001: kind, apiVersion, clusterID, versions, skippedCheckItemList), content type (CCE.01400006), version (CCE.01400015)", body = ErrorBody),
        (status = 401, description = "Authorization failed", body = ErrorBody),
        (status = 403, description = "Another project's credential", body = ErrorBody),
        (status = 404, description = "The cluster is not registered", body = ErrorBody),
        (status = 429, description = "Another check of this cluster is running (CCE.01429002), or too many checks started (CCE.02429001, with Retry-After)", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    path: ClusterPath,
    OriginalUri(uri): OriginalUri,
    source: Option<Extension<ConnectInfo<SocketAddr>>>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    require_json(&headers)?;
    let request = parse_precheck(&body, &path.cluster)?;
    let cluster = registered_cluster(&state, &path).await?;
    throttle_checks(&state, path.project.as_str(), source.as_deref())?;
    let started =
        state.runner.start_precheck(&path.project, cluster, request.spec, request.plan).await?;
    answer(&headers, &uri, started, precheck_document).await
}

/// Read one pre-check task.
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/precheck/tasks/{task_id}",
    tag = "precheck",
    params(
        ("project_id" = String, Path, description = "Project ID"),
        ("cluster_id" = String, Path, description = "Cluster ID"),
        ("task_id" = String, Path, description = "Task ID (metadata.uid)"),
    ),
    responses(
        (status = 200, description = "The task", body = PreCheckTask),
        (status = 404, description = "No such pre-check task of this cluster in this project", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    path: TaskPath,
) -> Result<Json<PreCheckTask>, ApiError> {
    let task = state
        .store
        .get_precheck(path.project.as_str(), path.task.as_str())
        .await?
        .filter(|t| t.cluster_id == path.cluster.as_str())
        .ok_or_else(|| no_such_task(&path))?;
    Ok(Json(precheck_document(&task)))
}

/// List a cluster's pre-check tasks, newest first, in CCE's list shape.
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/precheck/tasks",
    tag = "precheck",
    params(
        ("project_id" = String, Path, description = "Project ID"),
        ("cluster_id" = String, Path, description = "Cluster ID"),
        ListQuery,
    ),
    responses(
        (status = 200, description = "A page of tasks; metadata.continue is the marker of the next page", body = PreCheckTaskList),
        (status = 400, description = "limit is not a number from 1 to 500", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    path: ClusterPath,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<PreCheckTaskList>, ApiError> {
    let (limit, marker) = page_request(query)?;
    let page = state
        .store
        .list_prechecks(path.project.as_str(), path.cluster.as_str(), limit, marker.as_deref())
        .await?;
    Ok(Json(PreCheckTaskList {
        api_version: API_VERSION.into(),
        kind: "List".into(),
        metadata: ListMetadata { continue_marker: page.next_marker },
        items: page.tasks.iter().map(precheck_document).collect(),
    }))
}
