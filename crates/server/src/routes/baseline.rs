//! A registered cluster's baseline: the engine's Snapshot taken before an upgrade, against
//! which every later post-check compares (nodes' labels and taints, workloads that were
//! available, services that had endpoints, restart counts).
//!
//! `POST` takes one now from the registered cluster, holding the cluster's lock as a check
//! does (a second one at the same time gets 429); `PUT` stores one made elsewhere
//! (`postcheck baseline -o FILE`); `GET` returns the stored one. A pre-check records one
//! too (`routes::precheck`); there is one baseline per cluster, the latest of these.

use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use chrono::{DateTime, Utc};
use postcheck_engine::Snapshot;
use postcheck_model::BaselineSource;
use postcheck_store::StoredBaseline;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::ClusterPath;
use super::middleware::throttle_checks;
use crate::domain::TaskId;
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
    /// Where it came from: `Stored` (by hand) here; `PreCheck` for a pre-check's.
    pub source: BaselineSource,
}

fn view(path: &ClusterPath, snapshot: &Snapshot, size: usize) -> BaselineView {
    BaselineView {
        kind: "Baseline".into(),
        api_version: "v3".into(),
        cluster_id: path.cluster.to_string(),
        taken_at: snapshot.taken_at,
        size_bytes: size,
        source: BaselineSource::Stored,
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
        (status = 429, description = "A check or baseline of this cluster is running (CCE.01429002), or too many started (CCE.02429001)", body = ErrorBody),
        (status = 503, description = "The cluster could not be examined (CCE.01503001)", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn take(
    State(state): State<AppState>,
    path: ClusterPath,
    source: Option<Extension<ConnectInfo<SocketAddr>>>,
) -> Result<(StatusCode, Json<BaselineView>), ApiError> {
    let cluster = registered(&state, &path).await?;
    throttle_checks(&state, path.project.as_str(), source.as_deref())?;
    let deadline = state.runner.check_deadline();
    // The lock lasts the whole deadline: nothing renews it, and it is freed at the end.
    let holder = format!("baseline-{}", TaskId::random());
    let until = chrono::Utc::now()
        + chrono::Duration::from_std(deadline + state.runner.lease_ttl())
            .unwrap_or(chrono::Duration::MAX);
    let (project, cluster_id) = (path.project.as_str(), path.cluster.as_str());
    if !state.store.try_lock_cluster(project, cluster_id, &holder, until).await? {
        return Err(ApiError::Locked(format!(
            "A post-check or baseline of cluster {} is running.",
            path.cluster
        )));
    }
    let taken = take_locked(&state, &cluster, deadline).await;
    if let Err(e) = state.store.unlock_cluster(project, cluster_id, &holder).await {
        tracing::error!(cluster = %path.cluster, error = %e, "freeing the cluster lock of a baseline");
    }
    let snapshot = taken?;
    store(&state, &path, &snapshot).await.map(|v| (StatusCode::CREATED, Json(v)))
}

async fn take_locked(
    state: &AppState,
    cluster: &postcheck_store::StoredCluster,
    deadline: std::time::Duration,
) -> Result<Snapshot, ApiError> {
    let taking = async {
        let client = state.runner.connector().connect(cluster).await.map_err(|e| {
            ApiError::Unavailable(format!("The cluster could not be examined: {e}."))
        })?;
        postcheck_engine::take_baseline(&client, deadline, &())
            .await
            .map_err(|e| ApiError::Unavailable(format!("The cluster could not be examined: {e}.")))
    };
    tokio::time::timeout(deadline + std::time::Duration::from_secs(1), taking).await.map_err(
        |_| {
            ApiError::Unavailable(format!(
                "The baseline did not finish within the service's deadline of {}s.",
                deadline.as_secs()
            ))
        },
    )?
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
        (status = 200, description = "The Snapshot JSON; X-Baseline-Source says Stored or PreCheck, X-Baseline-Precheck-Task names the pre-check", content_type = "application/json"),
        (status = 404, description = "No baseline, or not registered", body = ErrorBody),
    ),
    security(("token" = []), ("aksk" = []))
)]
pub async fn get(State(state): State<AppState>, path: ClusterPath) -> Result<Response, ApiError> {
    let baseline =
        state.store.get_baseline(path.project.as_str(), path.cluster.as_str()).await?.ok_or_else(
            || ApiError::NotFound(format!("Cluster {} has no baseline.", path.cluster)),
        )?;
    let source = if baseline.precheck_task.is_some() { "PreCheck" } else { "Stored" };
    let mut response = ([(http::header::CONTENT_TYPE, "application/json")], baseline.snapshot_json)
        .into_response();
    response.headers_mut().insert("x-baseline-source", http::HeaderValue::from_static(source));
    if let Some(v) = baseline.precheck_task.and_then(|t| http::HeaderValue::from_str(&t).ok()) {
        response.headers_mut().insert("x-baseline-precheck-task", v);
    }
    Ok(response)
}

async fn store(
    state: &AppState,
    path: &ClusterPath,
    snapshot: &Snapshot,
) -> Result<BaselineView, ApiError> {
    let bytes =
        serde_json::to_vec(snapshot).map_err(|e| ApiError::internal("encoding a baseline", e))?;
    let size = bytes.len();
    let baseline =
        StoredBaseline { snapshot_json: bytes, taken_at: snapshot.taken_at, precheck_task: None };
    state.store.put_baseline(path.project.as_str(), path.cluster.as_str(), &baseline).await?;
    tracing::info!(cluster = %path.cluster, bytes = size, "baseline stored");
    Ok(view(path, snapshot, size))
}
