//! Two replicas on one PostgreSQL act as one service: a task made through one is read
//! through the other, and a cluster being checked on one is locked (429) on the other.

use std::time::Duration;

use serde_json::Value;
use sqlx::Connection as _;

use crate::helpers::*;

/// A fresh database on the test PostgreSQL server; panics loudly when there is none.
pub(crate) async fn fresh_postgres_database() -> String {
    let url = std::env::var("POSTCHECK_TEST_POSTGRES_URL").unwrap_or_else(|_| {
        panic!("POSTCHECK_TEST_POSTGRES_URL is not set: start PostgreSQL with `scripts/pg-test-server start` and export the URL it prints")
    });
    let mut admin = sqlx::PgConnection::connect(&url).await.unwrap_or_else(|e| {
        panic!("PostgreSQL at POSTCHECK_TEST_POSTGRES_URL is not reachable: {e}")
    });
    let name = format!("server_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .expect("creating a test database");
    let (base, _) = url.rsplit_once('/').expect("a URL with a database name");
    format!("{base}/{name}")
}

#[tokio::test]
#[ignore = "needs PostgreSQL; scripts/test runs it"]
async fn two_replicas_share_tasks_and_lock_a_cluster_between_them() {
    let database = fresh_postgres_database().await;
    let one = spawn_on(&database, |c| {
        c.replica_id = Some("replica-one".into());
        c.check_deadline = Duration::from_secs(4);
    })
    .await;
    let two = spawn_on(&database, |c| {
        c.replica_id = Some("replica-two".into());
        c.check_deadline = Duration::from_secs(4);
    })
    .await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    one.register_endpoint(CLUSTER, &endpoint).await;

    let path = TestApp::postcheck_path(PROJECT, CLUSTER);
    let started = one
        .post_raw(
            &path,
            "application/json",
            seed_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await;
    assert_eq!(started.status(), 202);
    let started: Value = started.json().await.unwrap();
    let task_path = format!("{path}/tasks/{}", started["metadata"]["uid"].as_str().unwrap());

    // Replica two sees the task replica one is running...
    let seen: Value = two.get(&task_path).await.json().await.unwrap();
    assert_eq!(seen["status"]["phase"], "Running", "{seen}");
    // ...and refuses a concurrent check of the same cluster, synchronous or not.
    assert_cce_error(two.post_json(&path, &seed_request()).await, 429, "CCE.01429002").await;
    let response = two
        .post_raw(
            &path,
            "application/json",
            seed_request().to_string().into_bytes(),
            &[("Prefer", "respond-async")],
        )
        .await;
    assert_cce_error(response, 429, "CCE.01429002").await;

    // When replica one's check ends, replica two reads the outcome.
    let done = wait_for_final(&two, &task_path, Duration::from_secs(20)).await;
    assert_eq!(done["status"]["phase"], "Error", "{done}");
}

#[tokio::test]
#[ignore = "needs PostgreSQL; scripts/test runs it"]
async fn many_concurrent_posts_across_two_replicas_run_one_check() {
    let database = fresh_postgres_database().await;
    let one = spawn_on(&database, |c| c.replica_id = Some("race-one".into())).await;
    let two = spawn_on(&database, |c| c.replica_id = Some("race-two".into())).await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    one.register_endpoint(CLUSTER, &endpoint).await;
    let path = TestApp::postcheck_path(PROJECT, CLUSTER);
    let body = seed_request().to_string().into_bytes();
    let posts = (0..10).map(|i| {
        let app = if i % 2 == 0 { &one } else { &two };
        app.post_raw(&path, "application/json", body.clone(), &[("Prefer", "respond-async")])
    });
    let statuses: Vec<u16> =
        futures::future::join_all(posts).await.iter().map(|r| r.status().as_u16()).collect();
    assert_eq!(
        statuses.iter().filter(|&&s| s == 202).count(),
        1,
        "exactly one check runs: {statuses:?}"
    );
    assert_eq!(
        statuses.iter().filter(|&&s| s == 429).count(),
        9,
        "the others are refused: {statuses:?}"
    );
}
