//! A process killed mid-check (SIGKILL) leaves no task `Running`: at the next start the
//! task ends `Error`, saying why. A process told to stop (SIGTERM) drains: checks that
//! outlive the grace period end `Error`, and the process exits.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::Value;

use crate::helpers::*;

/// The built `postcheck` binary: `POSTCHECK_BIN`, else beside this test's target folder.
pub(crate) fn postcheck_bin() -> std::path::PathBuf {
    if let Ok(bin) = std::env::var("POSTCHECK_BIN") {
        return bin.into();
    }
    let exe = std::env::current_exe().unwrap();
    let candidate =
        exe.parent().and_then(|deps| deps.parent()).map(|debug| debug.join("postcheck")).unwrap();
    assert!(
        candidate.exists(),
        "the postcheck binary is not built at {} (run `cargo build -p postcheck-cli` or set POSTCHECK_BIN)",
        candidate.display()
    );
    candidate
}

pub(crate) struct Served {
    pub(crate) child: Child,
    pub(crate) base: String,
}

fn serve(database_url: &str) -> Served {
    serve_with(database_url, &[])
}

pub(crate) fn serve_with(database_url: &str, extra: &[&str]) -> Served {
    let mut child = Command::new(postcheck_bin())
        .args([
            "serve",
            "--listen",
            "127.0.0.1:0",
            "--replica-id",
            "recovery-test",
            "--check-deadline",
            "120s",
            "--allow-endpoint",
            "127.0.0.0/8",
        ])
        .args(extra)
        .args(["--database-url", database_url])
        .env("POSTCHECK_KEY", KEY_HEX)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starting postcheck serve");
    let mut line = String::new();
    std::io::BufRead::read_line(
        &mut std::io::BufReader::new(child.stdout.as_mut().unwrap()),
        &mut line,
    )
    .unwrap();
    let base = line.trim().rsplit(' ').next().unwrap_or_default().to_owned();
    assert!(base.starts_with("http://"), "postcheck serve did not say where it listens: {line:?}");
    Served { child, base }
}

#[tokio::test]
#[ignore = "needs the built postcheck binary; scripts/test runs it"]
async fn a_task_left_running_by_a_killed_process_ends_error_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    // The test's own handle on the database, for the token and the cluster.
    let app = spawn_on(&database, |_| {}).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;

    let mut first = serve(&database);
    let path = format!("{}{}", first.base, TestApp::postcheck_path(PROJECT, CLUSTER));
    let response = app
        .http
        .post(&path)
        .header("X-Auth-Token", &app.token)
        .header("Prefer", "respond-async")
        .json(&seed_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let task: Value = response.json().await.unwrap();
    let uid = task["metadata"]["uid"].as_str().unwrap().to_owned();

    first.child.kill().expect("SIGKILL"); // Child::kill sends SIGKILL: no drain, no goodbye.
    first.child.wait().unwrap();
    assert_eq!(
        app.store.get_task(PROJECT, &uid).await.unwrap().unwrap().status.phase,
        postcheck_model::TaskPhase::Running
    );

    let mut second = serve(&database);
    let read: Value = app
        .http
        .get(format!("{}{}/tasks/{uid}", second.base, TestApp::postcheck_path(PROJECT, CLUSTER)))
        .header("X-Auth-Token", &app.token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(read["status"]["phase"], "Error", "{read}");
    assert!(read["status"]["message"].as_str().unwrap().contains("restarted"), "{read}");
    // And the cluster is free again.
    let again = app
        .http
        .post(format!("{}{}", second.base, TestApp::postcheck_path(PROJECT, CLUSTER)))
        .header("X-Auth-Token", &app.token)
        .header("Prefer", "respond-async")
        .json(&seed_request())
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), 202);
    let _ = second.child.kill();
    let _ = second.child.wait();
    tokio::time::sleep(Duration::from_millis(10)).await;
}

#[tokio::test]
#[ignore = "needs the built postcheck binary; scripts/test runs it"]
async fn sigterm_drains_running_checks_and_exits() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    let app = spawn_on(&database, |_| {}).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;

    let mut served = serve_with(&database, &["--grace-period", "1s"]);
    let path = format!("{}{}", served.base, TestApp::postcheck_path(PROJECT, CLUSTER));
    let response = app
        .http
        .post(&path)
        .header("X-Auth-Token", &app.token)
        .header("Prefer", "respond-async")
        .json(&seed_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let uid =
        response.json::<Value>().await.unwrap()["metadata"]["uid"].as_str().unwrap().to_owned();

    let stopped = std::time::Instant::now();
    let killed = Command::new("kill")
        .args(["-TERM", &served.child.id().to_string()])
        .status()
        .expect("running kill");
    assert!(killed.success());
    let status = tokio::task::spawn_blocking(move || served.child.wait()).await.unwrap().unwrap();
    assert!(status.success(), "postcheck serve exits cleanly on SIGTERM: {status}");
    assert!(
        stopped.elapsed() < Duration::from_secs(15),
        "it exits after the grace period, not the check deadline"
    );
    let task = app.store.get_task(PROJECT, &uid).await.unwrap().unwrap();
    assert_eq!(task.status.phase, postcheck_model::TaskPhase::Error);
    assert!(task.status.message.unwrap().contains("shut down"));
}

#[tokio::test]
#[ignore = "needs the built postcheck binary; scripts/test runs it"]
async fn another_replica_ends_a_dead_replicas_task_when_its_lease_lapses() {
    let dir = tempfile::tempdir().unwrap();
    let database = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    // The surviving replica (in this test process) renews and reaps every second.
    let survivor = spawn_on(&database, |c| c.replica_id = Some("survivor".into())).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    survivor.register_endpoint(CLUSTER, &endpoint).await;

    let mut doomed = serve_with(&database, &["--lease-ttl", "2s"]);
    let path = format!("{}{}", doomed.base, TestApp::postcheck_path(PROJECT, CLUSTER));
    let response = survivor
        .http
        .post(&path)
        .header("X-Auth-Token", &survivor.token)
        .header("Prefer", "respond-async")
        .json(&seed_request())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 202);
    let uid =
        response.json::<Value>().await.unwrap()["metadata"]["uid"].as_str().unwrap().to_owned();
    doomed.child.kill().expect("SIGKILL");
    doomed.child.wait().unwrap();

    let task_path = format!("{}/tasks/{uid}", TestApp::postcheck_path(PROJECT, CLUSTER));
    let done = wait_for_final(&survivor, &task_path, Duration::from_secs(15)).await;
    assert_eq!(done["status"]["phase"], "Error", "{done}");
    assert!(done["status"]["message"].as_str().unwrap().contains("lease expired"), "{done}");
}
