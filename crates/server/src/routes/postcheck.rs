//! `POST /api/v3/projects/{project_id}/clusters/{cluster_id}/operation/postcheck`.
//!
//! Synchronous by default, as CCE is: the answer is the finished task (200). With
//! `Prefer: respond-async` the answer is the `Running` task at once (202, with `Location`
//! naming where to read it), and the check goes on in the service. The same handler
//! serves CCE Autopilot's path (`/autopilot/v3/...`).

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, OriginalUri, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use postcheck_model::{PostCheckRequest, PostCheckTask};
use postcheck_store::{StoredTask, TaskDocument};
use serde::Serialize;

use super::ClusterPath;
use super::middleware::throttle_checks;
use crate::error::{ApiError, ErrorBody};
use crate::runner::{StartedCheck, task_document};
use crate::state::AppState;
use crate::validation::{parse_postcheck, require_json};

/// Whether the client asked for an asynchronous answer (RFC 7240 `Prefer: respond-async`).
pub(super) fn wants_async(headers: &HeaderMap) -> bool {
    headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split([',', ';']))
        .any(|p| p.trim().eq_ignore_ascii_case("respond-async"))
}

/// Run a post-upgrade check of a registered cluster.
#[utoipa::path(
    post,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/postcheck",
    tag = "postcheck",
    params(
        ("project_id" = String, Path, description = "Project ID (32 lowercase hex characters)"),
        ("cluster_id" = String, Path, description = "Cluster ID (UUID)"),
        ("Prefer" = Option<String>, Header, description = "`respond-async` to get 202 and the running task at once"),
    ),
    request_body = PostCheckRequest,
    responses(
        (status = 200, description = "The check ended (phase Success, Failed or Error)", body = PostCheckTask),
        (status = 202, description = "The check is running (Prefer: respond-async)", body = PostCheckTask),
        (status = 400, description = "Invalid request (CCE.01400001), content type (CCE.01400006), version (CCE.01400015)", body = ErrorBody),
        (status = 401, description = "Authorization failed", body = ErrorBody),
        (status = 403, description = "Another project's credential", body = ErrorBody),
        (status = 404, description = "The cluster is not registered", body = ErrorBody),
        (status = 413, description = "The body is too large", body = ErrorBody),
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
    let request = parse_postcheck(&body, &path.cluster)?;
    let cluster = registered_cluster(&state, &path).await?;
    throttle_checks(&state, path.project.as_str(), source.as_deref())?;
    let started = state.runner.start(&path.project, cluster, request.spec, request.check).await?;
    answer(&headers, &uri, started, task_document).await
}

/// The registered cluster of the path, or 404.
pub(super) async fn registered_cluster(
    state: &AppState,
    path: &ClusterPath,
) -> Result<postcheck_store::StoredCluster, ApiError> {
    state
        .store
        .get_cluster(path.project.as_str(), path.cluster.as_str())
        .await?
        .ok_or_else(|| ApiError::cluster_not_registered(&path.cluster))
}

/// The answer to a started check: with `Prefer: respond-async`, 202 with the task as
/// first stored and `Location` naming it (under the path the request came by, so an
/// Autopilot client is sent to Autopilot's path); else 200 with the finished task.
pub(super) async fn answer<S: TaskDocument, D: Serialize>(
    headers: &HeaderMap,
    uri: &Uri,
    started: StartedCheck<S>,
    document: fn(&StoredTask<S>) -> D,
) -> Result<Response, ApiError> {
    if wants_async(headers) {
        let location = format!("{}/tasks/{}", uri.path().trim_end_matches('/'), started.task.uid);
        let mut response = (StatusCode::ACCEPTED, Json(document(&started.task))).into_response();
        response
            .headers_mut()
            .insert("preference-applied", HeaderValue::from_static("respond-async"));
        if let Ok(v) = HeaderValue::from_str(&location) {
            response.headers_mut().insert(http::header::LOCATION, v);
        }
        return Ok(response);
    }
    let finished = started.outcome.await.map_err(|e| ApiError::internal("running the check", e))?;
    Ok((StatusCode::OK, Json(document(&finished))).into_response())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_respond_async_among_other_preferences() {
        let mut h = HeaderMap::new();
        assert!(!wants_async(&h));
        h.insert("prefer", HeaderValue::from_static("return=minimal, Respond-Async; wait=10"));
        assert!(wants_async(&h));
    }
}
