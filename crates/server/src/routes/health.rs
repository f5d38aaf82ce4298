//! The routes that need no credentials: liveness, readiness, metrics, the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;

use crate::state::AppState;

/// Liveness: the process answers.
pub async fn healthz() -> &'static str {
    "ok\n"
}

/// Readiness: the database answers.
pub async fn readyz(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(
        std::time::Duration::from_secs(5),
        state.store.find_token("readiness-probe"),
    )
    .await
    {
        Ok(Ok(_)) => (StatusCode::OK, "ready\n"),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready: the database did not answer");
            (StatusCode::SERVICE_UNAVAILABLE, "the database is not reachable\n")
        }
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "the database did not answer in time\n"),
    }
}

/// Prometheus metrics, text exposition format.
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8")], state.metrics.render())
}

/// The OpenAPI document, generated from the code.
pub async fn openapi() -> Json<utoipa::openapi::OpenApi> {
    Json(crate::openapi::document())
}
