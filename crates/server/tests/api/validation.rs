//! Every validation error of `POST .../operation/postcheck`, each with its status and code.

use serde_json::json;

use crate::helpers::*;

fn path() -> String {
    TestApp::postcheck_path(PROJECT, CLUSTER)
}

#[tokio::test]
async fn malformed_json_is_400_invalid_request() {
    let app = spawn_app().await;
    let response = app
        .post_raw(&path(), "application/json", b"{\"kind\": \"PostCheckTask\",".to_vec(), &[])
        .await;
    assert_cce_error(response, 400, "CCE.01400001").await;
}

#[tokio::test]
async fn a_wrong_api_version_or_kind_is_400() {
    let app = spawn_app().await;
    let mut body = seed_request();
    body["apiVersion"] = json!("v2");
    assert_cce_error(app.post_json(&path(), &body).await, 400, "CCE.01400001").await;
    let mut body = seed_request();
    body["kind"] = json!("PreCheckTask");
    assert_cce_error(app.post_json(&path(), &body).await, 400, "CCE.01400001").await;
}

#[tokio::test]
async fn missing_mandatory_fields_are_400() {
    let app = spawn_app().await;
    for field in ["apiVersion", "kind", "spec"] {
        let mut body = seed_request();
        body.as_object_mut().unwrap().remove(field);
        let error =
            assert_cce_error(app.post_json(&path(), &body).await, 400, "CCE.01400001").await;
        assert!(
            error["errorMessage"].as_str().unwrap().contains(field),
            "the message names {field}: {error}"
        );
    }
}

#[tokio::test]
async fn a_spec_cluster_id_differing_from_the_path_is_400() {
    let app = spawn_app().await;
    let mut body = seed_request();
    body["spec"]["clusterID"] = json!("11111111-2222-3333-4444-555555555555");
    let error = assert_cce_error(app.post_json(&path(), &body).await, 400, "CCE.01400001").await;
    assert!(error["errorMessage"].as_str().unwrap().contains("differs"), "{error}");
}

#[tokio::test]
async fn unparseable_versions_are_400() {
    let app = spawn_app().await;
    for field in ["clusterVersion", "targetVersion"] {
        let mut body = seed_request();
        body["spec"][field] = json!("latest");
        let error =
            assert_cce_error(app.post_json(&path(), &body).await, 400, "CCE.01400001").await;
        assert!(error["errorMessage"].as_str().unwrap().contains(field), "{error}");
    }
}

#[tokio::test]
async fn a_target_lower_than_the_source_is_400_version_not_supported() {
    let app = spawn_app().await;
    let mut body = seed_request();
    body["spec"]["targetVersion"] = json!("v1.13.12");
    assert_cce_error(app.post_json(&path(), &body).await, 400, "CCE.01400015").await;
}

#[tokio::test]
async fn a_body_that_is_not_json_content_is_400_content_type_not_supported() {
    let app = spawn_app().await;
    let response =
        app.post_raw(&path(), "text/plain", seed_request().to_string().into_bytes(), &[]).await;
    assert_cce_error(response, 400, "CCE.01400006").await;
}

#[tokio::test]
async fn json_with_a_charset_is_accepted() {
    let app = spawn_app().await;
    // Valid up to the cluster lookup: an unregistered cluster is then 404, not 400.
    let response = app
        .post_raw(
            &path(),
            "application/json;charset=utf-8",
            seed_request().to_string().into_bytes(),
            &[],
        )
        .await;
    assert_cce_error(response, 404, "CCE.01404001").await;
}

#[tokio::test]
async fn an_unknown_cluster_is_404() {
    let app = spawn_app().await;
    let error =
        assert_cce_error(app.post_json(&path(), &seed_request()).await, 404, "CCE.01404001").await;
    assert!(error["errorMessage"].as_str().unwrap().contains(CLUSTER), "{error}");
}

#[tokio::test]
async fn a_malformed_cluster_id_in_the_path_is_400() {
    let app = spawn_app().await;
    let response =
        app.post_json(&TestApp::postcheck_path(PROJECT, "not-a-uuid"), &seed_request()).await;
    assert_cce_error(response, 400, "CCE.01400001").await;
}

#[tokio::test]
async fn a_body_over_the_limit_is_413_in_cce_shape() {
    let app = spawn_app_with(|c| c.max_body_bytes = 4096).await;
    let mut body = seed_request();
    body["padding"] = json!("x".repeat(10_000));
    let response = app.post_json(&path(), &body).await;
    assert_cce_error(response, 413, "CCE.01413001").await;
}

#[tokio::test]
async fn unknown_extra_fields_are_ignored() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let mut body = seed_request();
    body["metadata"] = json!({"anything": [1, 2, 3]});
    body["spec"]["skippedCheckItemList"] = json!([{"name": "x"}]);
    let response = app.post_json(&path(), &body).await;
    assert_eq!(response.status(), 200);
    let task: serde_json::Value = response.json().await.unwrap();
    assert_eq!(task["kind"], "PostCheckTask");
    assert!(
        task["spec"].get("skippedCheckItemList").is_none(),
        "unknown fields are not echoed: {task}"
    );
}

#[tokio::test]
async fn every_answer_carries_a_request_id_even_unknown_routes_and_health() {
    let app = spawn_app().await;
    for path in ["/healthz", "/readyz", "/metrics", "/openapi.json", "/no/such/route"] {
        let response = app.http.get(app.url(path)).send().await.unwrap();
        assert!(response.headers().contains_key("x-request-id"), "{path} has no X-Request-Id");
    }
    let response = app.http.get(app.url("/no/such/route")).send().await.unwrap();
    assert_cce_error(response, 404, "CCE.01404001").await;
}
