//! The smaller limits: `spec` must be an object; names and IDs are bounded; a project's
//! clusters are capped; concurrent baselines of one cluster take its lock; the database
//! and key files are readable by their owner only.

use std::time::Duration;

use postcheck_server::crypto::KeySource;
use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn a_spec_given_as_an_array_is_refused() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let body = json!({"kind": "PostCheckTask", "apiVersion": "v3", "spec": [CLUSTER, "v1.15.11-r1", "v1.19.16-r80"]});
    let response = app.post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &body).await;
    let error = assert_cce_error(response, 400, "CCE.01400001").await;
    assert!(error["errorMessage"].as_str().unwrap().contains("object"), "{error}");
}

#[tokio::test]
async fn names_and_markers_are_bounded() {
    let app = spawn_app().await;
    let path = format!("/api/v3/projects/{PROJECT}/clusters");
    let long = "n".repeat(129);
    let body = json!({"clusterID": CLUSTER, "name": long, "endpoint": "https://127.0.0.1:6443", "token": "t"});
    assert_cce_error(app.post_json(&path, &body).await, 400, "CCE.01400001").await;
    let body = json!({"clusterID": CLUSTER, "endpoint": "https://127.0.0.1:6443", "token": "x".repeat(17 * 1024)});
    assert_cce_error(app.post_json(&path, &body).await, 400, "CCE.01400001").await;
    let marker = "m".repeat(65);
    let tasks = format!("{}/tasks?marker={marker}", TestApp::postcheck_path(PROJECT, CLUSTER));
    assert_cce_error(app.get(&tasks).await, 400, "CCE.01400001").await;
    let mut seed = seed_request();
    seed["spec"]["targetVersion"] = json!(format!("v1.{}", "1".repeat(100)));
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let response = app.post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &seed).await;
    assert_cce_error(response, 400, "CCE.01400001").await;
}

#[tokio::test]
async fn a_project_registers_no_more_clusters_than_its_quota() {
    let app = spawn_app_with(|c| c.max_clusters_per_project = 2).await;
    let path = format!("/api/v3/projects/{PROJECT}/clusters");
    for _ in 0..2 {
        let body = json!({"endpoint": "https://127.0.0.1:6443", "token": "t"});
        assert_eq!(app.post_json(&path, &body).await.status(), 201);
    }
    let body = json!({"endpoint": "https://127.0.0.1:6443", "token": "t"});
    assert_cce_error(app.post_json(&path, &body).await, 403, "CCE.01403002").await;
}

#[tokio::test]
async fn concurrent_baselines_of_one_cluster_take_its_lock() {
    let app = spawn_app_with(|c| c.check_deadline = Duration::from_secs(3)).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let path = format!("/api/v3/projects/{PROJECT}/clusters/{CLUSTER}/baseline");
    let first = {
        let (http, url, token) = (app.http.clone(), app.url(&path), app.token.clone());
        tokio::spawn(
            async move { http.post(url).header("X-Auth-Token", token).send().await.unwrap() },
        )
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let second =
        app.http.post(app.url(&path)).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_cce_error(second, 429, "CCE.01429002").await;
    // A post-check shares the lock.
    let check = app.post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &seed_request()).await;
    assert_cce_error(check, 429, "CCE.01429002").await;
    assert_eq!(first.await.unwrap().status(), 503, "the black hole cannot be examined");
    // The lock is freed at the end.
    let again =
        app.http.post(app.url(&path)).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_eq!(again.status(), 503);
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_key_files_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let key = dir.path().join("encryption.key");
    let database = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    let app = spawn_on(&database, |c| c.key = KeySource::File(key.clone())).await;
    app.register_endpoint(CLUSTER, "https://127.0.0.1:6443").await;
    for file in ["encryption.key", "postcheck.db", "postcheck.db-wal", "postcheck.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{file} is {mode:o}");
    }
}
