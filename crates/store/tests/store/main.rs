//! The store suite: one set of scenarios, run against every backend.
//!
//! Each scenario is an `async fn(Arc<dyn Store>)` in the module of the feature it proves;
//! [`store_suite!`] instantiates all of them once on SQLite (a temporary file, in every
//! `cargo test`) and once on PostgreSQL (a fresh database per test on the server that
//! `POSTCHECK_TEST_POSTGRES_URL` names; ignored unless asked for, as `scripts/test` does).
//! What only one backend has (files on disk, replicas racing) lives in its own module.

mod clusters;
mod credentials;
mod fixtures;
mod leases;
mod locks;
mod opening;
mod pg_replicas;
mod prechecks;
mod tasks;

/// Instantiates each `module::scenario` as a test on SQLite and on PostgreSQL.
macro_rules! store_suite {
    ($($module:ident :: $scenario:ident),* $(,)?) => {
        mod on_sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let backend = crate::fixtures::sqlite().await;
                    crate::$module::$scenario(backend.store()).await;
                    backend.finish().await;
                }
            )*
        }

        mod on_postgres {
            $(
                #[tokio::test]
                #[ignore = "needs PostgreSQL; scripts/test runs it"]
                async fn $scenario() {
                    let backend = crate::fixtures::postgres().await;
                    crate::$module::$scenario(backend.store()).await;
                    backend.finish().await;
                }
            )*
        }
    };
}

store_suite! {
    tasks::a_created_task_reads_back_as_written,
    tasks::creating_a_task_twice_is_a_conflict,
    tasks::tasks_are_listed_newest_first_in_pages_with_stable_markers,
    tasks::page_sizes_are_clamped_and_unknown_markers_give_empty_pages,
    tasks::finishing_a_task_writes_its_status,
    tasks::one_project_never_sees_another_projects_data,
    leases::renewing_extends_only_the_owners_running_tasks,
    leases::an_orphaned_task_ends_in_error_and_a_live_one_is_untouched,
    leases::abandoning_an_owner_ends_its_running_tasks_only,
    leases::a_task_whose_check_is_over_is_not_renewed_and_lapses,
    locks::a_held_cluster_lock_refuses_other_tasks_until_unlocked,
    locks::a_lapsed_cluster_lock_can_be_taken,
    locks::finishing_a_task_frees_its_cluster_lock,
    locks::renewing_a_lease_keeps_the_cluster_lock,
    locks::locks_are_per_project_and_per_cluster,
    clusters::clusters_are_registered_listed_and_removed,
    clusters::registering_a_cluster_twice_is_a_conflict,
    clusters::a_project_registers_no_more_clusters_than_its_quota,
    clusters::a_baseline_is_replaced_and_goes_with_its_cluster,
    credentials::tokens_are_found_by_their_hash,
    credentials::access_keys_are_found_by_their_id,
    prechecks::a_precheck_reads_back_as_written_and_never_as_a_postcheck,
    prechecks::prechecks_are_listed_newest_first_per_project_and_cluster,
    prechecks::finishing_a_precheck_frees_its_lock_and_records_its_baseline,
    prechecks::a_precheck_of_a_removed_cluster_finishes_without_a_baseline,
    prechecks::unfinished_prechecks_are_renewed_swept_and_abandoned_like_postchecks,
}
