//! Authentication: tokens, AK/SK signatures as the SDKs make them, and what needs neither.

use postcheck_server::auth::credentials;
use postcheck_server::domain::ProjectId;

use crate::helpers::*;

fn clusters_path() -> String {
    format!("/api/v3/projects/{PROJECT}/clusters")
}

#[tokio::test]
async fn a_request_without_credentials_is_401() {
    let app = spawn_app().await;
    let response = app.http.get(app.url(&clusters_path())).send().await.unwrap();
    assert_cce_error(response, 401, "CCE.01401001").await;
}

#[tokio::test]
async fn an_unknown_token_is_401_and_a_made_one_is_accepted() {
    let app = spawn_app().await;
    let response = app
        .http
        .get(app.url(&clusters_path()))
        .header("X-Auth-Token", "pct_not-a-real-token")
        .send()
        .await
        .unwrap();
    assert_cce_error(response, 401, "CCE.01401001").await;
    let response = app.get(&clusters_path()).await;
    assert_eq!(response.status(), 200);
}

#[tokio::test]
async fn tokens_are_stored_hashed() {
    let app = spawn_app().await;
    let hash = postcheck_server::crypto::sha256_hex(app.token.as_bytes());
    assert_eq!(app.store.find_token(&hash).await.unwrap().as_deref(), Some(PROJECT));
    assert_eq!(
        app.store.find_token(&app.token).await.unwrap(),
        None,
        "the token itself is not a key of the store"
    );
}

#[tokio::test]
async fn a_request_signed_with_the_right_sk_is_accepted() {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    let url = app.url(&clusters_path());
    let headers = sdk_signed_headers(&pair.access_key, &pair.secret_key, "GET", &url, b"");
    let response = app.http.get(&url).headers(headers).send().await.unwrap();
    assert_eq!(response.status(), 200, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn a_signed_post_with_a_body_is_accepted_and_the_body_is_covered() {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    let url = app.url(&TestApp::postcheck_path(PROJECT, CLUSTER));
    let body = seed_request().to_string().into_bytes();
    let headers = sdk_signed_headers(&pair.access_key, &pair.secret_key, "POST", &url, &body);
    // Signed correctly: authenticated, then 404 (no such cluster registered).
    let response =
        app.http.post(&url).headers(headers.clone()).body(body.clone()).send().await.unwrap();
    assert_cce_error(response, 404, "CCE.01404001").await;
    // The same signature over another body: refused.
    let mut tampered = body.clone();
    tampered.push(b' ');
    let response = app.http.post(&url).headers(headers).body(tampered).send().await.unwrap();
    assert_cce_error(response, 401, "CCE.01401001").await;
}

#[tokio::test]
async fn a_wrong_sk_an_unknown_ak_and_a_stale_date_are_401() {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    let url = app.url(&clusters_path());
    let wrong_sk = sdk_signed_headers(&pair.access_key, "not-the-secret-key", "GET", &url, b"");
    assert_cce_error(
        app.http.get(&url).headers(wrong_sk).send().await.unwrap(),
        401,
        "CCE.01401001",
    )
    .await;
    let unknown_ak = sdk_signed_headers("AKUNKNOWN0000000000", &pair.secret_key, "GET", &url, b"");
    assert_cce_error(
        app.http.get(&url).headers(unknown_ak).send().await.unwrap(),
        401,
        "CCE.01401001",
    )
    .await;
    let mut stale = sdk_signed_headers(&pair.access_key, &pair.secret_key, "GET", &url, b"");
    stale.insert("x-sdk-date", "20200101T000000Z".parse().unwrap());
    let error = assert_cce_error(
        app.http.get(&url).headers(stale).send().await.unwrap(),
        401,
        "CCE.01401001",
    )
    .await;
    // The stale date also breaks the signature; either refusal is right, the status is what counts.
    assert!(error["errorMessage"].as_str().unwrap().contains("X-Sdk-Date"), "{error}");
}

#[tokio::test]
async fn secret_keys_are_stored_encrypted() {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    let stored = app.store.find_access_key(&pair.access_key).await.unwrap().unwrap();
    let sk = pair.secret_key.as_bytes();
    assert!(
        !stored.encrypted_secret.windows(sk.len()).any(|w| w == sk),
        "the SK must not be stored in the clear"
    );
}

#[tokio::test]
async fn health_metrics_and_openapi_need_no_credentials() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    let doc: serde_json::Value =
        app.http.get(app.url("/openapi.json")).send().await.unwrap().json().await.unwrap();
    assert!(doc["paths"]["/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/postcheck"]["post"].is_object(), "{doc}");
}
