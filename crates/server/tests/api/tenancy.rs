//! Tenancy: a credential of project A gets 403 on project B's paths, and B never sees A's
//! clusters or tasks.

use postcheck_server::auth::credentials;
use postcheck_server::domain::ProjectId;

use crate::helpers::*;

#[tokio::test]
async fn a_token_of_another_project_gets_403_on_every_api_path() {
    let app = spawn_app().await;
    let other = app.token_of(OTHER_PROJECT).await;
    let paths = [
        format!("/api/v3/projects/{PROJECT}/clusters"),
        format!("/api/v3/projects/{PROJECT}/clusters/{CLUSTER}"),
        format!("/api/v3/projects/{PROJECT}/clusters/{CLUSTER}/operation/postcheck/tasks"),
    ];
    for path in &paths {
        let response =
            app.http.get(app.url(path)).header("X-Auth-Token", &other).send().await.unwrap();
        assert_cce_error(response, 403, "CCE.01403001").await;
    }
    let response = app
        .http
        .post(app.url(&TestApp::postcheck_path(PROJECT, CLUSTER)))
        .header("X-Auth-Token", &other)
        .json(&seed_request())
        .send()
        .await
        .unwrap();
    assert_cce_error(response, 403, "CCE.01403001").await;
}

#[tokio::test]
async fn an_access_key_of_another_project_gets_403() {
    let app = spawn_app().await;
    let pair = credentials::create_access_key(
        app.store.as_ref(),
        &app.key,
        &ProjectId::parse(OTHER_PROJECT).unwrap(),
    )
    .await
    .unwrap();
    let url = app.url(&format!("/api/v3/projects/{PROJECT}/clusters"));
    let headers = sdk_signed_headers(&pair.access_key, &pair.secret_key, "GET", &url, b"");
    assert_cce_error(
        app.http.get(&url).headers(headers).send().await.unwrap(),
        403,
        "CCE.01403001",
    )
    .await;
}

#[tokio::test]
async fn another_project_never_sees_the_clusters_or_tasks_of_this_one() {
    let app = spawn_app().await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let task: serde_json::Value = app
        .post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &seed_request())
        .await
        .json()
        .await
        .unwrap();
    let uid = task["metadata"]["uid"].as_str().unwrap().to_owned();

    let other = app.token_of(OTHER_PROJECT).await;
    let get = |path: String| {
        let request = app.http.get(app.url(&path)).header("X-Auth-Token", &other);
        async move { request.send().await.unwrap() }
    };
    let listed: serde_json::Value =
        get(format!("/api/v3/projects/{OTHER_PROJECT}/clusters")).await.json().await.unwrap();
    assert_eq!(listed["items"].as_array().unwrap().len(), 0, "{listed}");
    let response = get(format!("/api/v3/projects/{OTHER_PROJECT}/clusters/{CLUSTER}")).await;
    assert_cce_error(response, 404, "CCE.01404001").await;
    let response = get(format!(
        "/api/v3/projects/{OTHER_PROJECT}/clusters/{CLUSTER}/operation/postcheck/tasks/{uid}"
    ))
    .await;
    assert_cce_error(response, 404, "CCE.01404001").await;
    let tasks: serde_json::Value = get(format!(
        "/api/v3/projects/{OTHER_PROJECT}/clusters/{CLUSTER}/operation/postcheck/tasks"
    ))
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(tasks["items"].as_array().unwrap().len(), 0, "{tasks}");
    // The other project cannot check this project's cluster either: it is not registered there.
    let response = app
        .http
        .post(app.url(&TestApp::postcheck_path(OTHER_PROJECT, CLUSTER)))
        .header("X-Auth-Token", &other)
        .json(&seed_request())
        .send()
        .await
        .unwrap();
    assert_cce_error(response, 404, "CCE.01404001").await;
}
