//! Opening stores: SQLite files on disk, URLs, and errors that never show a password.

use postcheck_store::{SqliteStore, Store, StoreError, open};

use crate::fixtures::{now, running_task};

#[tokio::test]
async fn a_sqlite_file_is_created_with_its_folders_and_keeps_tasks_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("deep").join("er").join("postcheck.db");
    let task = running_task("proj-a", "cluster-1", "task-1", now());

    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    store.create_task(&task).await.unwrap();
    assert!(path.exists());
    assert!(dir.path().join("deep/er/postcheck.db-wal").exists(), "the database runs in WAL mode");
    store.close().await;

    let reopened = SqliteStore::open(&format!("sqlite://{}", path.display())).await.unwrap();
    assert_eq!(reopened.get_task("proj-a", "task-1").await.unwrap(), Some(task));
}

#[tokio::test]
async fn open_picks_sqlite_from_the_url() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("a.db");

    let store = open(&format!("sqlite:{}", path.display())).await.unwrap();
    store.create_task(&running_task("proj-a", "cluster-1", "task-1", now())).await.unwrap();

    assert!(path.exists());
    let memory = open("sqlite::memory:").await.unwrap();
    memory.create_task(&running_task("proj-a", "cluster-1", "task-1", now())).await.unwrap();
    assert!(memory.get_task("proj-a", "task-1").await.unwrap().is_some());
}

#[tokio::test]
async fn an_unreachable_postgres_is_an_open_error_without_the_password() {
    // Nothing listens on port 1 of the loopback.
    let err = open("postgres://app:topsecret@127.0.0.1:1/postcheck")
        .await
        .err()
        .expect("nothing listens there");

    assert!(matches!(err, StoreError::Open { .. }), "{err:?}");
    let text = format!("{err} {err:?}");
    assert!(text.contains("postgres://app:***@127.0.0.1:1/postcheck"), "{text}");
    assert!(!text.contains("topsecret"), "{text}");
}

#[cfg(unix)]
#[tokio::test]
async fn the_database_and_its_wal_are_readable_by_their_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("postcheck.db");
    let store = SqliteStore::open(path.to_str().unwrap()).await.unwrap();
    store.create_task(&running_task("proj-a", "cluster-1", "task-1", now())).await.unwrap();
    for file in ["postcheck.db", "postcheck.db-wal", "postcheck.db-shm"] {
        let mode = std::fs::metadata(dir.path().join(file)).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "{file} is {:o}", mode & 0o777);
    }
}
