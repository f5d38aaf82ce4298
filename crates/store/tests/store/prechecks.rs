//! Pre-check tasks: kept apart from post-check tasks, listed per project and cluster,
//! finished with the cluster's baseline in the same write, and covered by the same lock,
//! leases and sweeps as post-check tasks.

use std::sync::Arc;

use chrono::Duration;
use postcheck_model::{PrecheckPhase, PrecheckStatus};
use postcheck_store::{Store, StoreError, StoredPrecheck};

use crate::fixtures::{OWNER, accepted_precheck, baseline, cluster, now, running_task};

fn uids(tasks: &[StoredPrecheck]) -> Vec<&str> {
    tasks.iter().map(|t| t.uid.as_str()).collect()
}

pub(crate) async fn a_precheck_reads_back_as_written_and_never_as_a_postcheck(
    store: Arc<dyn Store>,
) {
    let pre = accepted_precheck("proj-a", "cluster-1", "pre-1", now());
    let post = running_task("proj-a", "cluster-1", "post-1", now());

    store.create_precheck(&pre).await.unwrap();
    store.create_task(&post).await.unwrap();

    assert_eq!(store.get_precheck("proj-a", "pre-1").await.unwrap(), Some(pre.clone()));
    assert_eq!(store.get_task("proj-a", "pre-1").await.unwrap(), None, "not a post-check");
    assert_eq!(store.get_precheck("proj-a", "post-1").await.unwrap(), None, "not a pre-check");
    assert!(store.list_tasks("proj-a", "cluster-1", 10, None).await.unwrap().tasks.len() == 1);
    let again = store.create_precheck(&pre).await.unwrap_err();
    assert!(matches!(&again, StoreError::Conflict { what } if what.contains("pre-1")), "{again:?}");
}

pub(crate) async fn prechecks_are_listed_newest_first_per_project_and_cluster(
    store: Arc<dyn Store>,
) {
    let start = now() - Duration::hours(1);
    for (i, uid) in ["pre-a", "pre-b", "pre-c"].into_iter().enumerate() {
        let at = start + Duration::seconds(i as i64);
        store.create_precheck(&accepted_precheck("proj-a", "cluster-1", uid, at)).await.unwrap();
    }
    store
        .create_precheck(&accepted_precheck("proj-a", "cluster-2", "other-cluster", start))
        .await
        .unwrap();
    store
        .create_precheck(&accepted_precheck("proj-b", "cluster-1", "other-project", start))
        .await
        .unwrap();

    let first = store.list_prechecks("proj-a", "cluster-1", 2, None).await.unwrap();
    assert_eq!(uids(&first.tasks), ["pre-c", "pre-b"]);
    let marker = first.next_marker.expect("a next page");
    let second = store.list_prechecks("proj-a", "cluster-1", 2, Some(&marker)).await.unwrap();
    assert_eq!(uids(&second.tasks), ["pre-a"]);
    assert_eq!(second.next_marker, None);
    assert_eq!(
        uids(&store.list_prechecks("proj-b", "cluster-1", 10, None).await.unwrap().tasks),
        ["other-project"]
    );
    assert!(
        store.get_precheck("proj-b", "pre-a").await.unwrap().is_none(),
        "another project's task"
    );
}

pub(crate) async fn finishing_a_precheck_frees_its_lock_and_records_its_baseline(
    store: Arc<dyn Store>,
) {
    store.create_cluster(&cluster("proj-a", "cluster-1", now()), 100).await.unwrap();
    store.create_precheck(&accepted_precheck("proj-a", "cluster-1", "pre-1", now())).await.unwrap();
    let until = now() + Duration::minutes(5);
    assert!(store.try_lock_cluster("proj-a", "cluster-1", "pre-1", until).await.unwrap());
    let snapshot = baseline(b"{\"nodes\":[1]}", Some("pre-1"));

    let running = PrecheckStatus::bare(PrecheckPhase::Running, "running");
    assert!(store.finish_precheck("proj-a", "pre-1", &running, Some(&snapshot)).await.unwrap());
    assert!(
        !store.try_lock_cluster("proj-a", "cluster-1", "post-1", until).await.unwrap(),
        "a Running pre-check keeps the lock: one check of a cluster at a time, pre or post"
    );
    assert_eq!(
        store.get_baseline("proj-a", "cluster-1").await.unwrap(),
        None,
        "a status that is not final records no baseline"
    );

    let done = PrecheckStatus {
        expire_time_stamp: Some(now() + Duration::hours(24)),
        ..PrecheckStatus::bare(PrecheckPhase::Failed, "a PodDisruptionBudget blocks drains")
    };
    assert!(store.finish_precheck("proj-a", "pre-1", &done, Some(&snapshot)).await.unwrap());

    assert_eq!(store.get_precheck("proj-a", "pre-1").await.unwrap().unwrap().status, done);
    assert_eq!(store.get_baseline("proj-a", "cluster-1").await.unwrap(), Some(snapshot));
    assert!(store.try_lock_cluster("proj-a", "cluster-1", "post-1", until).await.unwrap());
    let unknown = PrecheckStatus::bare(PrecheckPhase::Success, "ok");
    assert!(
        !store.finish_precheck("proj-b", "pre-1", &unknown, None).await.unwrap(),
        "another project's task"
    );
}

pub(crate) async fn a_precheck_of_a_removed_cluster_finishes_without_a_baseline(
    store: Arc<dyn Store>,
) {
    store.create_precheck(&accepted_precheck("proj-a", "cluster-1", "pre-1", now())).await.unwrap();
    let done = PrecheckStatus::bare(PrecheckPhase::Success, "ready to upgrade");

    let found = store
        .finish_precheck("proj-a", "pre-1", &done, Some(&baseline(b"{}", Some("pre-1"))))
        .await
        .expect("the outcome is stored even though the cluster is gone");

    assert!(found);
    assert_eq!(store.get_precheck("proj-a", "pre-1").await.unwrap().unwrap().status, done);
    assert_eq!(store.get_baseline("proj-a", "cluster-1").await.unwrap(), None);
}

pub(crate) async fn unfinished_prechecks_are_renewed_swept_and_abandoned_like_postchecks(
    store: Arc<dyn Store>,
) {
    let t0 = now();
    let mut orphan_init = accepted_precheck("proj-a", "cluster-1", "orphan-init", t0);
    orphan_init.owner = "replica-dead".into();
    orphan_init.lease_expires_at = t0 - Duration::seconds(1);
    let mut orphan_post = running_task("proj-a", "cluster-2", "orphan-post", t0);
    orphan_post.owner = "replica-dead".into();
    orphan_post.lease_expires_at = t0 - Duration::seconds(1);
    let mine = accepted_precheck("proj-a", "cluster-3", "mine", t0);
    store.create_precheck(&orphan_init).await.unwrap();
    store.create_task(&orphan_post).await.unwrap();
    store.create_precheck(&mine).await.unwrap();
    let running = PrecheckStatus::bare(PrecheckPhase::Running, "running");
    store.finish_precheck("proj-a", "mine", &running, None).await.unwrap();
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "orphan-init", t0 + Duration::minutes(5))
            .await
            .unwrap()
    );

    let until = t0 + Duration::minutes(10);
    assert_eq!(store.renew_leases(OWNER, &["mine".into()], until).await.unwrap(), 1);
    assert_eq!(
        store.get_precheck("proj-a", "mine").await.unwrap().unwrap().lease_expires_at,
        until
    );

    let swept = store.expire_orphans(t0, "the replica stopped").await.unwrap();
    assert_eq!(swept, 2, "an orphaned Init pre-check and an orphaned post-check");
    let ended = store.get_precheck("proj-a", "orphan-init").await.unwrap().unwrap();
    assert_eq!(ended.status.phase, PrecheckPhase::Error);
    assert_eq!(ended.status.message.as_deref(), Some("the replica stopped"));
    assert!(ended.status.finished_at.is_some());
    assert!(
        store
            .try_lock_cluster("proj-a", "cluster-1", "next", t0 + Duration::minutes(5))
            .await
            .unwrap(),
        "the orphan's lock is freed"
    );

    assert_eq!(store.abandon_owner(OWNER, "the service restarted").await.unwrap(), 1);
    let abandoned = store.get_precheck("proj-a", "mine").await.unwrap().unwrap();
    assert_eq!(abandoned.status.phase, PrecheckPhase::Error, "no task is left Init or Running");
    assert_eq!(abandoned.status.message.as_deref(), Some("the service restarted"));
}
