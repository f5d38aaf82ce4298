//! The seed's example request against a cluster of the real test control plane
//! (kube-apiserver 1.36 with kwok nodes), registered by endpoint + CA + token.

use serde_json::{Value, json};

use crate::helpers::*;

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn the_seed_request_checks_a_real_cluster_and_answers_in_the_seed_shape() {
    let cluster = control_plane(3).await;
    // Long enough for the synthetic DaemonSet to come up on every node (the default test
    // deadline is 5 s).
    let app = spawn_app_with(|c| c.check_deadline = std::time::Duration::from_secs(90)).await;
    let registration = json!({
        "clusterID": CLUSTER,
        "name": "testcluster",
        "endpoint": cluster.server_url(),
        "caPem": cluster.ca_pem(),
        "token": cluster.admin_token(),
    });
    let response =
        app.post_json(&format!("/api/v3/projects/{PROJECT}/clusters"), &registration).await;
    assert_eq!(response.status(), 201);
    assert!(
        !response.text().await.unwrap().contains(&cluster.admin_token()),
        "the token is never echoed"
    );

    // The seed's request names 1.19.16, the cluster runs 1.36: examined, and Failed.
    let response = app.post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &seed_request()).await;
    assert_eq!(response.status(), 200);
    let task: Value = response.json().await.unwrap();
    assert_eq!(task["kind"], "PostCheckTask");
    assert_eq!(task["apiVersion"], "v3");
    assert_eq!(task["spec"], seed_request()["spec"]);
    assert_eq!(task["status"]["phase"], "Failed", "{task}");
    assert!(!task["status"]["itemsStatus"].as_array().unwrap().is_empty(), "{task}");

    // The same request with the cluster's real versions: Success.
    let mut request = seed_request();
    request["spec"]["clusterVersion"] = json!("v1.35");
    request["spec"]["targetVersion"] = json!("v1.36");
    let task: Value = app
        .post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"]["phase"], "Success", "{task}");

    // With a baseline taken from the cluster, the check compares against it and still passes.
    let baseline = app
        .http
        .post(app.url(&format!("/api/v3/projects/{PROJECT}/clusters/{CLUSTER}/baseline")))
        .header("X-Auth-Token", &app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(baseline.status(), 201, "{}", baseline.text().await.unwrap());
    let task: Value = app
        .post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["status"]["phase"], "Success", "{task}");
    let synthetic = item(&task, "synthetic-pod");
    assert_eq!(synthetic["phase"], "Skipped", "opt-in only: {task}");

    // postcheck's spec extension `synthetic: true` runs CCE's new-pod check through the API.
    request["spec"]["synthetic"] = json!(true);
    let task: Value = app
        .post_json(&TestApp::postcheck_path(PROJECT, CLUSTER), &request)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(task["spec"]["synthetic"], true, "{task}");
    assert_eq!(task["status"]["phase"], "Success", "{task}");
    assert_eq!(item(&task, "synthetic-pod")["phase"], "Success", "{task}");
    cluster.down().await.expect("the control plane stops");
}

fn item<'a>(task: &'a Value, name: &str) -> &'a Value {
    task["status"]["itemsStatus"]
        .as_array()
        .and_then(|items| items.iter().find(|i| i["name"] == name))
        .unwrap_or_else(|| panic!("no item {name} in {task}"))
}
