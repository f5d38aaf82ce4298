//! Credentials are remembered for a short time (`credential_cache_ttl`), and a token or
//! access key removed from the database stops working within that time: on PostgreSQL,
//! where several replicas share the credentials and a removal can come from any of them.

use std::time::Duration;

use postcheck_server::auth::credentials;
use postcheck_server::domain::ProjectId;
use sqlx::Connection as _;

use crate::helpers::*;
use crate::replicas::fresh_postgres_database;

fn clusters_path() -> String {
    format!("/api/v3/projects/{PROJECT}/clusters")
}

/// Runs `statement` on `database` as an operator (or another replica) would.
async fn execute(database: &str, statement: &str) {
    let mut connection = sqlx::PgConnection::connect(database).await.expect("connecting");
    let done = sqlx::query(statement).execute(&mut connection).await.expect(statement);
    assert_eq!(done.rows_affected(), 1, "{statement}");
}

/// GETs the clusters with a signed request of `access_key`.
async fn signed_get(app: &TestApp, access_key: &str, secret_key: &str) -> reqwest::Response {
    let url = app.url(&clusters_path());
    let headers = sdk_signed_headers(access_key, secret_key, "GET", &url, b"");
    app.http.get(&url).headers(headers).send().await.unwrap()
}

#[tokio::test]
#[ignore = "needs PostgreSQL; scripts/test runs it"]
async fn a_removed_token_or_access_key_stops_working_within_the_cache_ttl() {
    let ttl = Duration::from_secs(1);
    let database = fresh_postgres_database().await;
    let app = spawn_on(&database, |c| c.credential_cache_ttl = ttl).await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    // Both work, and are now remembered.
    assert_eq!(app.get(&clusters_path()).await.status(), 200);
    let signed = signed_get(&app, &pair.access_key, &pair.secret_key).await;
    assert_eq!(signed.status(), 200, "{}", signed.text().await.unwrap());

    let hash = postcheck_server::crypto::sha256_hex(app.token.as_bytes());
    execute(&database, &format!("DELETE FROM tokens WHERE token_hash = '{hash}'")).await;
    execute(
        &database,
        &format!("DELETE FROM access_keys WHERE access_key = '{}'", pair.access_key),
    )
    .await;
    tokio::time::sleep(ttl + Duration::from_millis(200)).await;

    assert_cce_error(app.get(&clusters_path()).await, 401, "CCE.01401001").await;
    assert_cce_error(
        signed_get(&app, &pair.access_key, &pair.secret_key).await,
        401,
        "CCE.01401001",
    )
    .await;
}

#[tokio::test]
#[ignore = "needs PostgreSQL; scripts/test runs it"]
async fn a_credential_found_once_is_not_looked_up_again_within_the_ttl() {
    // A TTL far longer than the test: what the service answers after the removal comes from
    // its memory, not from the database.
    let database = fresh_postgres_database().await;
    let app = spawn_on(&database, |c| c.credential_cache_ttl = Duration::from_secs(600)).await;
    assert_eq!(app.get(&clusters_path()).await.status(), 200);
    let hash = postcheck_server::crypto::sha256_hex(app.token.as_bytes());
    execute(&database, &format!("DELETE FROM tokens WHERE token_hash = '{hash}'")).await;
    assert_eq!(app.get(&clusters_path()).await.status(), 200, "answered from the cache");

    // With the cache off, the removal counts at once.
    let uncached = spawn_on(&database, |c| c.credential_cache_ttl = Duration::ZERO).await;
    assert_eq!(uncached.get(&clusters_path()).await.status(), 200);
    let hash = postcheck_server::crypto::sha256_hex(uncached.token.as_bytes());
    execute(&database, &format!("DELETE FROM tokens WHERE token_hash = '{hash}'")).await;
    assert_cce_error(uncached.get(&clusters_path()).await, 401, "CCE.01401001").await;
}
