//! The SQLite store: the embedded default, one file, for a service running as one process.
//!
//! The file runs in WAL mode (readers never wait for the writer) with a busy timeout
//! (writers queue instead of failing) and foreign keys on. Timestamps are stored as integer
//! microseconds since the epoch, so they compare as numbers. Every multi-statement write
//! runs in a transaction whose first statement writes, so it takes the write lock up front
//! (through the busy timeout) and holds it only for those few statements.

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use chrono::{DateTime, Utc};
use postcheck_model::{PrecheckStatus, TaskStatus};
use sqlx::Row;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteRow,
    SqliteSynchronous,
};

use crate::codec::{
    TASK_COLUMNS, TASK_TABLES, clamp_limit, decode_spec, decode_status, encode_spec, encode_status,
    finished_at_json, insert_error, page_of, query_error,
};
use crate::open::redact_url;
use crate::{
    Store, StoreError, StoredAccessKey, StoredBaseline, StoredCluster, StoredPrecheck, StoredTask,
    TaskDocument, TaskPage,
};

/// How long a writer waits for another one before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a query waits for a free connection of the pool before the store says it is
/// unavailable.
const ACQUIRE_TIMEOUT: Duration = Duration::from_secs(2);

/// The store on a SQLite file.
#[derive(Debug, Clone)]
pub struct SqliteStore {
    pool: SqlitePool,
}

impl SqliteStore {
    /// Opens (creating it, and its parent folders, if missing) the SQLite database at
    /// `url_or_path` (`sqlite:PATH`, `sqlite://PATH`, `sqlite::memory:` or a plain path)
    /// and applies the migrations.
    pub async fn open(url_or_path: &str) -> Result<Self, StoreError> {
        let shown = redact_url(url_or_path);
        let open_error = |source| StoreError::Open { url: shown.clone(), source };
        let in_memory = url_or_path.starts_with("sqlite::memory:");
        let options = if url_or_path.starts_with("sqlite:") {
            SqliteConnectOptions::from_str(url_or_path).map_err(open_error)?
        } else {
            SqliteConnectOptions::new().filename(url_or_path)
        };
        if !in_memory {
            create_private(options.get_filename()).map_err(|e| open_error(sqlx::Error::Io(e)))?;
        }
        let options = options
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true);
        // An in-memory database lives as long as its one connection.
        let pool_options = if in_memory {
            SqlitePoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            SqlitePoolOptions::new().max_connections(4)
        }
        .acquire_timeout(ACQUIRE_TIMEOUT);
        let pool = pool_options.connect_with(options).await.map_err(open_error)?;
        sqlx::migrate!("./migrations/sqlite")
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

/// Creates the folder a database file goes in, and the file itself readable by its owner
/// only (0600). SQLite gives the `-wal` and `-shm` files the database file's mode; those
/// left by an older version are narrowed too.
fn create_private(file: &Path) -> std::io::Result<()> {
    match file.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => std::fs::create_dir_all(parent)?,
        _ => {}
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(false).mode(0o600);
        drop(options.open(file)?);
        for suffix in ["", "-wal", "-shm"] {
            let mut path = file.as_os_str().to_owned();
            path.push(suffix);
            match std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e),
                _ => {}
            }
        }
    }
    Ok(())
}

/// A timestamp as stored: microseconds since the epoch.
fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

/// A stored timestamp.
fn from_micros(us: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(us).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// A task from a row of [`TASK_COLUMNS`].
fn task_from_row<S: TaskDocument>(row: &SqliteRow) -> Result<StoredTask<S>, StoreError> {
    let read = |source| StoreError::Query { action: "reading a stored task", source };
    Ok(StoredTask {
        uid: row.try_get("uid").map_err(read)?,
        project_id: row.try_get("project_id").map_err(read)?,
        cluster_id: row.try_get("cluster_id").map_err(read)?,
        spec: decode_spec::<S>(row.try_get("spec").map_err(read)?)?,
        status: decode_status::<S>(row.try_get("status").map_err(read)?)?,
        created_at: from_micros(row.try_get("created_at").map_err(read)?),
        updated_at: from_micros(row.try_get("updated_at").map_err(read)?),
        owner: row.try_get("owner").map_err(read)?,
        lease_expires_at: from_micros(row.try_get("lease_expires_at").map_err(read)?),
    })
}

/// A cluster from a row of `clusters`.
fn cluster_from_row(row: &SqliteRow) -> Result<StoredCluster, StoreError> {
    let read = |source| StoreError::Query { action: "reading a registered cluster", source };
    Ok(StoredCluster {
        project_id: row.try_get("project_id").map_err(read)?,
        cluster_id: row.try_get("cluster_id").map_err(read)?,
        name: row.try_get("name").map_err(read)?,
        endpoint: row.try_get("endpoint").map_err(read)?,
        encrypted_credentials: row.try_get("encrypted_credentials").map_err(read)?,
        created_at: from_micros(row.try_get("created_at").map_err(read)?),
    })
}

/// Which running tasks the store ends `Error` itself.
enum Ending<'a> {
    /// Those whose lease lapsed before this instant.
    LeaseLapsedBefore(DateTime<Utc>),
    /// Those of this owner.
    OwnedBy(&'a str),
}

impl Ending<'_> {
    /// The condition on `tasks` (besides `phase = 'Running'`), binding one parameter.
    fn condition(&self) -> &'static str {
        match self {
            Self::LeaseLapsedBefore(_) => "lease_expires_at < ?",
            Self::OwnedBy(_) => "owner = ?",
        }
    }

    /// Binds the condition's parameter.
    fn bind<'q>(
        &self,
        query: sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>,
    ) -> sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>> {
        match self {
            Self::LeaseLapsedBefore(now) => query.bind(micros(*now)),
            Self::OwnedBy(owner) => query.bind(owner.to_string()),
        }
    }
}

impl SqliteStore {
    /// Ends `Error`, with `message`, the unfinished tasks (of both kinds) `which` selects,
    /// and frees the cluster locks they held, in one transaction.
    async fn end_running(
        &self,
        action: &'static str,
        which: Ending<'_>,
        message: &str,
    ) -> Result<u64, StoreError> {
        let now = Utc::now();
        let condition = which.condition();
        let mut tx = self.pool.begin().await.map_err(query_error(action))?;
        let mut ended = 0;
        for (table, unfinished) in TASK_TABLES {
            let free_locks = format!(
                "DELETE FROM cluster_locks WHERE task_uid IN (SELECT uid FROM {table} WHERE {unfinished} AND {condition})"
            );
            which
                .bind(sqlx::query(&free_locks))
                .execute(&mut *tx)
                .await
                .map_err(query_error(action))?;
            let end_tasks = format!(
                "UPDATE {table} SET phase = 'Error', updated_at = ?, \
                 status = json_set(status, '$.phase', 'Error', '$.message', ?, '$.finishedAt', ?) \
                 WHERE {unfinished} AND {condition}"
            );
            let query =
                sqlx::query(&end_tasks).bind(micros(now)).bind(message).bind(finished_at_json(now));
            ended += which
                .bind(query)
                .execute(&mut *tx)
                .await
                .map_err(query_error(action))?
                .rows_affected();
        }
        tx.commit().await.map_err(query_error(action))?;
        Ok(ended)
    }

    /// Stores a new task of either kind.
    async fn create_in<S: TaskDocument>(&self, task: &StoredTask<S>) -> Result<(), StoreError> {
        sqlx::query(&format!(
            "INSERT INTO {} (uid, project_id, cluster_id, spec, status, phase, created_at, updated_at, owner, lease_expires_at) \
             VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            S::TABLE
        ))
        .bind(&task.uid)
        .bind(&task.project_id)
        .bind(&task.cluster_id)
        .bind(encode_spec::<S>(&task.spec)?)
        .bind(encode_status(&task.status)?)
        .bind(task.status.phase_str())
        .bind(micros(task.created_at))
        .bind(micros(task.updated_at))
        .bind(&task.owner)
        .bind(micros(task.lease_expires_at))
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
        let written = sqlx::query_scalar::<_, String>(&format!(
            "UPDATE {} SET status = ?, phase = ?, updated_at = ? WHERE project_id = ? AND uid = ? RETURNING cluster_id",
            S::TABLE
        ))
        .bind(encode_status(status)?)
        .bind(status.phase_str())
        .bind(micros(Utc::now()))
        .bind(project_id)
        .bind(uid)
        .fetch_optional(&mut *tx)
        .await
        .map_err(query_error(ACTION))?;
        let Some(cluster_id) = written else {
            return Ok(false);
        };
        if status.is_final() {
            sqlx::query("DELETE FROM cluster_locks WHERE project_id = ? AND task_uid = ?")
                .bind(project_id)
                .bind(uid)
                .execute(&mut *tx)
                .await
                .map_err(query_error(ACTION))?;
            if let Some(baseline) = baseline {
                sqlx::query(&format!("{UPSERT_BASELINE} WHERE EXISTS (SELECT 1 FROM clusters WHERE project_id = ?1 AND cluster_id = ?2) {ON_BASELINE_CONFLICT}"))
                    .bind(project_id)
                    .bind(&cluster_id)
                    .bind(&baseline.snapshot_json)
                    .bind(micros(Utc::now()))
                    .bind(micros(baseline.taken_at))
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
            "SELECT {TASK_COLUMNS} FROM {} WHERE project_id = ? AND uid = ?",
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
             WHERE t.project_id = ?1 AND t.cluster_id = ?2 AND (?3 IS NULL OR (t.created_at, t.uid) < \
               (SELECT m.created_at, m.uid FROM {table} m WHERE m.project_id = ?1 AND m.cluster_id = ?2 AND m.uid = ?3)) \
             ORDER BY t.created_at DESC, t.uid DESC LIMIT ?4"
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

/// Stores a baseline, binding `?1` project, `?2` cluster, `?3` the Snapshot, `?4` the time
/// stored, `?5` the time taken, `?6` the pre-check task; followed by an optional `WHERE`
/// and [`ON_BASELINE_CONFLICT`].
const UPSERT_BASELINE: &str = "INSERT INTO baselines (project_id, cluster_id, snapshot_json, updated_at, taken_at, precheck_task_uid) \
     SELECT ?1, ?2, ?3, ?4, ?5, ?6";
/// Replaces the baseline a cluster has.
const ON_BASELINE_CONFLICT: &str = "ON CONFLICT (project_id, cluster_id) DO UPDATE SET snapshot_json = excluded.snapshot_json, \
     updated_at = excluded.updated_at, taken_at = excluded.taken_at, precheck_task_uid = excluded.precheck_task_uid";

// The task methods come from `task_methods`, the same for every backend.
impl_store! { SqliteStore {
    async fn renew_leases(
        &self,
        owner: &str,
        uids: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError> {
        const ACTION: &str = "renewing task leases";
        let uids = serde_json::to_string(uids)
            .map_err(|source| StoreError::Decode { what: "encoding task IDs", source })?;
        let mut tx = self.pool.begin().await.map_err(query_error(ACTION))?;
        let mut renewed = 0;
        for (table, unfinished) in TASK_TABLES {
            let mine = format!(
                "SELECT uid FROM {table} WHERE owner = ?2 AND {unfinished} AND uid IN (SELECT value FROM json_each(?3))"
            );
            renewed += sqlx::query(&format!(
                "UPDATE {table} SET lease_expires_at = ?1 WHERE uid IN ({mine})"
            ))
            .bind(micros(until))
            .bind(owner)
            .bind(&uids)
            .execute(&mut *tx)
            .await
            .map_err(query_error(ACTION))?
            .rows_affected();
            sqlx::query(&format!(
                "UPDATE cluster_locks SET expires_at = max(expires_at, ?1) WHERE task_uid IN ({mine})"
            ))
            .bind(micros(until))
            .bind(owner)
            .bind(&uids)
            .execute(&mut *tx)
            .await
            .map_err(query_error(ACTION))?;
        }
        tx.commit().await.map_err(query_error(ACTION))?;
        Ok(renewed)
    }

    async fn expire_orphans(&self, now: DateTime<Utc>, message: &str) -> Result<u64, StoreError> {
        self.end_running("ending orphaned tasks", Ending::LeaseLapsedBefore(now), message).await
    }

    async fn abandon_owner(&self, owner: &str, message: &str) -> Result<u64, StoreError> {
        self.end_running("abandoning an owner's tasks", Ending::OwnedBy(owner), message).await
    }

    async fn try_lock_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
        task_uid: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        // One statement: insert the lock, or take it over when it lapsed (or is ours).
        let taken = sqlx::query(
            "INSERT INTO cluster_locks (project_id, cluster_id, task_uid, expires_at) VALUES (?1, ?2, ?3, ?4) \
             ON CONFLICT (project_id, cluster_id) DO UPDATE SET task_uid = excluded.task_uid, expires_at = excluded.expires_at \
             WHERE cluster_locks.expires_at <= ?5 OR cluster_locks.task_uid = excluded.task_uid \
             RETURNING task_uid",
        )
        .bind(project_id)
        .bind(cluster_id)
        .bind(task_uid)
        .bind(micros(until))
        .bind(micros(Utc::now()))
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
            "DELETE FROM cluster_locks WHERE project_id = ? AND cluster_id = ? AND task_uid = ?",
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
        // SQLite serialises writers, so counting and inserting in one statement is atomic.
        let inserted = sqlx::query(
            "INSERT INTO clusters (project_id, cluster_id, name, endpoint, encrypted_credentials, created_at) \
             SELECT ?1, ?2, ?3, ?4, ?5, ?6 \
             WHERE (SELECT count(*) FROM clusters WHERE project_id = ?1) < ?7",
        )
        .bind(&cluster.project_id)
        .bind(&cluster.cluster_id)
        .bind(&cluster.name)
        .bind(&cluster.endpoint)
        .bind(&cluster.encrypted_credentials)
        .bind(micros(cluster.created_at))
        .bind(i64::from(max_per_project))
        .execute(&self.pool)
        .await
        .map_err(insert_error("registering a cluster", || format!("cluster {}", cluster.cluster_id)))?
        .rows_affected();
        if inserted == 0 {
            return Err(StoreError::QuotaExceeded { limit: max_per_project });
        }
        Ok(())
    }

    async fn get_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
    ) -> Result<Option<StoredCluster>, StoreError> {
        let row = sqlx::query("SELECT * FROM clusters WHERE project_id = ? AND cluster_id = ?")
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
            "SELECT * FROM clusters WHERE ?1 IS NULL OR project_id = ?1 ORDER BY created_at, project_id, cluster_id",
        )
        .bind(project_id)
        .fetch_all(&self.pool)
        .await
        .map_err(query_error("listing registered clusters"))?;
        rows.iter().map(cluster_from_row).collect()
    }

    async fn delete_cluster(&self, project_id: &str, cluster_id: &str) -> Result<bool, StoreError> {
        // The baseline goes with it (ON DELETE CASCADE).
        let deleted = sqlx::query("DELETE FROM clusters WHERE project_id = ? AND cluster_id = ?")
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
        // Without a WHERE, a cluster that is not registered fails the foreign key.
        sqlx::query(&format!("{UPSERT_BASELINE} WHERE true {ON_BASELINE_CONFLICT}"))
            .bind(project_id)
            .bind(cluster_id)
            .bind(&baseline.snapshot_json)
            .bind(micros(Utc::now()))
            .bind(micros(baseline.taken_at))
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
             FROM baselines WHERE project_id = ? AND cluster_id = ?",
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
                taken_at: from_micros(row.try_get("taken_at").map_err(read)?),
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
        sqlx::query("INSERT INTO tokens (token_hash, project_id, created_at) VALUES (?, ?, ?)")
            .bind(token_hash)
            .bind(project_id)
            .bind(micros(created_at))
            .execute(&self.pool)
            .await
            .map_err(insert_error("storing an API token", || "that API token".to_owned()))?;
        Ok(())
    }

    async fn find_token(&self, token_hash: &str) -> Result<Option<String>, StoreError> {
        sqlx::query_scalar("SELECT project_id FROM tokens WHERE token_hash = ?")
            .bind(token_hash)
            .fetch_optional(&self.pool)
            .await
            .map_err(query_error("looking up an API token"))
    }

    async fn create_access_key(&self, key: &StoredAccessKey) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO access_keys (access_key, project_id, encrypted_secret, created_at) VALUES (?, ?, ?, ?)")
            .bind(&key.access_key)
            .bind(&key.project_id)
            .bind(&key.encrypted_secret)
            .bind(micros(key.created_at))
            .execute(&self.pool)
            .await
            .map_err(insert_error("storing an access key", || format!("access key {}", key.access_key)))?;
        Ok(())
    }

    async fn find_access_key(
        &self,
        access_key: &str,
    ) -> Result<Option<StoredAccessKey>, StoreError> {
        let row = sqlx::query("SELECT * FROM access_keys WHERE access_key = ?")
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
                created_at: from_micros(row.try_get("created_at").map_err(read)?),
            })
        })
        .transpose()
    }
}
}
