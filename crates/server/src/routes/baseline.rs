//! A registered cluster's baseline: the engine's Snapshot taken before an upgrade, against
//! which every later post-check compares (nodes' labels and taints, workloads that were
//! available, services that had endpoints, restart counts).
//!
//! `POST` takes one now from the registered cluster; `PUT` stores one made elsewhere
//! (`postcheck baseline -o FILE`); `GET` returns the stored one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use postcheck_engine::Snapshot;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ClusterPath;
use crate::clusters::credentials_of;
use crate::error::{ApiError, ErrorBody};
use crate::state::AppState;
use crate::validation::require_json;

/// What the API says about a stored baseline.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaselineView {
    /// Always `Baseline`.
    pub kind: String,
    /// Always `v3`.
    pub api_version: String,
    /// The cluster it belongs to.
    #[serde(rename = "clusterID")]
    pub cluster_id: String,
    /// When the Snapshot was taken.
    pub taken_at: DateTime<Utc>,
    /// The size of the stored Snapshot, in bytes.
    pub size_bytes: usize,
}

fn view(path: &ClusterPath, snapshot: &Snapshot, size: usize) -> BaselineView {
    BaselineView {
        kind: "Baseline".into(),
        api_version: "v3".into(),
        cluster_id: path.cluster.to_string(),
        taken_at: snapshot.taken_at,
        size_bytes: size,
    }
}

async fn registered(
    state: &AppState,
    path: &ClusterPath,
) -> Result<postcheck_store::StoredCluster, ApiError> {
    state
        .store
        .get_cluster(path.project.as_str(), path.cluster.as_str())
        .await?
        .ok_or_else(|| ApiError::cluster_not_registered(&path.cluster))
}

/// Take a baseline of a registered cluster now (before an upgrade).
#[utoipa::path(
    post,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/baseline",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID"), ("cluster_id" = String, Path, description = "Cluster ID")),
    responses(
        (status = 201, description = "Taken and stored", body = BaselineView),
        (status = 404, description = "Not registered in this project", body = ErrorBody),
        (status = 503, description = "The cluster could not be examined (CCE.01503001)", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn take(
    State(state): State<AppState>,
    path: ClusterPath,
) -> Result<(StatusCode, Json<BaselineView>), ApiError> {
    let cluster = registered(&state, &path).await?;
    let credentials = credentials_of(&state.key, &cluster).map_err(ApiError::Unavailable)?;
    let client = credentials
        .client()
        .await
        .map_err(|e| ApiError::Unavailable(format!("The cluster could not be reached: {e}.")))?;
    let deadline = state.runner.check_deadline();
    let snapshot = postcheck_engine::take_baseline(&client, deadline, &())
        .await
        .map_err(|e| ApiError::Unavailable(format!("The cluster could not be examined: {e}.")))?;
    store(&state, &path, &snapshot).await.map(|v| (StatusCode::CREATED, Json(v)))
}

/// Store a baseline made elsewhere (`postcheck baseline -o FILE`), replacing any.
#[utoipa::path(
    put,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/baseline",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID"), ("cluster_id" = String, Path, description = "Cluster ID")),
    request_body(content = String, description = "The Snapshot JSON written by `postcheck baseline`", content_type = "application/json"),
    responses(
        (status = 200, description = "Stored", body = BaselineView),
        (status = 400, description = "Not a Snapshot", body = ErrorBody),
        (status = 404, description = "Not registered in this project", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn put(
    State(state): State<AppState>,
    path: ClusterPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Json<BaselineView>, ApiError> {
    require_json(&headers)?;
    registered(&state, &path).await?;
    let snapshot: Snapshot = serde_json::from_slice(&body).map_err(|e| {
        ApiError::InvalidRequest(format!("The body is not a postcheck Snapshot: {e}."))
    })?;
    store(&state, &path, &snapshot).await.map(Json)
}

/// Read the stored baseline (the Snapshot JSON).
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}/baseline",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID"), ("cluster_id" = String, Path, description = "Cluster ID")),
    responses(
        (status = 200, description = "The Snapshot JSON", content_type = "application/json"),
        (status = 404, description = "No baseline, or not registered", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn get(State(state): State<AppState>, path: ClusterPath) -> Result<Response, ApiError> {
    let bytes =
        state.store.get_baseline(path.project.as_str(), path.cluster.as_str()).await?.ok_or_else(
            || ApiError::NotFound(format!("Cluster {} has no baseline.", path.cluster)),
        )?;
    Ok(([(http::header::CONTENT_TYPE, "application/json")], bytes).into_response())
}

async fn store(
    state: &AppState,
    path: &ClusterPath,
    snapshot: &Snapshot,
) -> Result<BaselineView, ApiError> {
    let bytes =
        serde_json::to_vec(snapshot).map_err(|e| ApiError::internal("encoding a baseline", e))?;
    state.store.put_baseline(path.project.as_str(), path.cluster.as_str(), &bytes).await?;
    tracing::info!(cluster = %path.cluster, bytes = bytes.len(), "baseline stored");
    Ok(view(path, snapshot, bytes.len()))
}
