//! Making and finding credentials: API tokens and AK/SK pairs.
//!
//! A token is shown once and stored as its SHA-256; an SK is shown once and stored sealed
//! with the master key (the verifier needs it back to recompute signatures). The admin
//! commands make them; the [`authenticate`](super::authenticate) middleware finds them.

use chrono::Utc;
use postcheck_store::{Store, StoredAccessKey};

use crate::crypto::{self, MasterKey};
use crate::domain::ProjectId;
use crate::error::ApiError;

const ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
const UPPER_ALNUM: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Why a credential could not be made or read.
#[derive(Debug, thiserror::Error)]
pub enum CredentialError {
    /// The database refused.
    #[error("storing the credential: {0}")]
    Store(#[from] postcheck_store::StoreError),
    /// Randomness or encryption failed.
    #[error("protecting the credential: {0}")]
    Crypto(#[from] crypto::CryptoError),
}

/// A new access key pair; the SK is shown once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAccessKey {
    /// The project it acts for.
    pub project: ProjectId,
    /// The access key ID (AK).
    pub access_key: String,
    /// The secret key (SK).
    pub secret_key: String,
}

/// What a sealed SK is bound to.
fn secret_purpose(access_key: &str) -> String {
    format!("postcheck:access-key-secret:{access_key}")
}

/// Makes an API token for `project` and stores its hash. Returns the token.
pub async fn create_token(
    store: &dyn Store,
    project: &ProjectId,
) -> Result<String, CredentialError> {
    let token = format!("pct_{}", crypto::random_string(ALNUM, 48)?);
    store.create_token(&crypto::sha256_hex(token.as_bytes()), project.as_str(), Utc::now()).await?;
    Ok(token)
}

/// Makes an AK/SK pair for `project`, storing the SK sealed with `key`.
pub async fn create_access_key(
    store: &dyn Store,
    key: &MasterKey,
    project: &ProjectId,
) -> Result<NewAccessKey, CredentialError> {
    let access_key = crypto::random_string(UPPER_ALNUM, 20)?;
    let secret_key = crypto::random_string(ALNUM, 40)?;
    let encrypted_secret = key.seal(&secret_purpose(&access_key), secret_key.as_bytes())?;
    store
        .create_access_key(&StoredAccessKey {
            access_key: access_key.clone(),
            project_id: project.as_str().to_owned(),
            encrypted_secret,
            created_at: Utc::now(),
        })
        .await?;
    Ok(NewAccessKey { project: project.clone(), access_key, secret_key })
}

/// The project of a token, if it is one the service made.
pub async fn project_of_token(
    store: &dyn Store,
    token: &str,
) -> Result<Option<ProjectId>, ApiError> {
    project_of_token_hash(store, &crypto::sha256_hex(token.as_bytes())).await
}

/// The project of a token by its hash (hex SHA-256), if it is one the service made.
pub async fn project_of_token_hash(
    store: &dyn Store,
    token_hash: &str,
) -> Result<Option<ProjectId>, ApiError> {
    let found = store.find_token(token_hash).await?;
    Ok(found.and_then(|p| ProjectId::parse(&p).ok()))
}

/// The project and the SK of an access key, if it is one the service made.
pub async fn secret_of_access_key(
    store: &dyn Store,
    key: &MasterKey,
    access_key: &str,
) -> Result<Option<(ProjectId, String)>, ApiError> {
    let Some(stored) = store.find_access_key(access_key).await? else { return Ok(None) };
    let secret = key
        .open(&secret_purpose(access_key), &stored.encrypted_secret)
        .map_err(|e| ApiError::internal("reading an access key", e))?;
    let secret =
        String::from_utf8(secret).map_err(|e| ApiError::internal("reading an access key", e))?;
    Ok(ProjectId::parse(&stored.project_id).ok().map(|p| (p, secret)))
}
