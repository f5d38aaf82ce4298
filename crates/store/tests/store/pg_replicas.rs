//! Several replicas on one PostgreSQL database: what they race on is decided atomically.

use std::sync::Arc;

use chrono::Duration;
use postcheck_store::{PgStore, Store};

use crate::fixtures::{TestDatabase, now, running_task};

/// Two replicas (two stores, two pools) that started together on a fresh database.
async fn two_replicas(db: &TestDatabase) -> [Arc<PgStore>; 2] {
    // Both apply the migrations at once: the advisory lock makes them take turns.
    let (a, b) = tokio::join!(PgStore::connect(&db.url), PgStore::connect(&db.url));
    [Arc::new(a.expect("replica A connects")), Arc::new(b.expect("replica B connects"))]
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL; scripts/test runs it"]
async fn twenty_tasks_on_two_replicas_racing_for_one_cluster_lock_have_exactly_one_winner() {
    let db = TestDatabase::create().await;
    let replicas = two_replicas(&db).await;
    let until = now() + Duration::minutes(5);
    let start = Arc::new(tokio::sync::Barrier::new(20));

    let racers: Vec<_> = (0..20)
        .map(|i| {
            let store = replicas[i % 2].clone();
            let start = start.clone();
            tokio::spawn(async move {
                start.wait().await;
                let won = store
                    .try_lock_cluster("proj-a", "cluster-1", &format!("task-{i}"), until)
                    .await
                    .unwrap();
                (i, won)
            })
        })
        .collect();
    let mut winners = Vec::new();
    for racer in racers {
        let (i, won) = racer.await.unwrap();
        if won {
            winners.push(i);
        }
    }

    assert_eq!(winners.len(), 1, "exactly one task takes the lock, got {winners:?}");
    let winner = format!("task-{}", winners[0]);
    let loser = if winners[0] == 0 { "task-1" } else { "task-0" };
    assert!(!replicas[0].try_lock_cluster("proj-a", "cluster-1", loser, until).await.unwrap());
    replicas[1].unlock_cluster("proj-a", "cluster-1", &winner).await.unwrap();
    assert!(
        replicas[0].try_lock_cluster("proj-a", "cluster-1", loser, until).await.unwrap(),
        "the winner held it"
    );

    for replica in &replicas {
        replica.close().await;
    }
    db.drop_database().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
#[ignore = "needs PostgreSQL; scripts/test runs it"]
async fn two_replicas_sweeping_orphans_together_end_each_task_once() {
    let db = TestDatabase::create().await;
    let replicas = two_replicas(&db).await;
    let t0 = now();
    for i in 0..30 {
        let mut task = running_task(
            "proj-a",
            &format!("cluster-{i}"),
            &format!("task-{i}"),
            t0 - Duration::minutes(5),
        );
        task.lease_expires_at = t0 - Duration::seconds(1);
        replicas[0].create_task(&task).await.unwrap();
        assert!(
            replicas[0]
                .try_lock_cluster("proj-a", &task.cluster_id, &task.uid, t0 + Duration::minutes(5))
                .await
                .unwrap()
        );
    }

    let (a, b) = tokio::join!(
        replicas[0].expire_orphans(t0, "the replica running this check stopped"),
        replicas[1].expire_orphans(t0, "the replica running this check stopped"),
    );

    assert_eq!(a.unwrap() + b.unwrap(), 30, "each orphan is ended by exactly one replica");
    for i in 0..30 {
        let task = replicas[1].get_task("proj-a", &format!("task-{i}")).await.unwrap().unwrap();
        assert_eq!(task.status.phase, postcheck_model::TaskPhase::Error);
        assert!(
            replicas[1]
                .try_lock_cluster("proj-a", &task.cluster_id, "next", t0 + Duration::minutes(5))
                .await
                .unwrap()
        );
    }

    for replica in &replicas {
        replica.close().await;
    }
    db.drop_database().await;
}
