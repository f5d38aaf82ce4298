//! The PostgreSQL store: for several replicas of the service sharing one database.
//!
//! Replicas coordinate only through the database, so everything they could race on is one
//! atomic statement: migrations run under sqlx's advisory lock; taking a cluster's lock is
//! one `INSERT ... ON CONFLICT DO UPDATE ... WHERE lapsed RETURNING`; ending orphaned or
//! abandoned tasks and freeing their locks is one statement with data-modifying CTEs.
//! No lock is held longer than a statement (or a two-statement transaction).

use std::time::Duration;

use chrono::{DateTime, Utc};
use postcheck_model::{PrecheckStatus, TaskStatus};
use sqlx::postgres::{PgPool, PgPoolOptions, PgRow};
use sqlx::{Connection, Row};

use crate::codec::{
    TASK_COLUMNS, TASK_TABLES, clamp_limit, decode_spec, decode_status, encode_spec, encode_status,
    finished_at_json, insert_error, page_of, query_error,
};
use crate::open::redact_url;
use crate::{
    Store, StoreError, StoredAccessKey, StoredBaseline, StoredCluster, StoredPrecheck, StoredTask,
    TaskDocument, TaskPage,
};

/// How long a query waits for a free connection of the pool.
/// Short, so that during an outage the API answers 503 promptly instead of after a long wait.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// The pool's connections. The service's are all opened at start and kept, so that a burst
/// of requests never waits for a connection to be made (at 2,000 GETs/s over 500 client
/// connections, ten serve the task reads on 2 cores; 32 did no better:
/// `bench/results/NOTES.md`). A command's are opened as its queries need them.
const POOL_SIZE: u32 = 10;

/// A connection idle longer than this is pinged before it is used, and replaced if dead.
const PING_IF_IDLE_FOR: Duration = Duration::from_secs(1);

/// The store on a PostgreSQL database.
#[derive(Debug, Clone)]
pub struct PgStore {
    pool: PgPool,
}

impl PgStore {
    /// Connects the service to the PostgreSQL database at `url` (`postgres://` or
    /// `postgresql://`), with every connection of the pool opened and kept, and applies the
    /// migrations (under an advisory lock, so replicas starting together take turns).
    pub async fn connect(url: &str) -> Result<Self, StoreError> {
        Self::connect_keeping(url, POOL_SIZE).await
    }

    /// As [`PgStore::connect`], for a command that runs a few queries and exits: its pool
    /// opens connections only as they are asked for.
    pub async fn connect_for_command(url: &str) -> Result<Self, StoreError> {
        Self::connect_keeping(url, 0).await
    }

    /// Connects with `kept` connections opened at start and kept open.
    async fn connect_keeping(url: &str, kept: u32) -> Result<Self, StoreError> {
        let open_error = |source| StoreError::Open { url: redact_url(url), source };
        let pool = PgPoolOptions::new()
            .max_connections(POOL_SIZE)
            .min_connections(kept)
            // sqlx pings a connection as it goes back to the pool; a second ping as it comes
            // out would add a third round trip to every query. Only one left idle long enough
            // to have died (an outage, a quiet spell) is pinged before use.
            .test_before_acquire(false)
            .before_acquire(|conn, meta| {
                Box::pin(async move {
                    if meta.idle_for > PING_IF_IDLE_FOR {
                        conn.ping().await?;
                    }
                    Ok(true)
                })
            })
            .acquire_timeout(ACQUIRE_TIMEOUT)
            .connect(url)
            .await
            .map_err(open_error)?;
        sqlx::migrate!("./migrations/postgres")
            .run(&pool)
            .await
            .map_err(|e| open_error(sqlx::Error::Migrate(Box::new(e))))?;
        Ok(Self { pool })
    }

    /// Closes the pool, waiting for connections in use.
    pub async fn close(&self) {
        self.pool.close().await;
    }
}

/// A task from a row of [`TASK_COLUMNS`].
fn task_from_row<S: TaskDocument>(row: &PgRow) -> Result<StoredTask<S>, StoreError> {
    let read = |source| StoreError::Query { action: "reading a stored task", source };
    Ok(StoredTask {
        uid: row.try_get("uid").map_err(read)?,
        project_id: row.try_get("project_id").map_err(read)?,
        cluster_id: row.try_get("cluster_id").map_err(read)?,
        spec: decode_spec::<S>(row.try_get("spec").map_err(read)?)?,
        status: decode_status::<S>(row.try_get("status").map_err(read)?)?,
        created_at: row.try_get("created_at").map_err(read)?,
        updated_at: row.try_get("updated_at").map_err(read)?,
        owner: row.try_get("owner").map_err(read)?,
        lease_expires_at: row.try_get("lease_expires_at").map_err(read)?,
    })
}

/// A cluster from a row of `clusters`.
fn cluster_from_row(row: &PgRow) -> Result<StoredCluster, StoreError> {
    let read = |source| StoreError::Query { action: "reading a registered cluster", source };
    Ok(StoredCluster {
        project_id: row.try_get("project_id").map_err(read)?,
        cluster_id: row.try_get("cluster_id").map_err(read)?,
        name: row.try_get("name").map_err(read)?,
        endpoint: row.try_get("endpoint").map_err(read)?,
        encrypted_credentials: row.try_get("encrypted_credentials").map_err(read)?,
        created_at: row.try_get("created_at").map_err(read)?,
    })
}

/// Ends `Error` the unfinished tasks (of both kinds) matching a condition on `$4` and
/// frees their cluster locks, in one statement; answers how many tasks it ended. `$1` is
/// the time, `$2` the message, `$3` `finishedAt`.
fn end_running_sql(condition: &str) -> String {
    let ended = TASK_TABLES.map(|(table, unfinished)| {
        format!(
            "UPDATE {table} SET phase = 'Error', updated_at = $1, \
               status = (status::jsonb || jsonb_build_object('phase', 'Error', 'message', $2::text, 'finishedAt', $3::text))::text \
             WHERE {unfinished} AND {condition} \
             RETURNING uid"
        )
    });
    let [post, pre] = ended;
    format!(
        "WITH ended_post AS ({post}), ended_pre AS ({pre}), \
         ended AS (SELECT uid FROM ended_post UNION ALL SELECT uid FROM ended_pre), \
         freed AS (DELETE FROM cluster_locks WHERE task_uid IN (SELECT uid FROM ended)) \
         SELECT count(*) FROM ended"
    )
}

/// Stores a baseline, binding `$1` project, `$2` cluster, `$3` the Snapshot, `$4` the time
/// stored, `$5` the time taken, `$6` the pre-check task; followed by an optional `WHERE`
/// and [`ON_BASELINE_CONFLICT`].
const UPSERT_BASELINE: &str = "INSERT INTO baselines (project_id, cluster_id, snapshot_json, updated_at, taken_at, precheck_task_uid) \
     SELECT $1, $2, $3, $4, $5, $6";
/// Replaces the baseline a cluster has.
const ON_BASELINE_CONFLICT: &str = "ON CONFLICT (project_id, cluster_id) DO UPDATE SET snapshot_json = excluded.snapshot_json, \
     updated_at = excluded.updated_at, taken_at = excluded.taken_at, precheck_task_uid = excluded.precheck_task_uid";

impl PgStore {
    /// Stores a new task of either kind.
    async fn create_in<S: TaskDocument>(&self, task: &StoredTask<S>) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO {} (uid, project_id, cluster_id, spec, status, phase, created_at, updated_at, owner, lease_expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
            S::TABLE
        ))
        .bind(&task.uid)
        .bind(&task.project_id)
        .bind(&task.cluster_id)
        .bind(encode_spec::<S>(&task.spec)?)
        .bind(encode_status(&task.status)?)
        .bind(task.status.phase_str())
        .bind(task.created_at)
        .bind(task.updated_at)
        .bind(&task.owner)
        .bind(task.lease_expires_at)
        .execute(&self.pool)
        .await
        .map_err(insert_error("storing a new task", || format!("task {}", task.uid)))?;
        Ok(())
    }

    /// Writes a task's status; when final, frees its lock and stores `baseline` (if the
    /// cluster is still registered), in one transaction.
    async fn finish_in<S: TaskDocument>(
        &self,
        project_id: &str,
        uid: &str,
        status: &S,
        baseline: Option<&StoredBaseline>,
    ) -> Result<bool, StoreError> {
        const ACTION: &str = "writing a task's status";
        let mut tx = self.pool.begin().await.map_err(query_error(ACTION))?;
        let written: Option<String> = sqlx::query_scalar(&format!(
            "UPDATE {} SET status = $3, phase = $4, updated_at = $5 WHERE project_id = $1 AND uid = $2 RETURNING cluster_id",
            S::TABLE
        ))
        .bind(project_id)
        .bind(uid)
        .bind(encode_status(status)?)
        .bind(status.phase_str())
        .bind(Utc::now())
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error(ACTION))?;
        let Some(cluster_id) = written else {
            return Ok(false);
        };
        if status.is_final() {
            sqlx::query("DELETE FROM cluster_locks WHERE project_id = $1 AND task_uid = $2")
                .bind(project_id)
                .bind(uid)
                .execute(&mut *tx)
                .await
                .map_err(query_error(ACTION))?;
            if let Some(baseline) = baseline {
                sqlx::query(&format!("{UPSERT_BASELINE} WHERE EXISTS (SELECT 1 FROM clusters WHERE project_id = $1 AND cluster_id = $2) {ON_BASELINE_CONFLICT}"))
                    .bind(project_id)
                    .bind(&cluster_id)
                    .bind(&baseline.snapshot_json)
                    .bind(Utc::now())
                    .bind(baseline.taken_at)
                    .bind(baseline.precheck_task.as_deref())
                    .execute(&mut *tx)
                    .await
                    .map_err(query_error(ACTION))?;
            }
        }
        tx.commit().await.map_err(query_error(ACTION))?;
        Ok(true)
    }

    /// One task of either kind.
    async fn get_in<S: TaskDocument>(
        &self,
        project_id: &str,
        uid: &str,
    ) -> Result<Option<StoredTask<S>>, StoreError> {
        let row = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM {} WHERE project_id = $1 AND uid = $2",
            S::TABLE
        ))
        .bind(project_id)
        .bind(uid)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a task"))?;
        row.as_ref().map(task_from_row).transpose()
    }

    /// A page of tasks of either kind.
    async fn list_in<S: TaskDocument>(
        &self,
        project_id: &str,
        cluster_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<TaskPage<S>, StoreError> {
        let limit = clamp_limit(limit);
        let table = S::TABLE;
        // Keyset pagination: strictly older than the marker task, by (created_at, uid).
        // An unknown marker matches no row, so it yields an empty page.
        let rows = sqlx::query(&format!(
            "SELECT {TASK_COLUMNS} FROM {table} t \
             WHERE t.project_id = $1 AND t.cluster_id = $2 AND ($3::text IS NULL OR (t.created_at, t.uid) < \
               (SELECT m.created_at, m.uid FROM {table} m WHERE m.project_id = $1 AND m.cluster_id = $2 AND m.uid = $3)) \
             ORDER BY t.created_at DESC, t.uid DESC LIMIT $4"
        ))
        .bind(project_id)
        .bind(cluster_id)
        .bind(marker)
        .bind(i64::from(limit) + 1)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing tasks"))?;
        let tasks = rows.iter().map(task_from_row).collect::<Result<Vec<_>, _>>()?;
        Ok(page_of(tasks, limit))
    }
}

// The task methods come from `task_methods`, the same for every backend.
impl_store! { PgStore {
    async fn renew_leases(
        &self,
        owner: &str,
        uids: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        // The locks the owner's running tasks hold last as long as their leases.
        let [post, pre] = TASK_TABLES.map(|(table, unfinished)| {
            format!(
                "UPDATE {table} SET lease_expires_at = $2 WHERE owner = $1 AND {unfinished} AND uid = ANY($3) RETURNING uid"
            )
        });
        let renewed: i64 = sqlx::query_scalar(&format!(
            "WITH renewed_post AS ({post}), renewed_pre AS ({pre}), \
             renewed AS (SELECT uid FROM renewed_post UNION ALL SELECT uid FROM renewed_pre), \
             locks AS ( \
               UPDATE cluster_locks SET expires_at = GREATEST(expires_at, $2) WHERE task_uid IN (SELECT uid FROM renewed) \
             ) \
             SELECT count(*) FROM renewed"
        ))
        .bind(owner)
        .bind(until)
        .bind(uids)
        .fetch_one(&self.pool)
        .await
        .map_err(query_error("renewing task leases"))?;
        Ok(renewed as u64)
    }

    async fn expire_orphans(&self, now: DateTime<Utc>, message: &str) -> Result<u64, StoreError> {
        let at = Utc::now();
        let ended: i64 = sqlx::query_scalar(&end_running_sql("lease_expires_at < $4"))
            .bind(at)
            .bind(message)
            .bind(finished_at_json(at))
            .bind(now)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("ending orphaned tasks"))?;
        Ok(ended as u64)
    }

    async fn abandon_owner(&self, owner: &str, message: &str) -> Result<u64, StoreError> {
        let at = Utc::now();
        let ended: i64 = sqlx::query_scalar(&end_running_sql("owner = $4"))
            .bind(at)
            .bind(message)
            .bind(finished_at_json(at))
            .bind(owner)
            .fetch_one(&self.pool)
            .await
            .map_err(query_error("abandoning an owner's tasks"))?;
        Ok(ended as u64)
    }

    async fn try_lock_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
        task_uid: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // One statement: insert the lock, or take it over when it lapsed (or is ours).
        // Concurrent callers serialise on the row; each re-checks the WHERE on the winner's
        // row, so exactly one of them gets a row back.
        let taken = sqlx::query(
            "INSERT INTO cluster_locks (project_id, cluster_id, task_uid, expires_at) VALUES ($1, $2, $3, $4) \
             ON CONFLICT (project_id, cluster_id) DO UPDATE SET task_uid = excluded.task_uid, expires_at = excluded.expires_at \
             WHERE cluster_locks.expires_at <= $5 OR cluster_locks.task_uid = excluded.task_uid \
             RETURNING task_uid",
        )
        .bind(project_id)
        .bind(cluster_id)
        .bind(task_uid)
        .bind(until)
        .bind(Utc::now())
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("locking a cluster"))?;
        Ok(taken.is_some())
    }

    async fn unlock_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
        task_uid: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "DELETE FROM cluster_locks WHERE project_id = $1 AND cluster_id = $2 AND task_uid = $3",
        )
        .bind(project_id)
        .bind(cluster_id)
        .bind(task_uid)
        .execute(&self.pool)
        .await
        .map_err(query_error("unlocking a cluster"))?;
        Ok(())
    }

    async fn create_cluster(
        &self,
        cluster: &StoredCluster,
        max_per_project: u32,
    ) -> Result<(), StoreError> {
        const ACTION: &str = "registering a cluster";
        // Replicas may register into one project together: a transaction-scoped advisory
        // lock on the project makes counting and inserting one step.
        let mut tx = self.pool.begin().await.map_err(query_error(ACTION))?;
        sqlx::query("SELECT pg_advisory_xact_lock(hashtext('postcheck-clusters:' || $1))")
            .bind(&cluster.project_id)
            .execute(&mut *tx)
            .await
            .map_err(query_error(ACTION))?;
        let inserted = sqlx::query(
            "INSERT INTO clusters (project_id, cluster_id, name, endpoint, encrypted_credentials, created_at) \
             SELECT $1, $2, $3, $4, $5, $6 \
             WHERE (SELECT count(*) FROM clusters WHERE project_id = $1) < $7",
        )
        .bind(&cluster.project_id)
        .bind(&cluster.cluster_id)
        .bind(&cluster.name)
        .bind(&cluster.endpoint)
        .bind(&cluster.encrypted_credentials)
        .bind(cluster.created_at)
        .bind(i64::from(max_per_project))
        .execute(&mut *tx)
        .await
        .map_err(insert_error(ACTION, || format!("cluster {}", cluster.cluster_id)))?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::QuotaExceeded { limit: max_per_project });
        }
        tx.commit().await.map_err(query_error(ACTION))?;
        Ok(())
    }

    async fn get_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
    ) -> Result<Option<StoredCluster>, StoreError> {
        let row = sqlx::query("SELECT * FROM clusters WHERE project_id = $1 AND cluster_id = $2")
            .bind(project_id)
            .bind(cluster_id)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("reading a registered cluster"))?;
        row.as_ref().map(cluster_from_row).transpose()
    }

    async fn list_clusters(
        &self,
        project_id: Option<&str>,
    ) -> Result<Vec<StoredCluster>, StoreError> {
        let rows = sqlx::query(
            "SELECT * FROM clusters WHERE $1::text IS NULL OR project_id = $1 ORDER BY created_at, project_id, cluster_id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing registered clusters"))?;
        rows.iter().map(cluster_from_row).collect()
    }

    async fn delete_cluster(&self, project_id: &str, cluster_id: &str) -> Result<bool, StoreError> {
        // The baseline goes with it (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM clusters WHERE project_id = $1 AND cluster_id = $2")
            .bind(project_id)
            .bind(cluster_id)
            .execute(&self.pool)
            .await
            .map_err(query_error("removing a registered cluster"))?
            .rows_affected();
        Ok(deleted > 0)
    }

    async fn put_baseline(
        &self,
        project_id: &str,
        cluster_id: &str,
        baseline: &StoredBaseline,
    ) -> Result<(), StoreError> {
        // Without a condition, a cluster that is not registered fails the foreign key.
        sqlx::query(&format!("{UPSERT_BASELINE} {ON_BASELINE_CONFLICT}"))
            .bind(project_id)
            .bind(cluster_id)
            .bind(&baseline.snapshot_json)
            .bind(Utc::now())
            .bind(baseline.taken_at)
            .bind(baseline.precheck_task.as_deref())
            .execute(&self.pool)
            .await
            .map_err(query_error("storing a baseline (the cluster must be registered)"))?;
        Ok(())
    }

    async fn get_baseline(
        &self,
        project_id: &str,
        cluster_id: &str,
    ) -> Result<Option<StoredBaseline>, StoreError> {
        let row = sqlx::query(
            "SELECT snapshot_json, coalesce(taken_at, updated_at) AS taken_at, precheck_task_uid \
             FROM baselines WHERE project_id = $1 AND cluster_id = $2",
        )
        .bind(project_id)
        .bind(cluster_id)
        .fetch_optional(&self.pool)
        .await
        .map_err(query_error("reading a baseline"))?;
        let read = |source| StoreError::Query { action: "reading a baseline", source };
        row.map(|row| {
            Ok(StoredBaseline {
                snapshot_json: row.try_get("snapshot_json").map_err(read)?,
                taken_at: row.try_get("taken_at").map_err(read)?,
                precheck_task: row.try_get("precheck_task_uid").map_err(read)?,
            })
        })
        .transpose()
    }

    async fn create_token(
        &self,
        token_hash: &str,
        project_id: &str,
        created_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO tokens (token_hash, project_id, created_at) VALUES ($1, $2, $3)")
            .bind(token_hash)
            .bind(project_id)
            .bind(created_at)
            .execute(&self.pool)
            .await
            .map_err(insert_error("storing an API token", || "that API token".to_owned()))?;
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT project_id FROM tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("looking up an API token"))
    }

    async fn create_access_key(&self, key: &StoredAccessKey) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO access_keys (access_key, project_id, encrypted_secret, created_at) VALUES ($1, $2, $3, $4)")
            .bind(&key.access_key)
            .bind(&key.project_id)
            .bind(&key.encrypted_secret)
            .bind(key.created_at)
            .execute(&self.pool)
            .await
            .map_err(insert_error("storing an access key", || format!("access key {}", key.access_key)))?;
        Ok(())
    }

    async fn find_access_key(
        &self,
        access_key: &str,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        let row = sqlx::query("SELECT * FROM access_keys WHERE access_key = $1")
            .bind(access_key)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("looking up an access key"))?;
        let read = |source| StoreError::Query { action: "reading an access key", source };
        row.map(|row| {
            Ok(StoredAccessKey {
                access_key: row.try_get("access_key").map_err(read)?,
                project_id: row.try_get("project_id").map_err(read)?,
                encrypted_secret: row.try_get("encrypted_secret").map_err(read)?,
                created_at: row.try_get("created_at").map_err(read)?,
            })
        })
        .transpose()
    }
}
}
