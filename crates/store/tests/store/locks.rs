//! The per-cluster lock: one check of a cluster at a time.

use std::sync::Arc;

use chrono::Duration;
use postcheck_model::{TaskPhase, TaskStatus};
use postcheck_store::Store;

use crate::fixtures::{now, running_task};

pub(crate) async fn a_held_cluster_lock_refuses_other_tasks_until_unlocked(store: Arc<dyn Store>) {
    let until = now() + Duration::minutes(5);
    assert!(store.try_lock_cluster("proj-a", "cluster-1", "task-1", until).await.unwrap());

    assert!(!store.try_lock_cluster("proj-a", "cluster-1", "task-2", until).await.unwrap());
    assert!(
        store.try_lock_cluster("proj-a", "cluster-1", "task-1", until).await.unwrap(),
        "the holder may take it again"
    );
    store.unlock_cluster("proj-a", "cluster-1", "task-2").await.unwrap();
    assert!(
        !store.try_lock_cluster("proj-a", "cluster-1", "task-2", until).await.unwrap(),
        "only the holder unlocks"
    );

    store.unlock_cluster("proj-a", "cluster-1", "task-1").await.unwrap();

    assert!(store.try_lock_cluster("proj-a", "cluster-1", "task-2", until).await.unwrap());
}

pub(crate) async fn a_lapsed_cluster_lock_can_be_taken(store: Arc<dyn Store>) {
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "task-1", now() + Duration::milliseconds(300))
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_lock_cluster("proj-a", "cluster-1", "task-2", now() + Duration::minutes(5))
            .await
            .unwrap()
    );

    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "task-2", now() + Duration::minutes(5))
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_lock_cluster("proj-a", "cluster-1", "task-1", now() + Duration::minutes(5))
            .await
            .unwrap()
    );
}

pub(crate) async fn finishing_a_task_frees_its_cluster_lock(store: Arc<dyn Store>) {
    let until = now() + Duration::minutes(5);
    store.create_task(&running_task("proj-a", "cluster-1", "task-1", now())).await.unwrap();
    assert!(store.try_lock_cluster("proj-a", "cluster-1", "task-1", until).await.unwrap());

    let progress = TaskStatus::bare(TaskPhase::Running, "gathering");
    assert!(store.finish_task("proj-a", "task-1", &progress).await.unwrap());
    assert!(
        !store.try_lock_cluster("proj-a", "cluster-1", "task-2", until).await.unwrap(),
        "a status still Running keeps the lock"
    );

    let done = TaskStatus::bare(TaskPhase::Success, "all good");
    assert!(store.finish_task("proj-a", "task-1", &done).await.unwrap());

    assert!(store.try_lock_cluster("proj-a", "cluster-1", "task-2", until).await.unwrap());
}

pub(crate) async fn renewing_a_lease_keeps_the_cluster_lock(store: Arc<dyn Store>) {
    store.create_task(&running_task("proj-a", "cluster-1", "task-1", now())).await.unwrap();
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "task-1", now() + Duration::milliseconds(300))
            .await
            .unwrap()
    );

    store
        .renew_leases(crate::fixtures::OWNER, &["task-1".into()], now() + Duration::minutes(5))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;

    assert!(
        !store
            .try_lock_cluster("proj-a", "cluster-1", "task-2", now() + Duration::minutes(5))
            .await
            .unwrap(),
        "the lock lasts as long as the renewed lease"
    );
}

pub(crate) async fn locks_are_per_project_and_per_cluster(store: Arc<dyn Store>) {
    let until = now() + Duration::minutes(5);
    assert!(store.try_lock_cluster("proj-a", "cluster-1", "task-1", until).await.unwrap());

    assert!(store.try_lock_cluster("proj-a", "cluster-2", "task-2", until).await.unwrap());
    assert!(store.try_lock_cluster("proj-b", "cluster-1", "task-3", until).await.unwrap());
}
