//! Who is calling, and may they touch this project?
//!
//! Two kinds of credential, both bound to one project:
//!
//! - `X-Auth-Token`: a random token made by `postcheck token create`, stored as its SHA-256.
//! - AK/SK: `Authorization: SDK-HMAC-SHA256 ...` as the official SDKs sign by default
//!   ([`signer`]); the SK is stored encrypted with the master key.
//!
//! [`authenticate`] is the middleware in front of every API route: it buffers the body
//! (refusing one over the limit with 413, since the signature covers it), verifies the
//! credential, refuses a path of another project with 403, and hands the handler a
//! [`Caller`].

pub mod credentials;
pub mod signer;

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use chrono::Utc;

use crate::domain::ProjectId;
use crate::error::ApiError;
use crate::state::AppState;

/// The header carrying an API token.
pub const TOKEN_HEADER: &str = "x-auth-token";

/// An authenticated caller.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Caller {
    /// The project the credential acts for.
    pub project: ProjectId,
    /// How the caller authenticated.
    pub method: AuthMethod,
}

/// How a caller authenticated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuthMethod {
    /// `X-Auth-Token`.
    Token,
    /// An SDK-HMAC-SHA256 signature by this access key.
    AccessKey(String),
}

/// The middleware: body limit, authentication, tenancy. See the module documentation.
pub async fn authenticate(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let limit = state.limits.max_body_bytes;
    let (mut parts, body) = request.into_parts();
    let declared = parts
        .headers
        .get(http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return ApiError::PayloadTooLarge(limit).into_response();
    }
    let body: Bytes = match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => bytes,
        Err(_) => return ApiError::PayloadTooLarge(limit).into_response(),
    };
    let caller = match identify(&state, &parts, &body).await {
        Ok(caller) => caller,
        Err(e) => return e.into_response(),
    };
    if let Some(path_project) = project_in_path(parts.uri.path())
        && path_project != caller.project.as_str()
    {
        tracing::info!(caller_project = %caller.project, "refused: a credential of another project");
        return ApiError::Forbidden("The credential does not belong to this project.".into())
            .into_response();
    }
    parts.extensions.insert(caller);
    next.run(Request::from_parts(parts, Body::from(body))).await
}

async fn identify(
    state: &AppState,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Caller, ApiError> {
    if let Some(token) = parts.headers.get(TOKEN_HEADER) {
        let token =
            token.to_str().map_err(|_| ApiError::Unauthorized("The token is not valid.".into()))?;
        return credentials::project_of_token(state.store.as_ref(), token.trim())
            .await?
            .map(|project| Caller { project, method: AuthMethod::Token })
            .ok_or_else(|| ApiError::Unauthorized("The token is not valid.".into()));
    }
    let Some(authorization) = parts.headers.get(http::header::AUTHORIZATION) else {
        return Err(ApiError::Unauthorized(
            "Send X-Auth-Token, or sign the request with an AK/SK (SDK-HMAC-SHA256).".into(),
        ));
    };
    let authorization = authorization
        .to_str()
        .map_err(|_| ApiError::Unauthorized("The Authorization header is not readable.".into()))?;
    let auth = signer::Authorization::parse(authorization)
        .map_err(|e| ApiError::Unauthorized(format!("{e}.")))?;
    let Some((project, secret)) =
        credentials::secret_of_access_key(state.store.as_ref(), &state.key, &auth.access_key)
            .await?
    else {
        return Err(ApiError::Unauthorized("The access key is not valid.".into()));
    };
    let request = signer::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    signer::verify(&auth, secret.as_bytes(), &request, Utc::now()).map_err(|e| {
        tracing::info!(access_key = %auth.access_key, reason = %e, "refused a signed request");
        ApiError::Unauthorized(format!("{e}."))
    })?;
    Ok(Caller { project, method: AuthMethod::AccessKey(auth.access_key) })
}

/// The `{project_id}` of an `/api/v3/projects/{project_id}/...` path.
fn project_in_path(path: &str) -> Option<&str> {
    path.strip_prefix("/api/v3/projects/").map(|rest| rest.split('/').next().unwrap_or(rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_project_of_an_api_path() {
        assert_eq!(project_in_path("/api/v3/projects/abc/clusters"), Some("abc"));
        assert_eq!(project_in_path("/api/v3/projects/abc"), Some("abc"));
        assert_eq!(project_in_path("/healthz"), None);
    }
}
