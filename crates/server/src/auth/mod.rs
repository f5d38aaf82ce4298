//! Who is calling, and may they touch this project?
//!
//! Two kinds of credential, both bound to one project:
//!
//! - `X-Auth-Token`: a random token made by `postcheck token create`, stored as its SHA-256.
//! - AK/SK: `Authorization: SDK-HMAC-SHA256 ...` as the official SDKs sign by default
//!   ([`signer`]); the SK is stored encrypted with the master key.
//!
//! [`identify`] verifies the credential of a request whose body is already buffered (the
//! signature covers it); the middleware in front of every API route
//! (`routes::middleware::authenticate`) calls it, throttles failures and refuses a path of
//! another project with 403. Credentials found are remembered for a few seconds
//! ([`cache`]), so a busy client costs no database round trip per request.

pub mod cache;
pub mod credentials;
pub mod signer;

use std::time::Instant;

use chrono::Utc;
use postcheck_store::Store;

use self::cache::{CredentialCache, Resolved};
use crate::crypto::MasterKey;
use crate::domain::ProjectId;
use crate::error::ApiError;

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

/// Who sent this request, by its credential: the API token or the SDK signature's
/// access key. An error when the credential is missing or does not verify; one answer for
/// an unknown access key and a wrong signature. A credential found in `cache` (found in
/// the store less than its TTL ago) is not looked up again.
pub async fn identify(
    store: &dyn Store,
    cache: &CredentialCache,
    key: &MasterKey,
    parts: &http::request::Parts,
    body: &[u8],
) -> Result<Caller, ApiError> {
    if let Some(token) = parts.headers.get(TOKEN_HEADER) {
        let token =
            token.to_str().map_err(|_| ApiError::Unauthorized("The token is not valid.".into()))?;
        let token_hash = crate::crypto::sha256_hex(token.trim().as_bytes());
        let cache_key = format!("token:{token_hash}");
        if let Some(Resolved::Token(project)) = cache.get(&cache_key, Instant::now()) {
            return Ok(Caller { project, method: AuthMethod::Token });
        }
        let project = credentials::project_of_token_hash(store, &token_hash)
            .await?
            .ok_or_else(|| ApiError::Unauthorized("The token is not valid.".into()))?;
        cache.put(cache_key, Resolved::Token(project.clone()), Instant::now());
        return Ok(Caller { project, method: AuthMethod::Token });
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
    let request = signer::RequestParts {
        method: parts.method.as_str(),
        path: parts.uri.path(),
        query: parts.uri.query(),
        headers: &parts.headers,
        body,
    };
    let refused = |e: signer::SignatureError| {
        tracing::info!(reason = %e, "refused a signed request");
        ApiError::Unauthorized(format!("{e}."))
    };
    // Everything that needs no key first, so an unknown key cannot answer differently.
    signer::check_request(&auth, &request, Utc::now()).map_err(refused)?;
    let cache_key = format!("ak:{}", auth.access_key);
    let found = match cache.get(&cache_key, Instant::now()) {
        Some(Resolved::AccessKey(project, secret)) => Some((project, secret)),
        _ => {
            let found = credentials::secret_of_access_key(store, key, &auth.access_key).await?;
            if let Some((project, secret)) = &found {
                let resolved = Resolved::AccessKey(project.clone(), secret.clone());
                cache.put(cache_key, resolved, Instant::now());
            }
            found
        }
    };
    match found {
        Some((project, secret)) => {
            signer::verify_signature(&auth, secret.as_bytes(), &request).map_err(refused)?;
            Ok(Caller { project, method: AuthMethod::AccessKey(auth.access_key) })
        }
        None => {
            // The same work as a known key, then the same answer as a wrong signature.
            let _ = signer::verify_signature(&auth, UNKNOWN_KEY_SECRET, &request);
            Err(refused(signer::SignatureError::Mismatch))
        }
    }
}

/// What an unknown access key is "verified" with, to take as long as a known one.
const UNKNOWN_KEY_SECRET: &[u8] = b"postcheck-unknown-access-key-0000000000";

/// The credential a request presents, as a throttling key (a token's hash, never the
/// token; an access key ID), if it presents one.
pub fn credential_key(headers: &http::HeaderMap) -> Option<String> {
    if let Some(token) = headers.get(TOKEN_HEADER) {
        return Some(format!("token:{}", &crate::crypto::sha256_hex(token.as_bytes())[..16]));
    }
    let value = headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    signer::Authorization::parse(value).ok().map(|a| format!("ak:{}", a.access_key))
}

/// The `{project_id}` of an `/api/v3/projects/{project_id}/...` path.
pub fn project_in_path(path: &str) -> Option<&str> {
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
