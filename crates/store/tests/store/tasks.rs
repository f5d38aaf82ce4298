//! Tasks: written, read back, listed page by page, finished, and kept within their project.

use std::sync::Arc;

use chrono::Duration;
use postcheck_model::{TaskPhase, TaskStatus};
use postcheck_store::{Store, StoreError, StoredTask};

use crate::fixtures::{baseline, cluster, now, running_task};

pub(crate) async fn a_created_task_reads_back_as_written(store: Arc<dyn Store>) {
    let task = running_task("proj-a", "cluster-1", "task-1", now());

    store.create_task(&task).await.unwrap();

    assert_eq!(store.get_task("proj-a", "task-1").await.unwrap(), Some(task));
    assert_eq!(store.get_task("proj-a", "task-2").await.unwrap(), None);
}

pub(crate) async fn creating_a_task_twice_is_a_conflict(store: Arc<dyn Store>) {
    let task = running_task("proj-a", "cluster-1", "task-1", now());
    store.create_task(&task).await.unwrap();

    let again = store.create_task(&task).await.unwrap_err();

    assert!(
        matches!(&again, StoreError::Conflict { what } if what.contains("task-1")),
        "{again:?}"
    );
}

/// Creates `n` tasks of one cluster, one second apart, and returns them newest first.
async fn tasks_one_second_apart(
    store: &dyn Store,
    project: &str,
    cluster: &str,
    n: usize,
) -> Vec<StoredTask> {
    let start = now() - Duration::hours(1);
    let mut tasks = Vec::new();
    for i in 0..n {
        let task = running_task(
            project,
            cluster,
            &format!("{cluster}-task-{i:02}"),
            start + Duration::seconds(i as i64),
        );
        store.create_task(&task).await.unwrap();
        tasks.push(task);
    }
    tasks.reverse();
    tasks
}

fn uids(tasks: &[StoredTask]) -> Vec<&str> {
    tasks.iter().map(|t| t.uid.as_str()).collect()
}

pub(crate) async fn tasks_are_listed_newest_first_in_pages_with_stable_markers(
    store: Arc<dyn Store>,
) {
    let mut expected = tasks_one_second_apart(&*store, "proj-a", "cluster-1", 6).await;
    // Two more created in the same microsecond as the newest: the uid breaks the tie.
    let newest = expected[0].created_at + Duration::seconds(1);
    for uid in ["cluster-1-tie-a", "cluster-1-tie-b"] {
        let task = running_task("proj-a", "cluster-1", uid, newest);
        store.create_task(&task).await.unwrap();
        expected.insert(0, task);
    }
    // Another cluster's tasks never show up.
    tasks_one_second_apart(&*store, "proj-a", "cluster-2", 2).await;

    let first = store.list_tasks("proj-a", "cluster-1", 3, None).await.unwrap();
    let second =
        store.list_tasks("proj-a", "cluster-1", 3, first.next_marker.as_deref()).await.unwrap();
    let third =
        store.list_tasks("proj-a", "cluster-1", 3, second.next_marker.as_deref()).await.unwrap();

    assert_eq!(uids(&first.tasks), uids(&expected[0..3]));
    assert_eq!(uids(&second.tasks), uids(&expected[3..6]));
    assert_eq!(uids(&third.tasks), uids(&expected[6..8]));
    assert_eq!(third.tasks, expected[6..8].to_vec(), "listed tasks are whole");
    assert!(first.next_marker.is_some() && second.next_marker.is_some());
    assert_eq!(third.next_marker, None, "the last page has no marker");

    // A task created meanwhile goes on top; the pages after a marker do not shift.
    let newer =
        running_task("proj-a", "cluster-1", "cluster-1-newer", newest + Duration::seconds(5));
    store.create_task(&newer).await.unwrap();
    let second_again =
        store.list_tasks("proj-a", "cluster-1", 3, first.next_marker.as_deref()).await.unwrap();
    assert_eq!(second_again, second);
    let top = store.list_tasks("proj-a", "cluster-1", 1, None).await.unwrap();
    assert_eq!(uids(&top.tasks), vec!["cluster-1-newer"]);

    // A page that ends exactly at the last task has no marker either.
    let all = store.list_tasks("proj-a", "cluster-1", 9, None).await.unwrap();
    assert_eq!(all.tasks.len(), 9);
    assert_eq!(all.next_marker, None);
}

pub(crate) async fn page_sizes_are_clamped_and_unknown_markers_give_empty_pages(
    store: Arc<dyn Store>,
) {
    tasks_one_second_apart(&*store, "proj-a", "cluster-1", 3).await;

    let zero = store.list_tasks("proj-a", "cluster-1", 0, None).await.unwrap();
    assert_eq!(zero.tasks.len(), 1, "a limit of 0 means 1");
    assert!(zero.next_marker.is_some());

    let huge = store.list_tasks("proj-a", "cluster-1", u32::MAX, None).await.unwrap();
    assert_eq!(huge.tasks.len(), 3);

    let unknown = store.list_tasks("proj-a", "cluster-1", 10, Some("no-such-task")).await.unwrap();
    assert!(unknown.tasks.is_empty());
    assert_eq!(unknown.next_marker, None);
}

pub(crate) async fn finishing_a_task_writes_its_status(store: Arc<dyn Store>) {
    let created = now() - Duration::seconds(30);
    let task = running_task("proj-a", "cluster-1", "task-1", created);
    store.create_task(&task).await.unwrap();
    let verdict = TaskStatus {
        duration_ms: Some(1234),
        ..TaskStatus::bare(TaskPhase::Failed, "2 fatal items failed")
    };

    assert!(store.finish_task("proj-a", "task-1", &verdict).await.unwrap());

    let stored = store.get_task("proj-a", "task-1").await.unwrap().unwrap();
    assert_eq!(stored.status, verdict);
    assert!(stored.updated_at > created, "updated_at moves on");
    assert_eq!(stored.created_at, created);
    assert!(!store.finish_task("proj-a", "no-such-task", &verdict).await.unwrap());
}

pub(crate) async fn one_project_never_sees_another_projects_data(store: Arc<dyn Store>) {
    let task = running_task("proj-a", "cluster-1", "task-1", now());
    store.create_task(&task).await.unwrap();
    store.create_cluster(&cluster("proj-a", "cluster-1", now()), 100).await.unwrap();
    store.put_baseline("proj-a", "cluster-1", &baseline(b"{\"nodes\":[]}", None)).await.unwrap();
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "task-1", now() + Duration::seconds(60))
            .await
            .unwrap()
    );

    // Project B, asking for the same IDs.
    assert_eq!(store.get_task("proj-b", "task-1").await.unwrap(), None);
    assert!(store.list_tasks("proj-b", "cluster-1", 10, None).await.unwrap().tasks.is_empty());
    assert!(
        store.list_tasks("proj-b", "cluster-1", 10, Some("task-1")).await.unwrap().tasks.is_empty()
    );
    let done = TaskStatus::bare(TaskPhase::Success, "ok");
    assert!(
        !store.finish_task("proj-b", "task-1", &done).await.unwrap(),
        "B cannot finish A's task"
    );
    assert_eq!(store.get_cluster("proj-b", "cluster-1").await.unwrap(), None);
    assert!(store.list_clusters(Some("proj-b")).await.unwrap().is_empty());
    assert_eq!(store.get_baseline("proj-b", "cluster-1").await.unwrap(), None);
    assert!(
        !store.delete_cluster("proj-b", "cluster-1").await.unwrap(),
        "B cannot remove A's cluster"
    );
    store.unlock_cluster("proj-b", "cluster-1", "task-1").await.unwrap();

    // A's data is as it was.
    assert_eq!(store.get_task("proj-a", "task-1").await.unwrap(), Some(task));
    assert!(store.get_cluster("proj-a", "cluster-1").await.unwrap().is_some());
    assert!(store.get_baseline("proj-a", "cluster-1").await.unwrap().is_some());
    assert!(
        !store
            .try_lock_cluster("proj-a", "cluster-1", "task-2", now() + Duration::seconds(60))
            .await
            .unwrap(),
        "B's unlock did not free A's lock"
    );
}
