//! No task stuck: a real PostgreSQL (its own server, started by `scripts/pg-test-server`)
//! is stopped while a check runs and started again after the check ended. The task ends
//! `Success`, `Failed` or `Error`, never `Running`, within one lease of the database's
//! return, and the next check of that cluster is accepted. While the database is down, the
//! API answers 503 in CCE's form promptly.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::helpers::*;

const LEASE: Duration = Duration::from_secs(3);

/// A PostgreSQL server of this test's own, stopped and removed on drop.
struct OwnPostgres {
    dir: PathBuf,
}

impl OwnPostgres {
    fn script() -> PathBuf {
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../scripts/pg-test-server")
    }

    fn run(&self, command: &str) -> String {
        let out = Command::new(Self::script())
            .args([command, self.dir.to_str().unwrap()])
            .output()
            .unwrap_or_else(|e| panic!("running scripts/pg-test-server {command}: {e}"));
        assert!(
            out.status.success(),
            "scripts/pg-test-server {command} failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().lines().last().unwrap_or_default().to_owned()
    }

    fn start() -> (Self, String) {
        // Directly under /tmp: the server runs as the postgres user, who must reach it.
        let dir = PathBuf::from(format!("/tmp/postcheck-outage-{}", uuid::Uuid::new_v4().simple()));
        let pg = Self { dir };
        let url = pg.run("start");
        (pg, url)
    }
}

impl Drop for OwnPostgres {
    fn drop(&mut self) {
        let _ = Command::new(Self::script()).args(["stop", self.dir.to_str().unwrap()]).output();
        let _ = std::fs::remove_dir_all(&self.dir);
        let _ = std::fs::remove_file(self.dir.with_extension("lock"));
        let mut lock = self.dir.clone().into_os_string();
        lock.push(".lock");
        let _ = std::fs::remove_file(lock);
    }
}

#[tokio::test]
#[ignore = "needs PostgreSQL's binaries; scripts/test runs it"]
async fn a_database_outage_as_a_check_ends_leaves_no_task_running_and_no_cluster_locked() {
    let (pg, url) = OwnPostgres::start();
    let app = spawn_on(&url, |c| {
        c.lease_ttl = LEASE;
        c.check_deadline = Duration::from_secs(2);
    })
    .await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let started = app.check_async(CLUSTER).await;
    assert_eq!(started.status(), 202);
    let location = started.headers()["location"].to_str().unwrap().to_owned();

    pg.run("stop");
    // While it is down, the API says so promptly, in CCE's form.
    let asked = Instant::now();
    let during = app.get(&location).await;
    assert!(asked.elapsed() < Duration::from_secs(6), "took {:?}", asked.elapsed());
    assert_cce_error(during, 503, "CCE.01503002").await;
    // The check ends (its deadline) while the database is down, and a little longer.
    tokio::time::sleep(Duration::from_secs(4)).await;
    pg.run("start");
    let back = Instant::now();

    let task = loop {
        let response = app.get(&location).await;
        if response.status() == 200 {
            let task: Value = response.json().await.unwrap();
            if task["status"]["phase"] != "Running" {
                break task;
            }
        }
        assert!(
            back.elapsed() < LEASE + Duration::from_secs(3),
            "still Running {:?} after the database came back",
            back.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let phase = task["status"]["phase"].as_str().unwrap();
    assert!(["Success", "Failed", "Error"].contains(&phase), "{task}");
    let next = app.check_async(CLUSTER).await;
    assert_eq!(next.status(), 202, "the cluster is still locked: {}", next.text().await.unwrap());
}
