//! Baselines of registered clusters: stored, read back, refused when malformed, and a
//! stored baseline that cannot be read fails the check loudly instead of being skipped.

use postcheck_engine::Snapshot;
use postcheck_engine::fixture::NodeFixture;
use serde_json::Value;

use crate::helpers::*;

fn baseline_path() -> String {
    format!("/api/v3/projects/{PROJECT}/clusters/{CLUSTER}/baseline")
}

async fn put(app: &TestApp, body: Vec<u8>) -> reqwest::Response {
    app.http
        .put(app.url(&baseline_path()))
        .header("X-Auth-Token", &app.token)
        .header("Content-Type", "application/json")
        .body(body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_baseline_made_elsewhere_is_stored_and_read_back() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    assert_cce_error(app.get(&baseline_path()).await, 404, "CCE.01404001").await;
    let snapshot =
        Snapshot::test().version("v1.35.2").node(NodeFixture::ready("node-a").label("zone", "a"));
    let response = put(&app, serde_json::to_vec(&snapshot).unwrap()).await;
    assert_eq!(response.status(), 200);
    let view: Value = response.json().await.unwrap();
    assert_eq!(view["kind"], "Baseline");
    assert_eq!(view["clusterID"], CLUSTER);
    let read: Snapshot = app.get(&baseline_path()).await.json().await.unwrap();
    assert_eq!(read, snapshot);
}

#[tokio::test]
async fn a_body_that_is_not_a_snapshot_is_400_and_an_unregistered_cluster_404() {
    let app = spawn_app().await;
    assert_cce_error(
        put(&app, serde_json::to_vec(&Snapshot::test()).unwrap()).await,
        404,
        "CCE.01404001",
    )
    .await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    assert_cce_error(put(&app, br#"{"nodes": "many"}"#.to_vec()).await, 400, "CCE.01400001").await;
}

#[tokio::test]
async fn taking_a_baseline_of_an_unreachable_cluster_is_503() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let response = app
        .http
        .post(app.url(&baseline_path()))
        .header("X-Auth-Token", &app.token)
        .send()
        .await
        .unwrap();
    assert_cce_error(response, 503, "CCE.01503001").await;
}

#[tokio::test]
async fn an_unreadable_stored_baseline_fails_the_check_instead_of_being_ignored() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let damaged = postcheck_store::StoredBaseline {
        snapshot_json: b"{ damaged".to_vec(),
        taken_at: chrono::Utc::now(),
        precheck_task: None,
    };
    app.store.put_baseline(PROJECT, CLUSTER, &damaged).await.unwrap();
    let task: Value = app
        .post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &seed_request())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"]["phase"], "Error");
    assert!(task["status"]["message"].as_str().unwrap().contains("baseline"), "{task}");
}
