//! Durable storage for the service: post-check tasks, registered clusters, API tokens,
//! access keys and baselines.
//!
//! One [`Store`] trait, one implementation per backend (as atuin does): SQLite, the
//! embedded default, and PostgreSQL, for several replicas serving together. Both apply
//! their embedded migrations when opened. The store keeps bytes it is given: secrets
//! (kubeconfigs, secret keys) arrive already encrypted and token secrets already hashed.
//!
//! Concurrency across replicas rests on two things the database decides atomically:
//! a per-cluster lock row (only one check of a cluster at a time) and a lease on every
//! running task (a task whose lease lapsed belongs to a dead process and ends `Error`).
//!
//! - [`open()`]: picks the backend from a database URL; [`default_sqlite_path`].
//! - [`sqlite`]: [`SqliteStore`], one file in WAL mode.
//! - [`postgres`]: [`PgStore`], safe with several replicas on one database.
//! - `codec`: the JSON documents and error mapping both backends share.
//!
//! Timestamps are kept to the microsecond (finer parts are dropped on the way in).

mod codec;
mod open;
pub mod postgres;
pub mod sqlite;

pub use open::{default_sqlite_path, open, redact_url};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postcheck_model::{PostCheckSpec, TaskStatus};

/// What went wrong talking to the database.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// Opening the database or applying migrations failed.
    #[error("opening the database {url}: {source}")]
    Open {
        /// The database URL, without credentials.
        url: String,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// The database did not answer (down, unreachable, or no free connection in time):
    /// the caller may retry, and should tell its client to.
    #[error("{action}: the database is unavailable: {source}")]
    Unavailable {
        /// What was being attempted.
        action: &'static str,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// A project has as many clusters as it may.
    #[error("the project has {limit} clusters registered, as many as it may")]
    QuotaExceeded {
        /// The quota.
        limit: u32,
    },
    /// A row with that key exists already.
    #[error("{what} already exists")]
    Conflict {
        /// What was being created.
        what: String,
    },
    /// A query failed.
    #[error("{action}: {source}")]
    Query {
        /// What was being attempted.
        action: &'static str,
        /// The cause.
        #[source]
        source: sqlx::Error,
    },
    /// A stored document could not be decoded.
    #[error("decoding {what}: {source}")]
    Decode {
        /// What was being decoded.
        what: &'static str,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
}

/// A post-check task as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask {
    /// Task ID (a UUID).
    pub uid: String,
    /// The project the task belongs to.
    pub project_id: String,
    /// The cluster checked.
    pub cluster_id: String,
    /// The spec as requested.
    pub spec: PostCheckSpec,
    /// The current status (phase `Running` until the check ends).
    pub status: TaskStatus,
    /// When the task was created.
    pub created_at: DateTime<Utc>,
    /// When the task was last written.
    pub updated_at: DateTime<Utc>,
    /// The replica running the task (while `Running`).
    pub owner: String,
    /// Until when the owner's claim holds; a `Running` task past it is orphaned.
    pub lease_expires_at: DateTime<Utc>,
}

/// A registered cluster as stored. The credentials are opaque encrypted bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredCluster {
    /// The project the cluster belongs to.
    pub project_id: String,
    /// The cluster's ID (a UUID, as in CCE).
    pub cluster_id: String,
    /// A display name.
    pub name: String,
    /// The API server's address, for display (never a credential).
    pub endpoint: String,
    /// The credentials, encrypted by the service.
    pub encrypted_credentials: Vec<u8>,
    /// When the cluster was registered.
    pub created_at: DateTime<Utc>,
}

/// An access key as stored: the secret key is encrypted by the service.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredAccessKey {
    /// The access key ID (AK), public.
    pub access_key: String,
    /// The project it acts for.
    pub project_id: String,
    /// The secret key (SK), encrypted by the service.
    pub encrypted_secret: Vec<u8>,
    /// When it was made.
    pub created_at: DateTime<Utc>,
}

/// A page of tasks, newest first.
#[derive(Debug, Clone, PartialEq)]
pub struct TaskPage {
    /// The tasks of this page.
    pub tasks: Vec<StoredTask>,
    /// The marker of the next page, absent on the last.
    pub next_marker: Option<String>,
}

/// Everything the service keeps. All methods are scoped by project where the data is.
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- tasks ---

    /// Stores a new task (usually `Running`, owned by the calling replica); `Conflict`
    /// when its uid exists.
    async fn create_task(&self, task: &StoredTask) -> Result<(), StoreError>;
    /// Writes a task's final (or updated) status; when the status is final (not
    /// `Running`), also releases the cluster lock the task held. Returns false when no such
    /// task exists.
    async fn finish_task(
        &self,
        project_id: &str,
        uid: &str,
        status: &TaskStatus,
    ) -> Result<bool, StoreError>;
    /// One task of a project.
    async fn get_task(&self, project_id: &str, uid: &str)
    -> Result<Option<StoredTask>, StoreError>;
    /// A project's tasks of one cluster, newest first (by creation time, then uid),
    /// `limit` (clamped to 1..=500) at a time, strictly older than the task `marker` names.
    /// The marker is opaque: pass back a page's `next_marker`; an unknown one yields an
    /// empty page.
    async fn list_tasks(
        &self,
        project_id: &str,
        cluster_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<TaskPage, StoreError>;
    /// Extends the lease of the `Running` tasks of `owner` among `uids` (the checks still
    /// running in that replica) until `until`, and the cluster locks those tasks hold with
    /// it. A task of `owner` not in `uids` is left to lapse. Returns how many tasks.
    async fn renew_leases(
        &self,
        owner: &str,
        uids: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Ends `Error`, with `message`, every `Running` task whose lease expired before `now`
    /// (and frees the cluster locks they held). The stored status keeps its other fields
    /// and gains `finishedAt`. Returns how many.
    async fn expire_orphans(&self, now: DateTime<Utc>, message: &str) -> Result<u64, StoreError>;
    /// Ends `Error`, with `message`, every `Running` task of `owner` (a replica starting
    /// afresh under the same identity, or one shutting down), and frees the cluster locks
    /// they held. Returns how many.
    async fn abandon_owner(&self, owner: &str, message: &str) -> Result<u64, StoreError>;

    // --- the per-cluster lock: one check of a cluster at a time, across replicas ---

    /// Takes the lock of a cluster for `task_uid` until `until`, unless another task holds
    /// it unexpired (taking it again for the same task extends it). Atomic across
    /// replicas. Returns whether it was taken.
    async fn try_lock_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
        task_uid: &str,
        until: DateTime<Utc>,
    ) -> Result<bool, StoreError>;
    /// Frees the lock of a cluster if `task_uid` holds it.
    async fn unlock_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
        task_uid: &str,
    ) -> Result<(), StoreError>;

    // --- registered clusters ---

    /// Registers a cluster; `Conflict` when the project has it already, `QuotaExceeded`
    /// when the project has `max_per_project` clusters already (checked atomically).
    async fn create_cluster(
        &self,
        cluster: &StoredCluster,
        max_per_project: u32,
    ) -> Result<(), StoreError>;
    /// One registered cluster of a project.
    async fn get_cluster(
        &self,
        project_id: &str,
        cluster_id: &str,
    ) -> Result<Option<StoredCluster>, StoreError>;
    /// A project's clusters, oldest first; all projects' when `project_id` is None (admin).
    async fn list_clusters(
        &self,
        project_id: Option<&str>,
    ) -> Result<Vec<StoredCluster>, StoreError>;
    /// Removes a registered cluster (and its baseline). Returns whether it existed.
    async fn delete_cluster(&self, project_id: &str, cluster_id: &str) -> Result<bool, StoreError>;

    // --- baselines (the engine's Snapshot, JSON) ---

    /// Stores (replacing) the baseline of a registered cluster; an error when the cluster
    /// is not registered.
    async fn put_baseline(
        &self,
        project_id: &str,
        cluster_id: &str,
        snapshot_json: &[u8],
    ) -> Result<(), StoreError>;
    /// The baseline of a registered cluster.
    async fn get_baseline(
        &self,
        project_id: &str,
        cluster_id: &str,
    ) -> Result<Option<Vec<u8>>, StoreError>;

    // --- credentials ---

    /// Stores an API token by its hash (hex SHA-256), for a project; `Conflict` when that
    /// hash exists.
    async fn create_token(
        &self,
        token_hash: &str,
        project_id: &str,
        created_at: DateTime<Utc>,
    ) -> Result<(), StoreError>;
    /// The project of a token, by its hash.
    async fn find_token(&self, token_hash: &str) -> Result<Option<String>, StoreError>;
    /// Stores an access key; `Conflict` when that ID exists.
    async fn create_access_key(&self, key: &StoredAccessKey) -> Result<(), StoreError>;
    /// An access key by its ID.
    async fn find_access_key(
        &self,
        access_key: &str,
    ) -> Result<Option<StoredAccessKey>, StoreError>;
}
