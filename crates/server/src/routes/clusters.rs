//! The clusters a project may check: register (`POST`), read, list, remove.
//! Responses show the cluster's ID, name and endpoint; never its credentials.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};

use super::{ClusterPath, ProjectPath};
use crate::error::{ApiError, ErrorBody};
use crate::registry::{self, ClusterList, ClusterRegistration, ClusterView};
use crate::state::AppState;
use crate::validation::require_json;

/// Register a cluster: a kubeconfig (and context), or endpoint, CA and token.
#[utoipa::path(
    post,
    path = "/api/v3/projects/{project_id}/clusters",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID")),
    request_body = ClusterRegistration,
    responses(
        (status = 201, description = "Registered", body = ClusterView),
        (status = 400, description = "Invalid registration: a refused kubeconfig field (named), an endpoint the policy refuses, a URL with user info or a query", body = ErrorBody),
        (status = 403, description = "The project has as many clusters as it may (CCE.01403002)", body = ErrorBody),
        (status = 409, description = "The project has this cluster already", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn create(
    State(state): State<AppState>,
    path: ProjectPath,
    headers: HeaderMap,
    body: Bytes,
) -> Result<(StatusCode, Json<ClusterView>), ApiError> {
    require_json(&headers)?;
    let registration: ClusterRegistration = serde_json::from_slice(&body).map_err(|e| {
        ApiError::InvalidRequest(format!("The body is not a valid cluster registration: {e}."))
    })?;
    let stored = registry::register(
        state.store.as_ref(),
        &state.key,
        &state.registration,
        &path.project,
        registration,
    )
    .await?;
    tracing::info!(cluster = %stored.cluster_id, endpoint = %stored.endpoint, "cluster registered");
    Ok((StatusCode::CREATED, Json(ClusterView::from(&stored))))
}

/// List a project's registered clusters.
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID")),
    responses((status = 200, description = "The project's clusters", body = ClusterList)),
    security(("token" = []), ("aksk" = []))
)]
pub async fn list(
    State(state): State<AppState>,
    path: ProjectPath,
) -> Result<Json<ClusterList>, ApiError> {
    let clusters = state.store.list_clusters(Some(path.project.as_str())).await?;
    Ok(Json(ClusterList::of(&clusters)))
}

/// Read a registered cluster.
#[utoipa::path(
    get,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID"), ("cluster_id" = String, Path, description = "Cluster ID")),
    responses(
        (status = 200, description = "The cluster", body = ClusterView),
        (status = 404, description = "Not registered in this project", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn get(
    State(state): State<AppState>,
    path: ClusterPath,
) -> Result<Json<ClusterView>, ApiError> {
    let cluster = state
        .store
        .get_cluster(path.project.as_str(), path.cluster.as_str())
        .await?
        .ok_or_else(|| ApiError::cluster_not_registered(&path.cluster))?;
    Ok(Json(ClusterView::from(&cluster)))
}

/// Remove a registered cluster (its tasks stay readable).
#[utoipa::path(
    delete,
    path = "/api/v3/projects/{project_id}/clusters/{cluster_id}",
    tag = "clusters",
    params(("project_id" = String, Path, description = "Project ID"), ("cluster_id" = String, Path, description = "Cluster ID")),
    responses(
        (status = 200, description = "The cluster as it was", body = ClusterView),
        (status = 404, description = "Not registered in this project", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn delete(
    State(state): State<AppState>,
    path: ClusterPath,
) -> Result<Json<ClusterView>, ApiError> {
    let not_found = || ApiError::cluster_not_registered(&path.cluster);
    let cluster = state
        .store
        .get_cluster(path.project.as_str(), path.cluster.as_str())
        .await?
        .ok_or_else(not_found)?;
    if !state.store.delete_cluster(path.project.as_str(), path.cluster.as_str()).await? {
        return Err(not_found());
    }
    Ok(Json(ClusterView::from(&cluster)))
}
