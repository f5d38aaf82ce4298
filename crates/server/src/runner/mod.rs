//! The task runner: starts checks, keeps them alive across replicas, ends them properly.
//!
//! Two kinds of check run through it, the post-check ([`post`]) and the pre-check
//! ([`pre`]); what differs between them is a [`CheckKind`], everything below is shared.
//!
//! - **One check per cluster.** Before a task exists, the runner takes the cluster's lock
//!   in the database; a second check of the same cluster (of either kind), on this replica
//!   or another, gets CCE.01429002.
//! - **Leases.** Every running task is owned by a replica until its lease expires; a loop
//!   renews the leases of the checks still running in this replica (only those: a task
//!   whose check is over is never kept alive) and ends, `Error`, tasks whose lease lapsed
//!   (their process died, or their outcome could not be stored). At start, a replica ends
//!   the tasks it left running.
//! - **No task stuck.** Storing a check's outcome retries with backoff until the database
//!   answers; meanwhile the task's lease lapses, so if the outcome never lands the task
//!   ends `Error` at the next chance and its cluster lock is freed.
//! - **Deadline.** A check gets the configured deadline; past it the task ends `Error`
//!   saying so.
//! - **Drain.** On shutdown, running checks get a grace period, then are cancelled and end
//!   `Error` saying the service stopped.
//!
//! Every check runs in its own tokio task, so a client that hangs up does not stop it; a
//! synchronous request simply waits for the result.

mod post;
mod pre;

use std::collections::HashSet;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use postcheck_engine::CheckSpec;
use postcheck_model::{PostCheckSpec, PostCheckTask, PreCheckTask, PrecheckStatus, TaskMetadata};
use postcheck_store::{
    Store, StoreError, StoredBaseline, StoredCluster, StoredPrecheck, StoredTask, TaskDocument,
};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster_client::{ClusterConnector, PinnedAddress};
use crate::domain::{ProjectId, TaskId};
use crate::error::ApiError;
use crate::metrics::Metrics;

pub use post::{BaselineChoice, choose_baseline};
pub use pre::PrecheckPlan;

/// The message of a task whose replica stopped before it finished (lease lapsed).
pub const ORPHANED_MESSAGE: &str = "the service replica running this check stopped before it finished (its lease expired); run the check again";
/// The message of a task this replica left running when it last stopped.
pub const RESTARTED_MESSAGE: &str =
    "the service restarted while this check was running; run the check again";
/// The message of a task cancelled by shutdown.
pub const SHUTDOWN_MESSAGE: &str =
    "the service shut down before this check finished; run the check again";

/// The longest wait between two attempts to store a check's outcome.
const MAX_FINISH_BACKOFF: Duration = Duration::from_secs(1);

/// Runs checks; one per replica.
pub struct TaskRunner {
    store: Arc<dyn Store>,
    connector: ClusterConnector,
    metrics: Arc<Metrics>,
    running: Arc<Mutex<HashSet<String>>>,
    replica_id: String,
    check_deadline: Duration,
    lease_ttl: Duration,
    ages: Ages,
    tracker: TaskTracker,
    cancel: CancellationToken,
}

/// How long results last: a pre-check's, and a pre-check's Snapshot as a baseline.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ages {
    /// A finished pre-check expires this long after it ended (`expireTimeStamp`).
    pub precheck_ttl: Duration,
    /// A post-check compares against the Snapshot of the cluster's latest pre-check only
    /// when it is younger than this.
    pub baseline_max_age: Duration,
}

impl Default for Ages {
    fn default() -> Self {
        Self {
            precheck_ttl: Duration::from_secs(24 * 3600),
            baseline_max_age: Duration::from_secs(7 * 24 * 3600),
        }
    }
}

/// A check that has started: the task as first stored, and the check's outcome to come.
pub struct StartedCheck<S: TaskDocument = postcheck_model::TaskStatus> {
    /// The task as stored at start (phase `Running`, or `Init` for a pre-check).
    pub task: StoredTask<S>,
    /// Resolves to the task as stored at the end.
    pub outcome: JoinHandle<StoredTask<S>>,
}

/// What differs between the kinds of check: their documents, how a task starts and ends,
/// and the examination itself. The runner does everything else the same way for both.
pub trait CheckKind: Send + Sync + Sized + 'static {
    /// The task's status document.
    type Status: TaskDocument;
    /// The kind, for messages and logs (`post-check`, `pre-check`).
    const NAME: &'static str;
    /// The status a task is stored with before its check starts.
    fn accepted(now: DateTime<Utc>) -> Self::Status;
    /// The status written when the check starts, if it differs from the accepted one.
    fn started(now: DateTime<Utc>) -> Option<Self::Status>;
    /// The status of a check that could not be run to its end.
    fn error(message: String) -> Self::Status;
    /// Fills in start, finish and duration (and whatever else a finished status carries).
    fn stamp(&self, status: &mut Self::Status, started: DateTime<Utc>, finished: DateTime<Utc>);
    /// Examines the cluster (connecting through [`JobContext::connect`]): the status, and
    /// a baseline to record with it.
    fn examine(&self, job: &JobContext<'_>) -> impl Future<Output = Examined<Self::Status>> + Send;
    /// Stores a new task.
    fn create(
        store: &dyn Store,
        task: &StoredTask<Self::Status>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
    /// Writes a task's status (and, when final, a baseline to record).
    fn write(
        store: &dyn Store,
        task: &StoredTask<Self::Status>,
        status: &Self::Status,
        baseline: Option<&StoredBaseline>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// What an examination produced.
pub struct Examined<S> {
    /// The task's status.
    pub status: S,
    /// A baseline to store as the cluster's, with the status.
    pub baseline: Option<StoredBaseline>,
}

impl<S> From<S> for Examined<S> {
    fn from(status: S) -> Self {
        Self { status, baseline: None }
    }
}

/// What a check sees of its task while it runs.
pub struct JobContext<'a> {
    /// The store.
    pub store: &'a dyn Store,
    /// The task's project.
    pub project_id: &'a str,
    /// The cluster checked.
    pub cluster_id: &'a str,
    /// The task's ID.
    pub uid: &'a str,
    /// How long the examination may take.
    pub deadline: Duration,
    /// How long results last.
    pub ages: Ages,
    connector: &'a ClusterConnector,
    cluster: &'a StoredCluster,
}

impl JobContext<'_> {
    /// A client for the cluster, or the message of a task that could not reach it.
    pub async fn connect(&self) -> Result<kube::Client, String> {
        self.connect_pinned().await.map(|(client, _)| client)
    }

    /// [`connect`](Self::connect), and the checked address the client is pinned to.
    pub async fn connect_pinned(&self) -> Result<(kube::Client, PinnedAddress), String> {
        self.connector
            .connect_pinned(self.cluster)
            .await
            .map_err(|e| format!("the cluster could not be examined: {e}"))
    }
}

impl TaskRunner {
    /// A runner for this replica.
    pub fn new(
        store: Arc<dyn Store>,
        connector: ClusterConnector,
        metrics: Arc<Metrics>,
        replica_id: String,
        check_deadline: Duration,
        lease_ttl: Duration,
        ages: Ages,
    ) -> Self {
        Self {
            store,
            connector,
            metrics,
            running: Arc::default(),
            replica_id,
            check_deadline,
            lease_ttl,
            ages,
            tracker: TaskTracker::new(),
            cancel: CancellationToken::new(),
        }
    }

    /// This replica's identity.
    pub fn replica_id(&self) -> &str {
        &self.replica_id
    }

    /// How long one check (or one baseline) may take.
    pub fn check_deadline(&self) -> Duration {
        self.check_deadline
    }

    /// How long a replica's claim on a task lasts without renewal.
    pub fn lease_ttl(&self) -> Duration {
        self.lease_ttl
    }

    /// Builds clients for registered clusters.
    pub fn connector(&self) -> &ClusterConnector {
        &self.connector
    }

    fn running_uids(&self) -> Vec<String> {
        self.running.lock().map(|r| r.iter().cloned().collect()).unwrap_or_default()
    }

    /// Ends what this replica left running and what dead replicas left running.
    pub async fn recover(&self) -> Result<u64, postcheck_store::StoreError> {
        let mine = self.store.abandon_owner(&self.replica_id, RESTARTED_MESSAGE).await?;
        let orphans = self.store.expire_orphans(Utc::now(), ORPHANED_MESSAGE).await?;
        if mine + orphans > 0 {
            tracing::warn!(
                own = mine,
                orphaned = orphans,
                "ended tasks left running by a stopped process"
            );
        }
        Ok(mine + orphans)
    }

    /// Takes the cluster's lock, stores a `Running` post-check task and starts the check.
    pub async fn start(
        &self,
        project: &ProjectId,
        cluster: StoredCluster,
        spec: PostCheckSpec,
        check: CheckSpec,
    ) -> Result<StartedCheck, ApiError> {
        let actions = post::Actions {
            synthetic: spec.synthetic.unwrap_or(false),
            node_join: spec.node_join.unwrap_or(false),
        };
        self.launch(project, cluster, spec, post::PostCheck::new(check, actions)).await
    }

    /// Takes the cluster's lock, stores an `Init` pre-check task and starts the check.
    pub async fn start_precheck(
        &self,
        project: &ProjectId,
        cluster: StoredCluster,
        spec: postcheck_model::PrecheckSpec,
        plan: PrecheckPlan,
    ) -> Result<StartedCheck<PrecheckStatus>, ApiError> {
        self.launch(project, cluster, spec, pre::PreCheck::new(plan, self.ages.precheck_ttl)).await
    }

    /// Takes the cluster's lock, stores the task and spawns its check.
    async fn launch<K: CheckKind>(
        &self,
        project: &ProjectId,
        cluster: StoredCluster,
        spec: <K::Status as TaskDocument>::Spec,
        kind: K,
    ) -> Result<StartedCheck<K::Status>, ApiError> {
        let uid = TaskId::random();
        let now = Utc::now();
        let lease_until = now + chrono_duration(self.lease_ttl);
        if !self
            .store
            .try_lock_cluster(project.as_str(), &cluster.cluster_id, uid.as_str(), lease_until)
            .await?
        {
            return Err(ApiError::Locked(format!(
                "Another check of cluster {} is running.",
                cluster.cluster_id
            )));
        }
        let task = StoredTask {
            uid: uid.to_string(),
            project_id: project.to_string(),
            cluster_id: cluster.cluster_id.clone(),
            spec,
            status: K::accepted(now),
            created_at: now,
            updated_at: now,
            owner: self.replica_id.clone(),
            lease_expires_at: lease_until,
        };
        if let Ok(mut running) = self.running.lock() {
            running.insert(task.uid.clone());
        }
        if let Err(e) = K::create(self.store.as_ref(), &task).await {
            if let Ok(mut running) = self.running.lock() {
                running.remove(&task.uid);
            }
            let _ = self
                .store
                .unlock_cluster(project.as_str(), &cluster.cluster_id, uid.as_str())
                .await;
            return Err(e.into());
        }
        self.metrics.task_started();
        tracing::info!(task = %task.uid, cluster = %task.cluster_id, kind = K::NAME, "check started");
        let job = CheckJob {
            store: self.store.clone(),
            connector: self.connector.clone(),
            metrics: self.metrics.clone(),
            running: self.running.clone(),
            deadline: self.check_deadline,
            ages: self.ages,
            cancel: self.cancel.clone(),
            task: task.clone(),
            cluster,
            kind,
        };
        let outcome = self.tracker.spawn(job.run());
        Ok(StartedCheck { task, outcome })
    }

    /// Renews this replica's leases and ends other replicas' lapsed tasks, every third of
    /// the lease, until `stop` is cancelled.
    pub async fn keep_leases(self: Arc<Self>, stop: CancellationToken) {
        let mut tick = tokio::time::interval(self.lease_ttl / 3);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let until = Utc::now() + chrono_duration(self.lease_ttl);
            let running = self.running_uids();
            if let Err(e) = self.store.renew_leases(&self.replica_id, &running, until).await {
                tracing::error!(error = %e, "renewing this replica's task leases");
            }
            match self.store.expire_orphans(Utc::now(), ORPHANED_MESSAGE).await {
                Ok(0) => {}
                Ok(n) => tracing::warn!(count = n, "ended tasks whose replica stopped"),
                Err(e) => tracing::error!(error = %e, "ending tasks whose replica stopped"),
            }
        }
    }

    /// Stops taking checks, lets running ones finish within `grace`, then cancels the
    /// rest (they end `Error`), and ends anything still marked as this replica's.
    pub async fn drain(&self, grace: Duration) {
        self.tracker.close();
        if !self.tracker.is_empty() {
            tracing::info!(running = self.tracker.len(), grace = ?grace, "waiting for running checks to finish");
        }
        if tokio::time::timeout(grace, self.tracker.wait()).await.is_err() {
            tracing::warn!(
                running = self.tracker.len(),
                "grace period over: cancelling the running checks"
            );
            self.cancel.cancel();
            self.tracker.wait().await;
        }
        if let Err(e) = self.store.abandon_owner(&self.replica_id, SHUTDOWN_MESSAGE).await {
            tracing::error!(error = %e, "ending this replica's tasks at shutdown");
        }
    }
}

/// One check, run to its end.
struct CheckJob<K: CheckKind> {
    store: Arc<dyn Store>,
    connector: ClusterConnector,
    metrics: Arc<Metrics>,
    running: Arc<Mutex<HashSet<String>>>,
    deadline: Duration,
    ages: Ages,
    cancel: CancellationToken,
    task: StoredTask<K::Status>,
    cluster: StoredCluster,
    kind: K,
}

impl<K: CheckKind> CheckJob<K> {
    fn context(&self) -> JobContext<'_> {
        JobContext {
            store: self.store.as_ref(),
            project_id: &self.task.project_id,
            cluster_id: &self.task.cluster_id,
            uid: &self.task.uid,
            deadline: self.deadline,
            ages: self.ages,
            connector: &self.connector,
            cluster: &self.cluster,
        }
    }

    async fn run(mut self) -> StoredTask<K::Status> {
        let started = Instant::now();
        let started_at = self.task.created_at;
        if let Some(status) = K::started(Utc::now()) {
            // Best effort: if the database does not take it, the outcome will.
            match K::write(self.store.as_ref(), &self.task, &status, None).await {
                Ok(_) => self.task.status = status,
                Err(e) => {
                    tracing::warn!(task = %self.task.uid, error = %e, "marking a task Running")
                }
            }
        }
        let examined = tokio::select! {
            examined = self.examine() => examined,
            _ = self.cancel.cancelled() => Examined::from(K::error(SHUTDOWN_MESSAGE.into())),
        };
        let Examined { mut status, baseline } = examined;
        let finished = Utc::now();
        self.kind.stamp(&mut status, started_at, finished);
        // The check is over: its lease is no longer renewed, whatever happens next.
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.task.uid);
        }
        self.store_outcome(&status, baseline.as_ref()).await;
        let phase = status.phase_str();
        self.metrics.task_finished(phase, started.elapsed());
        tracing::info!(task = %self.task.uid, cluster = %self.task.cluster_id, kind = K::NAME, phase, "check ended");
        StoredTask { status, updated_at: finished, ..self.task }
    }

    /// Writes the outcome, retrying with backoff until the database answers (or the
    /// service shuts down), then frees the cluster lock.
    async fn store_outcome(&self, status: &K::Status, baseline: Option<&StoredBaseline>) {
        let mut backoff = Duration::from_millis(50);
        loop {
            match K::write(self.store.as_ref(), &self.task, status, baseline).await {
                Ok(_) => break,
                Err(e) => {
                    tracing::error!(task = %self.task.uid, error = %e, retry_in = ?backoff, "storing the outcome of a check; retrying");
                }
            }
            tokio::select! {
                _ = tokio::time::sleep(backoff) => {}
                _ = self.cancel.cancelled() => {
                    tracing::error!(task = %self.task.uid, "shutting down before the outcome of a check could be stored; its lease will lapse");
                    return;
                }
            }
            backoff = (backoff * 2).min(MAX_FINISH_BACKOFF);
        }
        let _ = self
            .store
            .unlock_cluster(&self.task.project_id, &self.task.cluster_id, &self.task.uid)
            .await;
    }

    async fn examine(&self) -> Examined<K::Status> {
        let deadline = self.deadline;
        let context = self.context();
        match tokio::time::timeout(deadline + Duration::from_secs(1), self.kind.examine(&context))
            .await
        {
            Ok(examined) => examined,
            Err(_) => Examined::from(K::error(format!(
                "the check did not finish within the service's deadline of {}s",
                deadline.as_secs_f64()
            ))),
        }
    }
}

/// The API document of a stored post-check task.
pub fn task_document(task: &StoredTask) -> PostCheckTask {
    PostCheckTask::new(metadata(task), task.spec.clone(), task.status.clone())
}

/// The API document of a stored pre-check task.
pub fn precheck_document(task: &StoredPrecheck) -> PreCheckTask {
    PreCheckTask::new(metadata(task), task.spec.clone(), task.status.clone())
}

fn metadata<S: TaskDocument>(task: &StoredTask<S>) -> TaskMetadata {
    TaskMetadata {
        uid: task.uid.clone(),
        creation_timestamp: Some(task.created_at),
        update_timestamp: Some(task.updated_at),
    }
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
