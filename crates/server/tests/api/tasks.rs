//! Tasks: synchronous and asynchronous checks, the per-cluster lock, the deadline, the
//! list (newest first, paginated), metrics, and draining on shutdown.

use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

fn postcheck() -> String {
    TestApp::postcheck_path(PROJECT, CLUSTER)
}

fn task_path(uid: &str) -> String {
    format!("{}/tasks/{uid}", postcheck())
}

#[tokio::test]
async fn a_cluster_that_cannot_be_reached_ends_error_not_failed() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let response = app.post_json(&postcheck(), &seed_request()).await;
    assert_eq!(response.status(), 200);
    assert!(response.headers().contains_key("x-request-id"));
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["kind"], "PostCheckTask");
    assert_eq!(task["apiVersion"], "v3");
    assert_eq!(task["spec"], seed_request()["spec"]);
    assert_eq!(task["status"]["phase"], "Error", "{task}");
    assert!(task["status"]["message"].as_str().unwrap().contains("could not be"), "{task}");
    assert!(
        task["status"]["finishedAt"].is_string() && task["status"]["durationMs"].is_u64(),
        "{task}"
    );
    let uid = task["metadata"]["uid"].as_str().unwrap();
    let read: Value = app.get(&task_path(uid)).await.json().await.unwrap();
    assert_eq!(read["status"], task["status"], "the stored task is the one answered");
    assert!(
        read["metadata"]["creationTimestamp"].is_string()
            && read["metadata"]["updateTimestamp"].is_string()
    );
}

#[tokio::test]
async fn respond_async_answers_202_running_at_once_and_the_check_goes_on() {
    let app = spawn_app_with(|c| c.check_deadline = Duration::from_secs(4)).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let started = std::time::Instant::now();
    let response = app
        .post_raw(
            &postcheck(),
            "application/json",
            seed_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await;
    assert_eq!(response.status(), 202);
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "202 must not wait for the check (which runs 4s)"
    );
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["status"]["phase"], "Running");
    assert!(location.ends_with(task["metadata"]["uid"].as_str().unwrap()));
    let done = wait_for_final(&app, &location, Duration::from_secs(20)).await;
    assert_eq!(done["status"]["phase"], "Error", "{done}");
    assert!(
        done["status"]["message"].as_str().unwrap().contains("deadline"),
        "the task says it ran out of time: {done}"
    );
}

#[tokio::test]
async fn a_synchronous_check_past_the_deadline_ends_error_saying_so() {
    let app = spawn_app_with(|c| c.check_deadline = Duration::from_secs(1)).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let started = std::time::Instant::now();
    let task: Value = app.post_json(&postcheck(), &seed_request()).await.json().await.unwrap();
    assert!(started.elapsed() < Duration::from_secs(5), "the deadline bounds the answer");
    assert_eq!(task["status"]["phase"], "Error");
    assert!(task["status"]["message"].as_str().unwrap().contains("deadline"), "{task}");
}

#[tokio::test]
async fn a_second_check_of_a_cluster_being_checked_is_429() {
    let app = spawn_app_with(|c| c.check_deadline = Duration::from_secs(3)).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let first = app
        .post_raw(
            &postcheck(),
            "application/json",
            seed_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await;
    assert_eq!(first.status(), 202);
    let first: Value = first.json().await.unwrap();
    assert_cce_error(app.post_json(&postcheck(), &seed_request()).await, 429, "CCE.01429002").await;
    // Once the first ends, the cluster is free again.
    wait_for_final(
        &app,
        &task_path(first["metadata"]["uid"].as_str().unwrap()),
        Duration::from_secs(15),
    )
    .await;
    let again = app
        .post_raw(
            &postcheck(),
            "application/json",
            seed_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await;
    assert_eq!(again.status(), 202);
}

#[tokio::test]
async fn tasks_list_newest_first_in_pages() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let mut uids = Vec::new();
    for _ in 0..3 {
        let task: Value = app.post_json(&postcheck(), &seed_request()).await.json().await.unwrap();
        uids.push(task["metadata"]["uid"].as_str().unwrap().to_owned());
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    uids.reverse();
    let first: Value =
        app.get(&format!("{}/tasks?limit=2", postcheck())).await.json().await.unwrap();
    assert_eq!(first["kind"], "List");
    assert_eq!(first["apiVersion"], "v3");
    let page_uids = |page: &Value| {
        page["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["metadata"]["uid"].as_str().unwrap().to_owned())
            .collect::<Vec<_>>()
    };
    assert_eq!(page_uids(&first), uids[..2]);
    let marker = first["metadata"]["continue"].as_str().expect("a marker to the next page");
    let second: Value = app
        .get(&format!("{}/tasks?limit=2&marker={marker}", postcheck()))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page_uids(&second), uids[2..]);
    assert!(second["metadata"].get("continue").is_none(), "the last page has no marker: {second}");
    for bad in ["0", "501", "ten"] {
        assert_cce_error(
            app.get(&format!("{}/tasks?limit={bad}", postcheck())).await,
            400,
            "CCE.01400001",
        )
        .await;
    }
}

#[tokio::test]
async fn an_unknown_task_is_404() {
    let app = spawn_app().await;
    let response = app.get(&task_path("00000000-0000-4000-8000-000000000000")).await;
    assert_cce_error(response, 404, "CCE.01404001").await;
    assert_cce_error(app.get(&task_path("not-a-uuid")).await, 400, "CCE.01400001").await;
}

#[tokio::test]
async fn metrics_count_requests_and_tasks_by_phase() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    app.post_json(&postcheck(), &seed_request()).await;
    let text = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(text.contains(r#"postcheck_tasks_total{phase="Error"} 1"#), "{text}");
    assert!(
        text.contains(r#"route="/api/v3/projects/{project_id}/clusters/{cluster_id}/operation/postcheck",status="200"} 1"#),
        "{text}"
    );
    assert!(text.contains("postcheck_check_duration_seconds_count"), "{text}");
    assert!(text.contains("postcheck_http_request_duration_seconds_bucket"), "{text}");
}

#[tokio::test]
async fn shutdown_ends_a_check_that_outlives_the_grace_period_as_error() {
    let mut app = spawn_app_with(|c| {
        c.check_deadline = Duration::from_secs(60);
        c.grace_period = Duration::from_millis(500);
    })
    .await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let started: Value = app
        .post_raw(
            &postcheck(),
            "application/json",
            seed_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await
        .json()
        .await
        .unwrap();
    let uid = started["metadata"]["uid"].as_str().unwrap().to_owned();
    app.stop().await;
    let stored = app.store.get_task(PROJECT, &uid).await.unwrap().unwrap();
    assert_eq!(stored.status.phase, postcheck_model::TaskPhase::Error);
    assert!(
        stored.status.message.unwrap().contains("shut down"),
        "the task says the service stopped"
    );
}
