//! Choosing and opening a backend from a database URL, where the default database lives,
//! and how a URL is shown in errors and logs (never with its password).

use std::path::PathBuf;
use std::sync::Arc;

use crate::{PgStore, SqliteStore, Store, StoreError};

/// The backend a database URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Backend {
    /// `sqlite:PATH`, `sqlite://PATH`, `sqlite::memory:` or a plain file path.
    Sqlite,
    /// `postgres://...` or `postgresql://...`.
    Postgres,
}

/// Which backend `url` names; `None` for a scheme neither backend speaks.
pub(crate) fn backend_of(url: &str) -> Option<Backend> {
    if url.starts_with("sqlite:") {
        Some(Backend::Sqlite)
    } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Some(Backend::Postgres)
    } else if url.contains("://") {
        None
    } else {
        Some(Backend::Sqlite)
    }
}

/// Opens the service's store from the database URL, applying its migrations:
/// `sqlite:PATH`, `sqlite://PATH` (or a plain file path) for SQLite, `postgres://` or
/// `postgresql://` for PostgreSQL (its pool's connections opened at start and kept).
pub async fn open(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_as(database_url, PgStore::connect(database_url)).await
}

/// As [`open`], for a command that runs a few queries and exits (`token`, `cluster`): a
/// PostgreSQL pool opens connections only as the command's queries ask for them.
pub async fn open_for_command(database_url: &str) -> Result<Arc<dyn Store>, StoreError> {
    open_as(database_url, PgStore::connect_for_command(database_url)).await
}

/// The store `database_url` names, PostgreSQL's connected by `postgres` (not awaited for
/// another backend).
async fn open_as(
    database_url: &str,
    postgres: impl std::future::Future<Output = Result<PgStore, StoreError>>,
) -> Result<Arc<dyn Store>, StoreError> {
    match backend_of(database_url) {
        Some(Backend::Sqlite) => Ok(Arc::new(SqliteStore::open(database_url).await?)),
        Some(Backend::Postgres) => Ok(Arc::new(postgres.await?)),
        None => Err(StoreError::Open {
            url: redact_url(database_url),
            source: sqlx::Error::Configuration(
                "unsupported database URL: use sqlite:PATH, sqlite://PATH, postgres:// or postgresql://".into(),
            ),
        }),
    }
}

/// Where the service keeps its SQLite database by default:
/// `$XDG_DATA_HOME/postcheck/postcheck.db`, else `~/.local/share/postcheck/postcheck.db`.
pub fn default_sqlite_path() -> PathBuf {
    let data = std::env::var_os("XDG_DATA_HOME")
        .map(PathBuf::from)
        .filter(|p| p.is_absolute())
        .or_else(|| dirs::home_dir().map(|home| home.join(".local").join("share")))
        .unwrap_or_else(|| PathBuf::from("."));
    data.join("postcheck").join("postcheck.db")
}

/// `url` fit to show: the password of its user info, and any `password=` query
/// parameter, replaced by `***`.
pub fn redact_url(url: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let mut out = match base.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find('/').unwrap_or(rest.len());
            let (authority, path) = rest.split_at(authority_end);
            match authority.rsplit_once('@') {
                Some((userinfo, host)) => {
                    let user = userinfo.split_once(':').map_or(userinfo, |(user, _password)| user);
                    let hidden = if userinfo.contains(':') { ":***" } else { "" };
                    format!("{scheme}://{user}{hidden}@{host}{path}")
                }
                None => base.to_owned(),
            }
        }
        None => base.to_owned(),
    };
    if let Some(query) = query {
        let params: Vec<String> = query
            .split('&')
            .map(|param| match param.split_once('=') {
                Some((key, _)) if key.eq_ignore_ascii_case("password") => format!("{key}=***"),
                _ => param.to_owned(),
            })
            .collect();
        out.push('?');
        out.push_str(&params.join("&"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_url_scheme_picks_the_backend() {
        assert_eq!(backend_of("sqlite:/var/lib/postcheck.db"), Some(Backend::Sqlite));
        assert_eq!(backend_of("sqlite:///var/lib/postcheck.db"), Some(Backend::Sqlite));
        assert_eq!(backend_of("sqlite::memory:"), Some(Backend::Sqlite));
        assert_eq!(backend_of("./postcheck.db"), Some(Backend::Sqlite));
        assert_eq!(backend_of("postgres://u@db/postcheck"), Some(Backend::Postgres));
        assert_eq!(backend_of("postgresql://u@db/postcheck"), Some(Backend::Postgres));
        assert_eq!(backend_of("mysql://u@db/postcheck"), None);
    }

    #[test]
    fn passwords_never_reach_error_text() {
        assert_eq!(
            redact_url("postgres://app:s3cret@db:5432/postcheck"),
            "postgres://app:***@db:5432/postcheck"
        );
        assert_eq!(
            redact_url("postgresql://app@db/postcheck?sslmode=require&password=s3cret"),
            "postgresql://app@db/postcheck?sslmode=require&password=***"
        );
        assert_eq!(redact_url("postgres://a:b:c@d@host/x"), "postgres://a:***@host/x");
        assert_eq!(redact_url("sqlite:/tmp/a.db"), "sqlite:/tmp/a.db");
        assert_eq!(redact_url("postgres://db/postcheck"), "postgres://db/postcheck");
    }

    #[tokio::test]
    async fn an_unknown_scheme_is_refused_without_leaking_the_password() {
        let err = open("mysql://root:hunter2@db/x").await.err().expect("mysql is not a backend");
        let text = err.to_string();
        assert!(text.contains("mysql://root:***@db/x"), "{text}");
        assert!(!text.contains("hunter2"), "{text}");
    }

    #[test]
    fn the_default_database_lives_in_the_xdg_data_folder() {
        let path = default_sqlite_path();
        assert!(path.ends_with("postcheck/postcheck.db"), "{}", path.display());
        if let Some(xdg) =
            std::env::var_os("XDG_DATA_HOME").filter(|p| PathBuf::from(p).is_absolute())
        {
            assert!(path.starts_with(xdg));
        } else if let Some(home) = dirs::home_dir() {
            assert_eq!(path, home.join(".local/share/postcheck/postcheck.db"));
        }
    }
}
