//! The middlewares every request passes, outermost first:
//!
//! - [`cce_errors`]: an error answer that does not come from a handler (a framework's
//!   404, 405, 413...) gets CCE's JSON body, so the official SDKs raise
//!   `ClientRequestException` instead of failing to decode it.
//! - [`limit_in_flight`]: past the cap of requests in flight, 503 at once.
//! - [`track`]: counts and times every request into [`crate::metrics`] (closed labels).
//! - [`authenticate`] (API routes only): content type, body limit and timeout,
//!   throttled authentication, tenancy.

use std::net::SocketAddr;
use std::time::Instant;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http::header::CONTENT_TYPE;

use crate::auth::{self, credential_key};
use crate::error::ApiError;
use crate::state::AppState;
use crate::throttle::retry_after_secs;
use crate::validation::require_json;

/// Rewrites an error answer without a JSON body into CCE's error body for its status.
pub async fn cce_errors(request: Request, next: Next) -> Response {
    let response = next.run(request).await;
    let status = response.status();
    let is_json = response
        .headers()
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    if !(status.is_client_error() || status.is_server_error()) || is_json {
        return response;
    }
    let mut rewritten = ApiError::for_status(status).into_response();
    *rewritten.status_mut() = status;
    for (name, value) in response.headers() {
        if name != CONTENT_TYPE && name != http::header::CONTENT_LENGTH {
            rewritten.headers_mut().insert(name.clone(), value.clone());
        }
    }
    rewritten
}

/// Answers 503 at once when as many requests as allowed are in flight.
pub async fn limit_in_flight(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    match state.in_flight.clone().try_acquire_owned() {
        Ok(permit) => {
            let response = next.run(request).await;
            drop(permit);
            response
        }
        Err(_) => {
            tracing::warn!("refused a request: as many requests as allowed are in flight");
            ApiError::ServiceUnavailable("The service is at capacity; retry later.".into())
                .into_response()
        }
    }
}

/// Times and counts every request, by normalised method, route template and status.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let route = request.extensions().get::<MatchedPath>().map(|p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe_request(
        &method,
        route.as_deref(),
        response.status().as_u16(),
        started.elapsed(),
    );
    response
}

/// The source address of a request (set by the listener), as a throttling key.
fn source_key(request: &Request) -> Option<String> {
    request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(addr)| format!("addr:{}", addr.ip()))
}

/// The API routes' guard: a body is JSON (400 CCE.01400006 otherwise, before anything
/// else), within the size limit (413) and time limit (408); the credential verifies (401;
/// failures are throttled per source address and per credential, 429 CCE.02429001); the
/// path's project is the credential's (403). The handler gets an [`auth::Caller`].
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    match guard(&state, request).await {
        Ok(request) => next.run(request).await,
        Err(e) => e.into_response(),
    }
}

async fn guard(state: &AppState, request: Request) -> Result<Request, ApiError> {
    let limits = state.limits;
    let keys: Vec<String> =
        source_key(&request).into_iter().chain(credential_key(request.headers())).collect();
    for key in &keys {
        if let Err(wait) = state.throttles.auth_failures.check(key) {
            return Err(ApiError::Throttled {
                message: "Too many failed authentications; retry later.".into(),
                retry_after: retry_after_secs(wait),
            });
        }
    }
    let (mut parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    let has_body = declared.is_some_and(|n| n > 0)
        || parts.headers.contains_key(http::header::TRANSFER_ENCODING);
    if has_body {
        require_json(&parts.headers)?;
    }
    if declared.is_some_and(|n| n > limits.max_body_bytes as u64) {
        return Err(ApiError::PayloadTooLarge(limits.max_body_bytes));
    }
    let body: Bytes = match tokio::time::timeout(
        limits.body_read_timeout,
        axum::body::to_bytes(body, limits.max_body_bytes),
    )
    .await
    {
        Ok(Ok(bytes)) => bytes,
        Ok(Err(_)) => return Err(ApiError::PayloadTooLarge(limits.max_body_bytes)),
        Err(_) => return Err(ApiError::RequestTimeout(limits.body_read_timeout.as_secs())),
    };
    let caller =
        match auth::identify(state.store.as_ref(), &state.credentials, &state.key, &parts, &body)
            .await
        {
            Ok(caller) => caller,
            Err(e @ ApiError::Unauthorized(_)) => {
                for key in &keys {
                    let _ = state.throttles.auth_failures.take(key);
                }
                return Err(e);
            }
            Err(e) => return Err(e),
        };
    if let Some(path_project) = super::project_of_path(parts.uri.path())
        && path_project != caller.project.as_str()
    {
        tracing::info!(caller_project = %caller.project, "refused: a credential of another project");
        return Err(ApiError::Forbidden("The credential does not belong to this project.".into()));
    }
    parts.extensions.insert(caller);
    Ok(Request::from_parts(parts, Body::from(body)))
}

/// Takes a token of the check buckets for the caller's project and the source address:
/// a check or a baseline may start only when both have one.
pub fn throttle_checks(
    state: &AppState,
    project: &str,
    source: Option<&ConnectInfo<SocketAddr>>,
) -> Result<(), ApiError> {
    let mut keys = vec![format!("project:{project}")];
    if let Some(ConnectInfo(addr)) = source {
        keys.push(format!("addr:{}", addr.ip()));
    }
    for key in &keys {
        if let Err(wait) = state.throttles.checks.check(key) {
            return Err(ApiError::Throttled {
                message: "Too many checks started; retry later.".into(),
                retry_after: retry_after_secs(wait),
            });
        }
    }
    for key in &keys {
        let _ = state.throttles.checks.take(key);
    }
    Ok(())
}
