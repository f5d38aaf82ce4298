//! Signing: the body hash is always verified for JSON bodies whatever the case of the
//! media type; `UNSIGNED-PAYLOAD` is refused; `host` and `X-Sdk-Date` must be signed; an
//! unknown access key and a wrong signature get the same answer.

use chrono::Utc;
use postcheck_server::auth::{credentials, signer};
use postcheck_server::domain::ProjectId;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::Value;

use crate::helpers::*;

/// Headers of a request signed over `signed`, with `extra` headers set before signing.
fn signed(
    ak: &str,
    sk: &str,
    url: &str,
    body: &[u8],
    extra: &[(&'static str, &'static str)],
    signed: &[&str],
) -> HeaderMap {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let mut headers = HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("host", HeaderValue::from_str(&host).unwrap());
    headers
        .insert("x-sdk-date", HeaderValue::from_str(&signer::format_sdk_date(Utc::now())).unwrap());
    for (k, v) in extra {
        headers.insert(*k, HeaderValue::from_static(v));
    }
    let parts = signer::RequestParts {
        method: "POST",
        path: parsed.path(),
        query: None,
        headers: &headers,
        body,
    };
    let auth = signer::sign(ak, sk, &parts, signed).unwrap();
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    headers
}

async fn keyed_app() -> (TestApp, credentials::NewAccessKey) {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    (app, pair)
}

const SIGNED: &[&str] = &["content-type", "host", "x-sdk-date"];

#[tokio::test]
async fn a_body_swapped_under_a_valid_signature_is_refused_whatever_the_content_type_case() {
    let (app, pair) = keyed_app().await;
    let url = app.url(&TestApp::postcheck_path(PROJECT, CLUSTER));
    let original = seed_request().to_string();
    for extra in [
        &[("content-type", "Application/JSON")][..],
        &[
            ("content-type", "APPLICATION/JSON; charset=utf-8"),
            ("x-sdk-content-sha256", "UNSIGNED-PAYLOAD"),
        ][..],
        &[("x-sdk-content-sha256", "UNSIGNED-PAYLOAD")][..],
    ] {
        let headers =
            signed(&pair.access_key, &pair.secret_key, &url, original.as_bytes(), extra, SIGNED);
        let swapped =
            r#"{"kind":"PostCheckTask","apiVersion":"v3","spec":{"targetVersion":"v9.99"}}"#;
        let response = app.http.post(&url).headers(headers).body(swapped).send().await.unwrap();
        assert_cce_error(response, 401, "CCE.01401001").await;
    }
}

#[tokio::test]
async fn unsigned_payload_is_refused_even_with_the_right_body() {
    let (app, pair) = keyed_app().await;
    let url = app.url(&format!("/api/v3/projects/{PROJECT}/clusters"));
    let body = br#"{"endpoint":"https://127.0.0.1:6443","token":"t"}"#;
    let headers = signed(
        &pair.access_key,
        &pair.secret_key,
        &url,
        body,
        &[("x-sdk-content-sha256", "UNSIGNED-PAYLOAD")],
        &["content-type", "host", "x-sdk-content-sha256", "x-sdk-date"],
    );
    let response = app.http.post(&url).headers(headers).body(body.to_vec()).send().await.unwrap();
    let error = assert_cce_error(response, 401, "CCE.01401001").await;
    assert!(error["errorMessage"].as_str().unwrap().contains("UNSIGNED-PAYLOAD"), "{error}");
    // The same request signed over its body is accepted.
    let headers = signed(&pair.access_key, &pair.secret_key, &url, body, &[], SIGNED);
    let response = app.http.post(&url).headers(headers).body(body.to_vec()).send().await.unwrap();
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
}

#[tokio::test]
async fn host_and_the_date_must_be_signed() {
    let (app, pair) = keyed_app().await;
    let url = app.url(&format!("/api/v3/projects/{PROJECT}/clusters"));
    let body = b"{}";
    for (covered, names) in [
        (&["content-type", "x-sdk-date"][..], "host"),
        (&["content-type", "host"][..], "X-Sdk-Date"),
    ] {
        let headers = signed(&pair.access_key, &pair.secret_key, &url, body, &[], covered);
        let response =
            app.http.post(&url).headers(headers).body(body.to_vec()).send().await.unwrap();
        let error = assert_cce_error(response, 401, "CCE.01401001").await;
        assert!(error["errorMessage"].as_str().unwrap().contains(names), "{error}");
    }
}

#[tokio::test]
async fn an_unknown_access_key_and_a_wrong_signature_get_the_same_answer() {
    let (app, pair) = keyed_app().await;
    let url = app.url(&format!("/api/v3/projects/{PROJECT}/clusters"));
    let body = b"{}";
    let answer = |headers: HeaderMap| {
        let request = app.http.post(&url).headers(headers).body(body.to_vec());
        async move {
            let response = request.send().await.unwrap();
            let status = response.status().as_u16();
            let v: Value = response.json().await.unwrap();
            (status, v["errorCode"].clone(), v["errorMessage"].clone())
        }
    };
    let wrong_sk =
        answer(signed(&pair.access_key, "not-the-secret", &url, body, &[], SIGNED)).await;
    let unknown_ak =
        answer(signed("AKNOSUCHKEY000000000", &pair.secret_key, &url, body, &[], SIGNED)).await;
    assert_eq!(wrong_sk.0, 401);
    assert_eq!(wrong_sk, unknown_ak, "the answers tell a known key from an unknown one");
}
