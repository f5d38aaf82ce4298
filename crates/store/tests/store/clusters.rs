//! Registered clusters and their baselines.

use std::sync::Arc;

use chrono::Duration;
use postcheck_store::{Store, StoreError};

use crate::fixtures::{baseline, cluster, now};

pub(crate) async fn clusters_are_registered_listed_and_removed(store: Arc<dyn Store>) {
    let t0 = now();
    let older = cluster("proj-a", "cluster-z", t0 - Duration::minutes(2));
    let newer = cluster("proj-a", "cluster-a", t0);
    let other = cluster("proj-b", "cluster-b", t0 - Duration::minutes(1));
    for c in [&newer, &other, &older] {
        store.create_cluster(c, 100).await.unwrap();
    }

    assert_eq!(store.get_cluster("proj-a", "cluster-z").await.unwrap(), Some(older.clone()));
    assert_eq!(
        store.list_clusters(Some("proj-a")).await.unwrap(),
        vec![older.clone(), newer.clone()],
        "oldest first"
    );
    assert_eq!(
        store.list_clusters(None).await.unwrap(),
        vec![older.clone(), other.clone(), newer.clone()],
        "all projects"
    );

    assert!(store.delete_cluster("proj-a", "cluster-z").await.unwrap());
    assert!(!store.delete_cluster("proj-a", "cluster-z").await.unwrap(), "it is gone");
    assert_eq!(store.get_cluster("proj-a", "cluster-z").await.unwrap(), None);
    assert_eq!(store.list_clusters(Some("proj-a")).await.unwrap(), vec![newer]);
}

pub(crate) async fn registering_a_cluster_twice_is_a_conflict(store: Arc<dyn Store>) {
    let first = cluster("proj-a", "cluster-1", now());
    store.create_cluster(&first, 100).await.unwrap();

    let again =
        store.create_cluster(&cluster("proj-a", "cluster-1", now()), 100).await.unwrap_err();

    assert!(
        matches!(&again, StoreError::Conflict { what } if what.contains("cluster-1")),
        "{again:?}"
    );
    assert_eq!(store.get_cluster("proj-a", "cluster-1").await.unwrap(), Some(first));
    store
        .create_cluster(&cluster("proj-b", "cluster-1", now()), 100)
        .await
        .expect("another project may use the same ID");
}

pub(crate) async fn a_baseline_is_replaced_and_goes_with_its_cluster(store: Arc<dyn Store>) {
    store.create_cluster(&cluster("proj-a", "cluster-1", now()), 100).await.unwrap();
    assert_eq!(store.get_baseline("proj-a", "cluster-1").await.unwrap(), None);

    store
        .put_baseline("proj-a", "cluster-1", &baseline(b"{\"v\":1}", Some("pre-1")))
        .await
        .unwrap();
    let second = baseline(b"{\"v\":2}", None);
    store.put_baseline("proj-a", "cluster-1", &second).await.unwrap();
    assert_eq!(
        store.get_baseline("proj-a", "cluster-1").await.unwrap(),
        Some(second),
        "the latest replaces the one before, its origin with it"
    );

    assert!(store.delete_cluster("proj-a", "cluster-1").await.unwrap());
    assert_eq!(
        store.get_baseline("proj-a", "cluster-1").await.unwrap(),
        None,
        "the baseline went with its cluster"
    );
    store.create_cluster(&cluster("proj-a", "cluster-1", now()), 100).await.unwrap();
    assert_eq!(
        store.get_baseline("proj-a", "cluster-1").await.unwrap(),
        None,
        "a re-registered cluster starts afresh"
    );

    let unregistered = store.put_baseline("proj-a", "cluster-9", &baseline(b"{}", None)).await;
    assert!(unregistered.is_err(), "a baseline needs a registered cluster");
}

pub(crate) async fn a_project_registers_no_more_clusters_than_its_quota(store: Arc<dyn Store>) {
    store.create_cluster(&cluster("proj-a", "cluster-1", now()), 2).await.unwrap();
    store.create_cluster(&cluster("proj-a", "cluster-2", now()), 2).await.unwrap();

    let third = store.create_cluster(&cluster("proj-a", "cluster-3", now()), 2).await.unwrap_err();

    assert!(matches!(third, StoreError::QuotaExceeded { limit: 2 }), "{third:?}");
    assert_eq!(store.get_cluster("proj-a", "cluster-3").await.unwrap(), None);
    store
        .create_cluster(&cluster("proj-b", "cluster-3", now()), 2)
        .await
        .expect("the quota is per project");
}
