//! Secrets are never shown: an endpoint with user info or a query string is refused
//! without being echoed, and the service's log (the real binary's stderr, not a terminal)
//! carries neither secrets nor ANSI colour codes.

use std::process::{Command, Stdio};
use std::time::Duration;

use serde_json::json;

use crate::helpers::*;

#[tokio::test]
async fn endpoints_carrying_credentials_are_refused_without_echoing_them() {
    let app = spawn_app().await;
    let path = format!("/api/v3/projects/{PROJECT}/clusters");
    for endpoint in [
        "https://admin:hunter2-password@127.0.0.1:6443",
        "https://127.0.0.1:6443/?token=hunter2-password",
    ] {
        let body = json!({"clusterID": CLUSTER, "endpoint": endpoint, "token": "t"});
        let error = assert_cce_error(app.post_json(&path, &body).await, 400, "CCE.01400001").await;
        assert!(!error.to_string().contains("hunter2"), "{error}");
    }
    let kubeconfig = "apiVersion: v1\nkind: Config\ncurrent-context: c\nclusters:\n- name: k\n  cluster: {server: 'https://u:hunter2-password@127.0.0.1:6443'}\ncontexts:\n- name: c\n  context: {cluster: k, user: u}\nusers:\n- name: u\n  user: {token: t}\n";
    let error = assert_cce_error(
        app.post_json(&path, &json!({"clusterID": CLUSTER, "kubeconfig": kubeconfig})).await,
        400,
        "CCE.01400001",
    )
    .await;
    assert!(!error.to_string().contains("hunter2"), "{error}");
    assert!(app.store.list_clusters(None).await.unwrap().is_empty());
}

#[tokio::test]
#[ignore = "needs the built postcheck binary; scripts/test runs it"]
async fn the_log_has_no_secrets_and_no_colour_codes_when_not_a_terminal() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    let app = spawn_on(&database, |_| {}).await;
    let log_path = dir.path().join("serve.log");
    let log = std::fs::File::create(&log_path).unwrap();
    let mut child = Command::new(crate::recovery::postcheck_bin())
        .args(["serve", "--listen", "127.0.0.1:0", "--database-url", &database])
        .env("POSTCHECK_KEY", KEY_HEX)
        .env("POSTCHECK_LOG", "debug")
        .stdout(Stdio::piped())
        .stderr(Stdio::from(log))
        .spawn()
        .unwrap();
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap().to_owned();
    let path = format!("{base}/api/v3/projects/{PROJECT}/clusters");
    // A credential in a URL, a bearer token, a token of the service.
    let body = json!({"endpoint": "https://admin:hunter2-password@127.0.0.1:6443", "token": "t"});
    app.http.post(&path).header("X-Auth-Token", &app.token).json(&body).send().await.unwrap();
    app.http.get(&path).header("Authorization", "Bearer hunter2-bearer").send().await.unwrap();
    app.http.get(&path).header("X-Auth-Token", "pct_hunter2token").send().await.unwrap();
    app.http.get(&path).header("X-Auth-Token", &app.token).send().await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;
    terminate(&mut child);
    let text = std::fs::read_to_string(&log_path).unwrap();
    assert!(text.contains("serving"), "the log is empty: {text}");
    assert!(!text.contains('\u{1b}'), "ANSI codes in a log file: {text}");
    assert!(!text.contains("hunter2"), "a secret reached the log: {text}");
    assert!(!text.contains(&app.token), "the service's token reached the log: {text}");
}

/// Stops a child this test started (SIGTERM via `kill`, then waits).
fn terminate(child: &mut std::process::Child) {
    let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::time::Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    let _ = child.kill();
    let _ = child.wait();
}
