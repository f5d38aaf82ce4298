//! Durable storage for the service: post-check and pre-check tasks, registered clusters,
//! API tokens, access keys and baselines.
//!
//! One [`Store`] trait, one implementation per backend (as atuin does): SQLite, the
//! embedded default, and PostgreSQL, for several replicas serving together. Both apply
//! their embedded migrations when opened. The store keeps bytes it is given: secrets
//! (kubeconfigs, secret keys) arrive already encrypted and token secrets already hashed.
//!
//! Concurrency across replicas rests on two things the database decides atomically:
//! a per-cluster lock row (only one check of a cluster at a time) and a lease on every
//! running task (a task whose lease lapsed belongs to a dead process and ends `Error`).
//! Both kinds of task (post-check, pre-check) share the lock, the leases and the sweeps;
//! each is kept in its own table ([`TaskDocument::TABLE`]), so a task ID of one kind is
//! never found as the other.
//!
//! A cluster has one baseline: stored by hand, taken on demand, or recorded by a pre-check
//! (then it names the pre-check task, [`StoredBaseline::precheck_task`]).
//!
//! - [`open()`]: picks the backend from a database URL; [`default_sqlite_path`].
//! - [`sqlite`]: [`SqliteStore`], one file in WAL mode.
//! - [`postgres`]: [`PgStore`], safe with several replicas on one database.
//! - `codec`: the JSON documents and error mapping both backends share.
//!
//! Timestamps are kept to the microsecond (finer parts are dropped on the way in).

mod codec;
#[macro_use]
mod task_methods;
mod open;
pub mod postgres;
pub mod sqlite;

pub use open::{default_sqlite_path, open, open_for_command, redact_url};
pub use postgres::PgStore;
pub use sqlite::SqliteStore;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use postcheck_model::{PostCheckSpec, PrecheckPhase, PrecheckSpec, PrecheckStatus, TaskStatus};
use serde::Serialize;
use serde::de::DeserializeOwned;

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

/// The status document of one kind of task: what the store reads of it (its phase) and
/// where it keeps tasks of that kind.
pub trait TaskDocument:
    std::fmt::Debug + Clone + PartialEq + Serialize + DeserializeOwned + Send + Sync + 'static
{
    /// The spec the task was asked with.
    type Spec: std::fmt::Debug
        + Clone
        + PartialEq
        + Serialize
        + DeserializeOwned
        + Send
        + Sync
        + 'static;
    /// The table tasks of this kind are kept in.
    const TABLE: &'static str;
    /// The SQL condition (on `phase`) of a task of this kind that has not ended.
    const UNFINISHED: &'static str;
    /// The phase, as CCE spells it (and as the `phase` column keeps it).
    fn phase_str(&self) -> &'static str;
    /// Whether the task has ended.
    fn is_final(&self) -> bool;
}

impl TaskDocument for TaskStatus {
    type Spec = PostCheckSpec;
    const TABLE: &'static str = "tasks";
    const UNFINISHED: &'static str = "phase = 'Running'";
    fn phase_str(&self) -> &'static str {
        self.phase.as_str()
    }
    fn is_final(&self) -> bool {
        self.phase.is_final()
    }
}

impl TaskDocument for PrecheckStatus {
    type Spec = PrecheckSpec;
    const TABLE: &'static str = "precheck_tasks";
    const UNFINISHED: &'static str = "phase IN ('Init', 'Running')";
    fn phase_str(&self) -> &'static str {
        self.phase.as_str()
    }
    fn is_final(&self) -> bool {
        PrecheckPhase::is_final(self.phase)
    }
}

/// A task as stored: a post-check (`StoredTask`, the default) or a pre-check
/// ([`StoredPrecheck`]).
#[derive(Debug, Clone, PartialEq)]
pub struct StoredTask<S: TaskDocument = TaskStatus> {
    /// Task ID (a UUID).
    pub uid: String,
    /// The project the task belongs to.
    pub project_id: String,
    /// The cluster checked.
    pub cluster_id: String,
    /// The spec as requested.
    pub spec: S::Spec,
    /// The current status (not final until the check ends).
    pub status: S,
    /// When the task was created.
    pub created_at: DateTime<Utc>,
    /// When the task was last written.
    pub updated_at: DateTime<Utc>,
    /// The replica running the task (while it runs).
    pub owner: String,
    /// Until when the owner's claim holds; an unfinished task past it is orphaned.
    pub lease_expires_at: DateTime<Utc>,
}

/// A pre-check task as stored.
pub type StoredPrecheck = StoredTask<PrecheckStatus>;

/// A cluster's baseline as stored: the engine's Snapshot (JSON) and where it came from.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredBaseline {
    /// The Snapshot, JSON.
    pub snapshot_json: Vec<u8>,
    /// When the Snapshot was taken.
    pub taken_at: DateTime<Utc>,
    /// The pre-check task that recorded it; `None` for one stored or taken on demand.
    pub precheck_task: Option<String>,
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
pub struct TaskPage<S: TaskDocument = TaskStatus> {
    /// The tasks of this page.
    pub tasks: Vec<StoredTask<S>>,
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
    // --- pre-check tasks (their own table; the same lock, leases and sweeps) ---

    /// Stores a new pre-check task (`Init` or `Running`, owned by the calling replica);
    /// `Conflict` when its uid exists.
    async fn create_precheck(&self, task: &StoredPrecheck) -> Result<(), StoreError>;
    /// Writes a pre-check's status; when the status is final, also releases the cluster
    /// lock the task held and, given a `baseline`, stores it as the cluster's (replacing
    /// any; nothing when the cluster is no longer registered), all in one transaction.
    /// Returns false when no such task exists (then nothing is written).
    async fn finish_precheck(
        &self,
        project_id: &str,
        uid: &str,
        status: &PrecheckStatus,
        baseline: Option<&StoredBaseline>,
    ) -> Result<bool, StoreError>;
    /// One pre-check task of a project.
    async fn get_precheck(
        &self,
        project_id: &str,
        uid: &str,
    ) -> Result<Option<StoredPrecheck>, StoreError>;
    /// A project's pre-check tasks of one cluster, as [`Store::list_tasks`] lists
    /// post-check tasks.
    async fn list_prechecks(
        &self,
        project_id: &str,
        cluster_id: &str,
        limit: u32,
        marker: Option<&str>,
    ) -> Result<TaskPage<PrecheckStatus>, StoreError>;

    // --- leases, of both kinds of task ---

    /// Extends the lease of the unfinished tasks (of both kinds) of `owner` among `uids`
    /// (the checks still running in that replica) until `until`, and the cluster locks
    /// those tasks hold with it. A task of `owner` not in `uids` is left to lapse. Returns
    /// how many tasks.
    async fn renew_leases(
        &self,
        owner: &str,
        uids: &[String],
        until: DateTime<Utc>,
    ) -> Result<u64, StoreError>;
    /// Ends `Error`, with `message`, every unfinished task (of both kinds) whose lease
    /// expired before `now` (and frees the cluster locks they held). The stored status
    /// keeps its other fields and gains `finishedAt`. Returns how many.
    async fn expire_orphans(&self, now: DateTime<Utc>, message: &str) -> Result<u64, StoreError>;
    /// Ends `Error`, with `message`, every unfinished task of `owner` (a replica starting
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
        baseline: &StoredBaseline,
    ) -> Result<(), StoreError>;
    /// The baseline of a registered cluster.
    async fn get_baseline(
        &self,
        project_id: &str,
        cluster_id: &str,
    ) -> Result<Option<StoredBaseline>, StoreError>;

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
