//! Leases: a running task belongs to a live replica only while that replica renews it.

use std::sync::Arc;

use chrono::Duration;
use postcheck_model::{TaskPhase, TaskStatus};
use postcheck_store::Store;

use crate::fixtures::{OWNER, now, running_task};

pub(crate) async fn renewing_extends_only_the_owners_running_tasks(store: Arc<dyn Store>) {
    let t0 = now();
    for uid in ["mine-running", "mine-done"] {
        store.create_task(&running_task("proj-a", "cluster-1", uid, t0)).await.unwrap();
    }
    store
        .finish_task("proj-a", "mine-done", &TaskStatus::bare(TaskPhase::Success, "ok"))
        .await
        .unwrap();
    let theirs = running_task("proj-a", "cluster-2", "theirs", t0);
    let theirs = postcheck_store::StoredTask { owner: "replica-b".into(), ..theirs };
    store.create_task(&theirs).await.unwrap();
    let until = t0 + Duration::minutes(10);

    let uids = ["mine-running", "mine-done", "theirs"].map(String::from);
    let renewed = store.renew_leases(OWNER, &uids, until).await.unwrap();

    assert_eq!(renewed, 1);
    let lease = |uid: &'static str| {
        let store = store.clone();
        async move { store.get_task("proj-a", uid).await.unwrap().unwrap().lease_expires_at }
    };
    assert_eq!(lease("mine-running").await, until);
    assert_eq!(
        lease("mine-done").await,
        t0 + Duration::seconds(60),
        "a finished task keeps its lease"
    );
    assert_eq!(
        lease("theirs").await,
        t0 + Duration::seconds(60),
        "another replica's task is not ours to renew"
    );
}

pub(crate) async fn an_orphaned_task_ends_in_error_and_a_live_one_is_untouched(
    store: Arc<dyn Store>,
) {
    let t0 = now();
    let mut orphan = running_task("proj-a", "cluster-1", "orphan", t0 - Duration::minutes(5));
    orphan.lease_expires_at = t0 - Duration::seconds(1);
    let live = running_task("proj-a", "cluster-2", "live", t0);
    let mut finished = running_task("proj-a", "cluster-3", "finished", t0 - Duration::minutes(5));
    finished.lease_expires_at = t0 - Duration::seconds(1);
    for task in [&orphan, &live, &finished] {
        store.create_task(task).await.unwrap();
    }
    let verdict = TaskStatus::bare(TaskPhase::Success, "all good");
    store.finish_task("proj-a", "finished", &verdict).await.unwrap();
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "orphan", t0 + Duration::minutes(5))
            .await
            .unwrap()
    );

    let expired = store.expire_orphans(t0, "the replica running this check stopped").await.unwrap();

    assert_eq!(expired, 1);
    let ended = store.get_task("proj-a", "orphan").await.unwrap().unwrap();
    assert_eq!(ended.status.phase, TaskPhase::Error);
    assert_eq!(ended.status.message.as_deref(), Some("the replica running this check stopped"));
    assert_eq!(ended.status.started_at, orphan.status.started_at, "the rest of the status is kept");
    let finished_at = ended.status.finished_at.expect("an ended task has finishedAt");
    assert!(finished_at >= t0 - Duration::seconds(1), "{finished_at}");
    assert!(ended.updated_at >= t0);
    assert_eq!(store.get_task("proj-a", "live").await.unwrap().unwrap(), live);
    assert_eq!(store.get_task("proj-a", "finished").await.unwrap().unwrap().status, verdict);
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "next", t0 + Duration::minutes(5))
            .await
            .unwrap(),
        "the orphan's cluster lock is freed"
    );
    assert_eq!(store.expire_orphans(t0, "again").await.unwrap(), 0, "an ended task ends once");
}

pub(crate) async fn abandoning_an_owner_ends_its_running_tasks_only(store: Arc<dyn Store>) {
    let t0 = now();
    let mine = running_task("proj-a", "cluster-1", "mine", t0);
    let mut theirs = running_task("proj-b", "cluster-2", "theirs", t0);
    theirs.owner = "replica-b".into();
    store.create_task(&mine).await.unwrap();
    store.create_task(&theirs).await.unwrap();
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "mine", t0 + Duration::minutes(5))
            .await
            .unwrap()
    );
    assert!(
        store
            .try_lock_cluster("proj-b", "cluster-2", "theirs", t0 + Duration::minutes(5))
            .await
            .unwrap()
    );

    let abandoned = store.abandon_owner(OWNER, "the service restarted").await.unwrap();

    assert_eq!(abandoned, 1);
    let ended = store.get_task("proj-a", "mine").await.unwrap().unwrap();
    assert_eq!(ended.status.phase, TaskPhase::Error);
    assert_eq!(ended.status.message.as_deref(), Some("the service restarted"));
    assert_eq!(store.get_task("proj-b", "theirs").await.unwrap().unwrap(), theirs);
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "next", t0 + Duration::minutes(5))
            .await
            .unwrap()
    );
    assert!(
        !store
            .try_lock_cluster("proj-b", "cluster-2", "next", t0 + Duration::minutes(5))
            .await
            .unwrap(),
        "another owner's lock stays"
    );
    assert_eq!(store.abandon_owner(OWNER, "again").await.unwrap(), 0);
}

pub(crate) async fn a_task_whose_check_is_over_is_not_renewed_and_lapses(store: Arc<dyn Store>) {
    // The replica's check of "stuck" ended but its outcome could not be written: the task
    // is still Running in the database, and the replica no longer lists it as running.
    let t0 = now();
    for uid in ["still-running", "stuck"] {
        store.create_task(&running_task("proj-a", uid, uid, t0)).await.unwrap();
    }
    let until = t0 + Duration::minutes(10);
    let renewed = store.renew_leases(OWNER, &["still-running".into()], until).await.unwrap();
    assert_eq!(renewed, 1);
    let stuck = store.get_task("proj-a", "stuck").await.unwrap().unwrap();
    assert_eq!(stuck.lease_expires_at, t0 + Duration::seconds(60), "not renewed");
    let ended = store.expire_orphans(t0 + Duration::seconds(61), "lapsed").await.unwrap();
    assert_eq!(ended, 1);
    let stuck = store.get_task("proj-a", "stuck").await.unwrap().unwrap();
    assert_eq!(stuck.status.phase, TaskPhase::Error);
    assert_eq!(
        store.get_task("proj-a", "still-running").await.unwrap().unwrap().status.phase,
        TaskPhase::Running
    );
}
