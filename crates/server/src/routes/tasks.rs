//! `GET .../operation/postcheck/tasks/{task_id}` and `GET .../operation/postcheck/tasks`:
//! one task, or a cluster's tasks newest first, `limit` at a time after `marker`, in CCE's
//! list shape. One task is the HTML report instead when the client prefers `text/html`
//! (a browser); JSON stays the default. The paging rules are shared with the pre-check's
//! list ([`page_request`]).

use axum::Json;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::{Html, IntoResponse, Response};
use postcheck_model::task::ListMetadata;
use postcheck_model::{API_VERSION, PostCheckTask, TaskList};
use serde::Deserialize;
use utoipa::IntoParams;

use super::{ClusterPath, TaskPath};
use crate::error::{ApiError, ErrorBody};
use crate::runner::task_document;
use crate::state::AppState;
use crate::validation::MAX_MARKER_CHARS;

/// The default page size.
pub const DEFAULT_LIMIT: u32 = 20;
/// The largest page size.
pub const MAX_LIMIT: u32 = 500;

/// Query of the task list.
#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// Page size, 1 to 500 (default 20).
    pub limit: Option<String>,
    /// `metadata.continue` of the previous page.
    pub marker: Option<String>,
}

/// Read one post-check task.
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/postcheck/tasks/{task_id}",
    tag = "postcheck",
    params(
        ("project_id" = String, Path, description = "Project ID"),
        ("cluster_id" = String, Path, description = "Cluster ID"),
        ("task_id" = String, Path, description = "Task ID (metadata.uid)"),
    ),
    responses(
        (status = 200, description = "The task; the HTML report when Accept prefers text/html", content(
            (PostCheckTask = "application/json"),
            (String = "text/html"),
        )),
        (status = 404, description = "No such task of this cluster in this project", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    path: TaskPath,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let task = state
        .store
        .get_task(path.project.as_str(), path.task.as_str())
        .await?
        .filter(|t| t.cluster_id == path.cluster.as_str())
        .ok_or_else(|| no_such_task(&path))?;
    let document = task_document(&task);
    let accept = headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let vary = [(header::VARY, "Accept")];
    if !postcheck_report::negotiate::prefers_html(accept) {
        return Ok((vary, Json(document)).into_response());
    }
    let page = postcheck_report::html(&document)
        .map_err(|e| ApiError::internal("rendering the HTML report", e))?;
    let policy = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";
    Ok((vary, [(header::CONTENT_SECURITY_POLICY, policy)], Html(page)).into_response())
}

/// 404 for a task that is not this cluster's in this project (or not of this kind).
pub(super) fn no_such_task(path: &TaskPath) -> ApiError {
    ApiError::NotFound(format!("Task {} of cluster {} does not exist.", path.task, path.cluster))
}

/// The page size and marker of a list query, or CCE's 400.
pub(super) fn page_request(
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<(u32, Option<String>), ApiError> {
    let Query(query) =
        query.map_err(|e| ApiError::InvalidRequest(format!("The query is not valid: {e}.")))?;
    let limit = match query.limit.as_deref() {
        None => DEFAULT_LIMIT,
        Some(text) => {
            text.parse::<u32>().ok().filter(|n| (1..=MAX_LIMIT).contains(n)).ok_or_else(|| {
                ApiError::InvalidRequest(format!("limit must be a number from 1 to {MAX_LIMIT}."))
            })?
        }
    };
    let marker = query.marker.filter(|m| !m.is_empty());
    if marker.as_ref().is_some_and(|m| m.chars().count() > MAX_MARKER_CHARS) {
        return Err(ApiError::InvalidRequest(format!(
            "marker is longer than {MAX_MARKER_CHARS} characters."
        )));
    }
    Ok((limit, marker))
}

/// List a cluster's post-check tasks, newest first.
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/postcheck/tasks",
    tag = "postcheck",
    params(
        ("project_id" = String, Path, description = "Project ID"),
        ("cluster_id" = String, Path, description = "Cluster ID"),
        ListQuery,
    ),
    responses(
        (status = 200, description = "A page of tasks; metadata.continue is the marker of the next page", body = TaskList),
        (status = 400, description = "limit is not a number from 1 to 500", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    path: ClusterPath,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<TaskList>, ApiError> {
    let (limit, marker) = page_request(query)?;
    let page = state
        .store
        .list_tasks(path.project.as_str(), path.cluster.as_str(), limit, marker.as_deref())
        .await?;
    Ok(Json(TaskList {
        api_version: API_VERSION.into(),
        kind: "List".into(),
        metadata: ListMetadata { continue_marker: page.next_marker },
        items: page.tasks.iter().map(task_document).collect(),
    }))
}
