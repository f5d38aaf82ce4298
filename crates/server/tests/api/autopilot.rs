//! CCE Autopilot's paths (`/autopilot/v3/projects/{p}/clusters/{c}/operation/postcheck|precheck[/tasks[/{id}]]`):
//! the same operations, handlers and tasks as under `/api/v3`, with the same
//! authentication (a signature covers the Autopilot path itself) and tenancy.

use std::time::Duration;

use postcheck_server::auth::credentials;
use postcheck_server::domain::ProjectId;
use serde_json::Value;

use crate::helpers::*;

#[tokio::test]
async fn autopilot_paths_serve_the_same_checks_and_tasks_as_cces() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let post = TestApp::postcheck_path(PROJECT, CLUSTER);
    let pre = TestApp::precheck_path(PROJECT, CLUSTER);

    for (path, body, kind) in
        [(&post, seed_request(), "PostCheckTask"), (&pre, precheck_request(), "PreCheckTask")]
    {
        let response = app.post_json(&autopilot(path), &body).await;
        assert_eq!(response.status(), 200, "{path}");
        let task: Value = response.json().await.unwrap();
        assert_eq!(task["kind"], kind);
        assert_eq!(task["status"]["phase"], "Error", "an unreachable cluster: {task}");
        let uid = task["metadata"]["uid"].as_str().unwrap();
        let one = format!("{path}/tasks/{uid}");
        let by_autopilot: Value = app.get(&autopilot(&one)).await.json().await.unwrap();
        let by_cce: Value = app.get(&one).await.json().await.unwrap();
        assert_eq!(by_autopilot, by_cce, "one task, whichever path reads it");
        for field in ["kind", "spec"] {
            assert_eq!(by_cce[field], task[field], "{by_cce}");
        }
        assert_eq!(by_cce["metadata"]["uid"], uid);
        assert_eq!(by_cce["status"]["phase"], "Error");
        let listed: Value =
            app.get(&autopilot(&format!("{path}/tasks"))).await.json().await.unwrap();
        assert_eq!(listed["items"][0], by_cce, "{listed}");
    }

    let response = app
        .post_raw(
            &autopilot(&pre),
            "application/json",
            precheck_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await;
    assert_eq!(response.status(), 202);
    let location = response.headers()["location"].to_str().unwrap().to_owned();
    assert!(location.starts_with("/autopilot/v3/projects/"), "{location}");
    let ended = wait_for_final(&app, &location, Duration::from_secs(20)).await;
    assert_eq!(ended["status"]["phase"], "Error", "{ended}");
}

#[tokio::test]
async fn a_signature_covers_the_autopilot_path_itself() {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(PROJECT).unwrap(),
    )
    .await
    .unwrap();
    let list = format!("{}/tasks", TestApp::precheck_path(PROJECT, CLUSTER));
    let url = app.url(&autopilot(&list));
    let headers = sdk_signed_headers(&pair.access_key, &pair.secret_key, "GET", &url, b"");

    let signed = app.http.get(&url).headers(headers.clone()).send().await.unwrap();
    assert_eq!(signed.status(), 200, "{}", signed.text().await.unwrap());

    let replayed = app.http.get(app.url(&list)).headers(headers).send().await.unwrap();
    assert_cce_error(replayed, 401, "CCE.01401001").await;
}

#[tokio::test]
async fn autopilot_paths_keep_to_the_callers_project_and_to_the_check_operations() {
    let app = spawn_app().await;
    let theirs = app.token_of(OTHER_PROJECT).await;
    let pre = TestApp::precheck_path(PROJECT, CLUSTER);
    let as_them = app
        .http
        .post(app.url(&autopilot(&pre)))
        .header("X-Auth-Token", &theirs)
        .header("Content-Type", "application/json")
        .body(precheck_request().to_string())
        .send()
        .await
        .unwrap();
    assert_cce_error(as_them, 403, "CCE.01403001").await;

    let clusters = autopilot(&format!("/api/v3/projects/{PROJECT}/clusters"));
    assert_cce_error(app.get(&clusters).await, 404, "CCE.01404001").await;
    let unauthenticated =
        app.http.get(app.url(&autopilot(&format!("{pre}/tasks")))).send().await.unwrap();
    assert_cce_error(unauthenticated, 401, "CCE.01401001").await;
}
