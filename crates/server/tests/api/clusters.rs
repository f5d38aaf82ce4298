//! Registered clusters: register, read, list, remove; credentials never echoed, stored
//! encrypted.

use serde_json::{Value, json};

use crate::helpers::*;

const KUBECONFIG: &str = r#"
apiVersion: v1
kind: Config
current-context: admin
clusters:
- name: test
  cluster: {server: "https://127.0.0.1:1", insecure-skip-tls-verify: true}
contexts:
- name: admin
  context: {cluster: test, user: admin}
users:
- name: admin
  user: {token: kubeconfig-secret-token}
"#;

fn clusters_path() -> String {
    format!("/api/v3/projects/{PROJECT}/clusters")
}

#[tokio::test]
async fn a_cluster_registered_with_a_kubeconfig_is_shown_without_credentials() {
    let app = spawn_app().await;
    let response = app
        .post_json(&clusters_path(), &json!({"clusterID": CLUSTER, "kubeconfig": KUBECONFIG}))
        .await;
    assert_eq!(response.status(), 201);
    let text = response.text().await.unwrap();
    assert!(!text.contains("kubeconfig-secret-token"), "the answer echoes a credential: {text}");
    let shown: Value = serde_json::from_str(&text).unwrap();
    assert_eq!(shown["metadata"]["uid"], CLUSTER);
    assert_eq!(shown["metadata"]["name"], "admin");
    assert_eq!(shown["spec"]["endpoint"], "https://127.0.0.1:1");

    let one = app.get(&format!("{}/{CLUSTER}", clusters_path())).await.text().await.unwrap();
    let list = app.get(&clusters_path()).await.text().await.unwrap();
    for answer in [&one, &list] {
        assert!(
            answer.contains(CLUSTER) && !answer.contains("kubeconfig-secret-token"),
            "{answer}"
        );
    }
    let stored = app.store.get_cluster(PROJECT, CLUSTER).await.unwrap().unwrap();
    let secret = b"kubeconfig-secret-token";
    assert!(
        !stored.encrypted_credentials.windows(secret.len()).any(|w| w == secret),
        "stored in the clear"
    );
}

#[tokio::test]
async fn a_cluster_is_registered_once_and_removed_once() {
    let app = spawn_app().await;
    let body = json!({"clusterID": CLUSTER, "endpoint": "https://127.0.0.1:6443", "token": "t"});
    assert_eq!(app.post_json(&clusters_path(), &body).await.status(), 201);
    assert_cce_error(app.post_json(&clusters_path(), &body).await, 409, "CCE.01409001").await;
    let url = app.url(&format!("{}/{CLUSTER}", clusters_path()));
    let removed = app.http.delete(&url).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_eq!(removed.status(), 200);
    let again = app.http.delete(&url).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_cce_error(again, 404, "CCE.01404001").await;
    assert_cce_error(app.get(&format!("{}/{CLUSTER}", clusters_path())).await, 404, "CCE.01404001")
        .await;
}

#[tokio::test]
async fn a_cluster_id_is_made_when_none_is_given() {
    let app = spawn_app().await;
    let shown: Value = app
        .post_json(&clusters_path(), &json!({"endpoint": "https://127.0.0.1:6443", "token": "t"}))
        .await
        .json()
        .await
        .unwrap();
    let uid = shown["metadata"]["uid"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(uid).is_ok(), "{shown}");
}

#[tokio::test]
async fn invalid_registrations_are_400() {
    let app = spawn_app().await;
    for body in [
        json!({}),
        json!({"kubeconfig": "not: [a kubeconfig"}),
        json!({"kubeconfig": KUBECONFIG, "context": "nope"}),
        json!({"endpoint": "https://127.0.0.1:6443"}),
        json!({"endpoint": "ftp://x", "token": "t"}),
        json!({"kubeconfig": KUBECONFIG, "endpoint": "https://127.0.0.1:6443", "token": "t"}),
        json!({"clusterID": "nope", "endpoint": "https://127.0.0.1:6443", "token": "t"}),
    ] {
        assert_cce_error(app.post_json(&clusters_path(), &body).await, 400, "CCE.01400001").await;
    }
}
