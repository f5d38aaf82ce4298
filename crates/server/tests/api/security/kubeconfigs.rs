//! A tenant's kubeconfig is data, never instructions to the host: every hostile kind is
//! refused at registration, naming the field; one written straight into the store is
//! refused when the client is built; a marker command never runs; a `tokenFile` naming a
//! server file never leaves the host.

use std::time::Duration;

use postcheck_engine::access::ClusterCredentials;
use postcheck_server::registry::seal_credentials;
use postcheck_store::StoredCluster;
use serde_json::{Value, json};
use tokio::io::AsyncReadExt;
use tokio::net::TcpListener;

use crate::helpers::*;

fn clusters_path() -> String {
    format!("/api/v3/projects/{PROJECT}/clusters")
}

/// A kubeconfig whose one cluster is `server` and whose user or cluster carries `extra`
/// (YAML lines, indented for `user:` or `cluster:`).
fn kubeconfig(server: &str, cluster_extra: &str, user: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster:\n    server: {server}\n{cluster_extra}contexts:\n- name: c\n  context: {{cluster: k, user: u}}\nusers:\n- name: u\n  user:\n{user}"
    )
}

/// A loopback listener that records every byte sent to it, for as long as it lives.
async fn recording_listener() -> (String, tokio::task::JoinHandle<Vec<u8>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let recorder = tokio::spawn(async move {
        let mut seen = Vec::new();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(8);
        while let Ok(Ok((mut socket, _))) =
            tokio::time::timeout_at(deadline, listener.accept()).await
        {
            let mut buf = vec![0u8; 64 * 1024];
            if let Ok(Ok(n)) =
                tokio::time::timeout(Duration::from_secs(1), socket.read(&mut buf)).await
            {
                seen.extend_from_slice(&buf[..n]);
            }
        }
        seen
    });
    (format!("http://127.0.0.1:{port}"), recorder)
}

/// Writes a cluster row straight into the store, as another tool (or an older version)
/// might, sealed as the service seals.
async fn write_row(app: &TestApp, cluster: &str, kubeconfig: String) {
    let credentials = ClusterCredentials::Kubeconfig { kubeconfig, context: None };
    let sealed = seal_credentials(&app.key, PROJECT, cluster, &credentials).unwrap();
    let row = StoredCluster {
        project_id: PROJECT.into(),
        cluster_id: cluster.into(),
        name: "written-directly".into(),
        endpoint: "https://127.0.0.1:1".into(),
        encrypted_credentials: sealed,
        created_at: chrono::Utc::now(),
    };
    app.store.create_cluster(&row, 100).await.unwrap();
}

#[tokio::test]
async fn each_hostile_kubeconfig_kind_is_refused_at_registration_naming_the_field() {
    let app = spawn_app().await;
    let server = "https://127.0.0.1:6443";
    let cases = [
        (
            "users[0].user.exec",
            kubeconfig(server, "", "    exec: {command: /bin/sh, args: [-c, id]}\n"),
        ),
        ("users[0].user.auth-provider", kubeconfig(server, "", "    auth-provider: {name: gcp}\n")),
        ("users[0].user.tokenFile", kubeconfig(server, "", "    tokenFile: /etc/hostname\n")),
        (
            "users[0].user.client-certificate",
            kubeconfig(server, "", "    client-certificate: /etc/ssl/c.pem\n"),
        ),
        ("users[0].user.client-key", kubeconfig(server, "", "    client-key: /etc/ssl/k.pem\n")),
        (
            "clusters[0].cluster.certificate-authority",
            kubeconfig(server, "    certificate-authority: /etc/ssl/ca.pem\n", "    token: t\n"),
        ),
        (
            "clusters[0].cluster.proxy-url",
            kubeconfig(server, "    proxy-url: http://127.0.0.1:3128\n", "    token: t\n"),
        ),
        (
            "clusters[0].cluster.unknown-field",
            kubeconfig(server, "    unknown-field: x\n", "    token: t\n"),
        ),
        ("users[0].user.as", kubeconfig(server, "", "    token: t\n    as: system:admin\n")),
    ];
    for (field, text) in cases {
        let response = app
            .post_json(&clusters_path(), &json!({"clusterID": CLUSTER, "kubeconfig": text}))
            .await;
        let error = assert_cce_error(response, 400, "CCE.01400001").await;
        assert!(error["errorMessage"].as_str().unwrap().contains(field), "{field}: {error}");
    }
    assert!(app.store.list_clusters(Some(PROJECT)).await.unwrap().is_empty(), "nothing stored");
}

#[tokio::test]
async fn a_kubeconfig_with_several_contexts_keeps_only_the_chosen_one() {
    let app = spawn_app().await;
    let text = "apiVersion: v1\nkind: Config\ncurrent-context: evil\nclusters:\n- name: a\n  cluster: {server: 'https://127.0.0.1:6443'}\n- name: b\n  cluster: {server: 'https://127.0.0.2:6443', proxy-url: 'http://x'}\ncontexts:\n- name: good\n  context: {cluster: a, user: ua}\n- name: evil\n  context: {cluster: b, user: ub}\nusers:\n- name: ua\n  user: {token: good-token}\n- name: ub\n  user: {exec: {command: /bin/sh}}\n";
    let response = app
        .post_json(
            &clusters_path(),
            &json!({"clusterID": CLUSTER, "kubeconfig": text, "context": "good"}),
        )
        .await;
    assert_eq!(response.status(), 201, "{}", response.text().await.unwrap());
    let stored = app.store.get_cluster(PROJECT, CLUSTER).await.unwrap().unwrap();
    let credentials = postcheck_server::registry::credentials_of(&app.key, &stored).unwrap();
    let ClusterCredentials::Kubeconfig { kubeconfig, context } = credentials else {
        panic!("a kubeconfig was registered")
    };
    assert_eq!(context.as_deref(), Some("good"));
    for gone in ["evil", "127.0.0.2", "/bin/sh", "proxy"] {
        assert!(!kubeconfig.contains(gone), "{gone} was kept: {kubeconfig}");
    }
    assert!(kubeconfig.contains("good-token"));
}

#[tokio::test]
async fn a_marker_command_in_a_row_written_straight_to_the_store_never_runs() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let marker = dir.path().join("exec-ran");
    let exec = format!(
        "    exec:\n      apiVersion: client.authentication.k8s.io/v1\n      command: /bin/sh\n      args: [-c, 'touch {}']\n",
        marker.display()
    );
    // Refused through the API...
    let text = kubeconfig("https://127.0.0.1:6443", "", &exec);
    let response =
        app.post_json(&clusters_path(), &json!({"clusterID": CLUSTER, "kubeconfig": text})).await;
    assert_cce_error(response, 400, "CCE.01400001").await;
    // ...and refused when a client is built from a row that bypassed it.
    write_row(&app, CLUSTER, text).await;
    let task: Value = app.check_now(CLUSTER).await;
    assert_eq!(task["status"]["phase"], "Error", "{task}");
    assert!(task["status"]["message"].as_str().unwrap().contains("users[0].user.exec"), "{task}");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!marker.exists(), "the tenant's command ran on the service's host");
}

#[tokio::test]
async fn a_token_file_naming_a_server_file_never_leaves_the_host() {
    let app = spawn_app().await;
    let dir = tempfile::tempdir().unwrap();
    let secret_file = dir.path().join("server-secret");
    std::fs::write(&secret_file, "SERVER-SIDE-SECRET-0123").unwrap();
    let (listener, recorded) = recording_listener().await;
    let text = kubeconfig(&listener, "", &format!("    tokenFile: {}\n", secret_file.display()));
    let response =
        app.post_json(&clusters_path(), &json!({"clusterID": CLUSTER, "kubeconfig": text})).await;
    let error = assert_cce_error(response, 400, "CCE.01400001").await;
    assert!(error["errorMessage"].as_str().unwrap().contains("tokenFile"), "{error}");
    write_row(&app, CLUSTER, text).await;
    let task: Value = app.check_now(CLUSTER).await;
    assert_eq!(task["status"]["phase"], "Error", "{task}");
    let seen = String::from_utf8_lossy(&recorded.await.unwrap()).to_ascii_lowercase();
    assert!(
        !seen.contains("authorization"),
        "an Authorization header reached the tenant's endpoint: {seen}"
    );
    assert!(!seen.contains("server-side-secret"), "the server's file left the host: {seen}");
}

#[tokio::test]
#[ignore = "needs the built postcheck binary; scripts/test runs it"]
async fn postcheck_cluster_add_refuses_what_the_api_refuses() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    let file = dir.path().join("kubeconfig");
    std::fs::write(
        &file,
        kubeconfig("https://127.0.0.1:6443", "", "    exec: {command: /bin/sh}\n"),
    )
    .unwrap();
    let add = |extra: &[&str]| {
        std::process::Command::new(crate::recovery::postcheck_bin())
            .args(["cluster", "add", "--project", PROJECT, "--kubeconfig"])
            .arg(&file)
            .args(["--database-url", &database])
            .args(extra)
            .env("POSTCHECK_KEY", KEY_HEX)
            .output()
            .expect("running postcheck cluster add")
    };
    let refused = add(&["--allow-endpoint", "127.0.0.1"]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("users[0].user.exec"), "{stderr}");
    std::fs::write(&file, kubeconfig("https://127.0.0.1:6443", "", "    token: t\n")).unwrap();
    let loopback = add(&[]);
    assert!(!loopback.status.success(), "loopback needs --allow-endpoint");
    assert!(String::from_utf8_lossy(&loopback.stderr).contains("loopback"));
    let accepted = add(&["--allow-endpoint", "127.0.0.1"]);
    assert!(accepted.status.success(), "{}", String::from_utf8_lossy(&accepted.stderr));
}
