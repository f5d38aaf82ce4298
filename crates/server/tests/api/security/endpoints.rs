//! Endpoint policy: the service never connects to a cloud metadata address, to link-local
//! addresses or to its own host (unless the operator allows it), checked at registration
//! and again at every connection; and what a tenant is told about an unreachable endpoint
//! does not say whether its port is open.

use std::time::Duration;

use postcheck_engine::access::ClusterCredentials;
use postcheck_server::registry::seal_credentials;
use postcheck_store::StoredCluster;
use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;
use tokio::net::TcpListener;

use crate::helpers::*;

fn clusters_path() -> String {
    format!("/api/v3/projects/{PROJECT}/clusters")
}

async fn register(app: &TestApp, endpoint: &str) -> reqwest::Response {
    app.post_json(
        &clusters_path(),
        &json!({"clusterID": CLUSTER, "endpoint": endpoint, "token": "t"}),
    )
    .await
}

#[tokio::test]
async fn a_metadata_address_is_refused_at_registration() {
    let app = spawn_app().await;
    for endpoint in [
        "https://169.254.169.254",
        "http://169.254.169.254:80",
        "https://[fd00:ec2::254]",
        "https://[fe80::1]:6443",
        "https://0.0.0.0:6443",
    ] {
        let error = assert_cce_error(register(&app, endpoint).await, 400, "CCE.01400001").await;
        assert!(
            error["errorMessage"].as_str().unwrap().contains("does not connect to"),
            "{endpoint}: {error}"
        );
    }
}

#[tokio::test]
async fn loopback_is_refused_without_the_allow_flag() {
    let app = spawn_app_with(|c| c.allow_endpoints.clear()).await;
    for endpoint in ["https://127.0.0.1:6443", "https://localhost:6443", "https://[::1]:6443"] {
        let error = assert_cce_error(register(&app, endpoint).await, 400, "CCE.01400001").await;
        assert!(error["errorMessage"].as_str().unwrap().contains("loopback"), "{error}");
    }
    let kubeconfig = "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster: {server: 'https://localhost:6443'}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: t}\n";
    let response = app
        .post_json(&clusters_path(), &json!({"clusterID": CLUSTER, "kubeconfig": kubeconfig}))
        .await;
    assert_cce_error(response, 400, "CCE.01400001").await;
    // With the flag, the same registration is accepted.
    let allowed =
        spawn_app_with(|c| c.allow_endpoints = vec!["127.0.0.1/32".parse().unwrap()]).await;
    assert_eq!(register(&allowed, "https://127.0.0.1:6443").await.status(), 201);
}

#[tokio::test]
async fn the_policy_is_checked_again_at_every_connection() {
    // A row that points at loopback (written when loopback was allowed, or by another
    // tool) is refused when a check connects, and nothing reaches the address.
    let app = spawn_app_with(|c| c.allow_endpoints.clear()).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let endpoint = format!("https://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let credentials =
        ClusterCredentials::Token { endpoint: endpoint.clone(), ca_pem: None, token: "t".into() };
    let row = StoredCluster {
        project_id: PROJECT.into(),
        cluster_id: CLUSTER.into(),
        name: "n".into(),
        endpoint,
        encrypted_credentials: seal_credentials(&app.key, PROJECT, CLUSTER, &credentials).unwrap(),
        created_at: chrono::Utc::now(),
    };
    app.store.create_cluster(&row, 100).await.unwrap();
    let task: Value = app.check_now(CLUSTER).await;
    assert_eq!(task["status"]["phase"], "Error", "{task}");
    assert!(task["status"]["message"].as_str().unwrap().contains("loopback"), "{task}");
    let connected = tokio::time::timeout(Duration::from_millis(300), listener.accept()).await;
    assert!(connected.is_err(), "the service connected to a refused address");
}

/// A port that accepts and closes at once (no TLS).
async fn closing_endpoint() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let guard = tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket.write_all(b"SSH-2.0-OpenSSH_9.2\r\n").await;
        }
    });
    (format!("https://127.0.0.1:{port}"), guard)
}

#[tokio::test]
async fn refused_timed_out_and_tls_failures_read_the_same_to_the_tenant() {
    let app = spawn_app_with(|c| {
        c.check_deadline = Duration::from_secs(20);
        c.cluster_connect_timeout = Duration::from_secs(1);
    })
    .await;
    let (black_hole, _hole) = black_hole_endpoint().await;
    let (not_tls, _closing) = closing_endpoint().await;
    let mut messages = Vec::new();
    for (i, endpoint) in [refused_endpoint().await, black_hole, not_tls].iter().enumerate() {
        let cluster = format!("8978deaa-1743-11ee-8e46-0255ac1000{i:02}");
        let body = json!({"clusterID": cluster, "endpoint": endpoint, "token": "t"});
        assert_eq!(app.post_json(&clusters_path(), &body).await.status(), 201);
        let task: Value = app.check_now(&cluster).await;
        assert_eq!(task["status"]["phase"], "Error", "{task}");
        messages.push(task["status"]["message"].as_str().unwrap().to_owned());
    }
    assert!(messages[0].contains("could not reach the API server"), "{messages:?}");
    assert!(
        messages.iter().all(|m| m == &messages[0]),
        "the messages tell ports apart: {messages:?}"
    );
}
