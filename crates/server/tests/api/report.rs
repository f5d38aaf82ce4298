//! The HTML report of a task: `GET .../tasks/{task_id}` with `Accept: text/html` answers
//! the same report `postcheck report` renders, behind the same authentication and tenancy;
//! every other Accept still gets the JSON document.

use serde_json::Value;

use crate::helpers::*;

fn task_path(project: &str, uid: &str) -> String {
    format!("{}/tasks/{uid}", TestApp::postcheck_path(project, CLUSTER))
}

/// A stored task (an Error: the registered endpoint refuses connections) and its uid.
async fn a_task(app: &TestApp) -> (Value, String) {
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let task: Value = app
        .post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &seed_request())
        .await
        .json()
        .await
        .unwrap();
    let uid = task["metadata"]["uid"].as_str().unwrap().to_owned();
    (task, uid)
}

async fn get_with(app: &TestApp, path: &str, token: &str, accept: &str) -> reqwest::Response {
    app.http
        .get(app.url(path))
        .header("X-Auth-Token", token)
        .header("Accept", accept)
        .send()
        .await
        .expect("the service answers")
}

#[tokio::test]
async fn a_browser_gets_the_html_report_of_a_task() {
    let app = spawn_app().await;
    let (_, uid) = a_task(&app).await;
    let task: Value = app.get(&task_path(PROJECT, &uid)).await.json().await.unwrap();
    let browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8";
    let response = get_with(&app, &task_path(PROJECT, &uid), &app.token, browser).await;
    assert_eq!(response.status(), 200);
    let headers = response.headers().clone();
    assert_eq!(headers["content-type"], "text/html; charset=utf-8");
    assert_eq!(headers["vary"], "Accept");
    assert!(headers["content-security-policy"].to_str().unwrap().starts_with("default-src 'none'"));
    assert!(headers.contains_key("x-request-id"));
    let page = response.text().await.unwrap();
    let document: postcheck_model::PostCheckTask = serde_json::from_value(task).unwrap();
    assert_eq!(
        page,
        postcheck_report::html(&document).unwrap(),
        "the one renderer's page of the stored task"
    );
    assert!(page.contains("<header class=\"verdict tone-error\">"), "{page}");
    assert!(page.contains(&format!("<code>{uid}</code>")), "{page}");
}

#[tokio::test]
async fn json_stays_the_default_for_every_other_accept() {
    let app = spawn_app().await;
    let (task, uid) = a_task(&app).await;
    for accept in ["application/json", "*/*", "application/json, text/html", ""] {
        let response = get_with(&app, &task_path(PROJECT, &uid), &app.token, accept).await;
        assert_eq!(response.status(), 200, "{accept:?}");
        assert_eq!(response.headers()["content-type"], "application/json", "{accept:?}");
        assert_eq!(response.headers()["vary"], "Accept");
        let read: Value = response.json().await.unwrap();
        assert_eq!(read["status"], task["status"], "{accept:?}");
    }
    let read: Value = app.get(&task_path(PROJECT, &uid)).await.json().await.unwrap();
    assert_eq!(read["metadata"]["uid"], uid.as_str(), "no Accept at all: JSON");
}

#[tokio::test]
async fn the_html_report_has_the_same_authentication_and_tenancy_as_the_json() {
    let app = spawn_app().await;
    let (_, uid) = a_task(&app).await;
    // No credential, and a wrong one: 401 in CCE's JSON error body.
    let response = app
        .http
        .get(app.url(&task_path(PROJECT, &uid)))
        .header("Accept", "text/html")
        .send()
        .await
        .unwrap();
    assert_cce_error(response, 401, "CCE.01401001").await;
    let response = get_with(&app, &task_path(PROJECT, &uid), "not-a-token", "text/html").await;
    assert_cce_error(response, 401, "CCE.01401001").await;
    // Another project's credential on this project's task: 403, as for the JSON.
    let other = app.token_of(OTHER_PROJECT).await;
    for accept in ["text/html", "application/json"] {
        let response = get_with(&app, &task_path(PROJECT, &uid), &other, accept).await;
        assert_cce_error(response, 403, "CCE.01403001").await;
    }
    // Under its own project the other tenant finds no such task: 404, no report.
    let response = get_with(&app, &task_path(OTHER_PROJECT, &uid), &other, "text/html").await;
    assert_cce_error(response, 404, "CCE.01404001").await;
    let unknown = task_path(PROJECT, "00000000-0000-4000-8000-000000000000");
    assert_cce_error(get_with(&app, &unknown, &app.token, "text/html").await, 404, "CCE.01404001")
        .await;
}
