//! The task runner: starts checks, keeps them alive across replicas, ends them properly.
//!
//! - **One check per cluster.** Before a task exists, the runner takes the cluster's lock
//!   in the database; a second check of the same cluster, on this replica or another, gets
//!   CCE.01429002.
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

use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use postcheck_engine::{CheckRequest, CheckSpec, Snapshot};
use postcheck_model::{PostCheckSpec, PostCheckTask, TaskMetadata, TaskPhase, TaskStatus};
use postcheck_store::{Store, StoredCluster, StoredTask};
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::cluster_client::ClusterConnector;
use crate::domain::{ProjectId, TaskId};
use crate::error::ApiError;
use crate::metrics::Metrics;

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
    tracker: TaskTracker,
    cancel: CancellationToken,
}

/// A check that has started: the task as first stored, and the check's outcome to come.
pub struct StartedCheck {
    /// The task as stored at start (phase `Running`).
    pub task: StoredTask,
    /// Resolves to the task as stored at the end.
    pub outcome: JoinHandle<StoredTask>,
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
    ) -> Self {
        Self {
            store,
            connector,
            metrics,
            running: Arc::default(),
            replica_id,
            check_deadline,
            lease_ttl,
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

    /// Takes the cluster's lock, stores a `Running` task and starts the check.
    pub async fn start(
        &self,
        project: &ProjectId,
        cluster: StoredCluster,
        spec: PostCheckSpec,
        check: CheckSpec,
    ) -> Result<StartedCheck, ApiError> {
        let uid = TaskId::random();
        let now = Utc::now();
        let lease_until = now + chrono_duration(self.lease_ttl);
        if !self
            .store
            .try_lock_cluster(project.as_str(), &cluster.cluster_id, uid.as_str(), lease_until)
            .await?
        {
            return Err(ApiError::Locked(format!(
                "Another post-check of cluster {} is running.",
                cluster.cluster_id
            )));
        }
        let task = StoredTask {
            uid: uid.to_string(),
            project_id: project.to_string(),
            cluster_id: cluster.cluster_id.clone(),
            spec,
            status: TaskStatus {
                started_at: Some(now),
                ..TaskStatus::bare(TaskPhase::Running, "the check is running")
            },
            created_at: now,
            updated_at: now,
            owner: self.replica_id.clone(),
            lease_expires_at: lease_until,
        };
        if let Ok(mut running) = self.running.lock() {
            running.insert(task.uid.clone());
        }
        if let Err(e) = self.store.create_task(&task).await {
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
        tracing::info!(task = %task.uid, cluster = %task.cluster_id, "post-check started");
        let job = CheckJob {
            store: self.store.clone(),
            connector: self.connector.clone(),
            metrics: self.metrics.clone(),
            running: self.running.clone(),
            deadline: self.check_deadline,
            cancel: self.cancel.clone(),
            task: task.clone(),
            cluster,
            check,
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
struct CheckJob {
    store: Arc<dyn Store>,
    connector: ClusterConnector,
    metrics: Arc<Metrics>,
    running: Arc<Mutex<HashSet<String>>>,
    deadline: Duration,
    cancel: CancellationToken,
    task: StoredTask,
    cluster: StoredCluster,
    check: CheckSpec,
}

impl CheckJob {
    async fn run(self) -> StoredTask {
        let started = Instant::now();
        let started_at = self.task.status.started_at.unwrap_or_else(Utc::now);
        let mut status = tokio::select! {
            status = self.examine() => status,
            _ = self.cancel.cancelled() => TaskStatus::bare(TaskPhase::Error, SHUTDOWN_MESSAGE),
        };
        let finished = Utc::now();
        status.started_at.get_or_insert(started_at);
        status.finished_at.get_or_insert(finished);
        status.duration_ms.get_or_insert((finished - started_at).num_milliseconds().max(0) as u64);
        // The check is over: its lease is no longer renewed, whatever happens next.
        if let Ok(mut running) = self.running.lock() {
            running.remove(&self.task.uid);
        }
        self.store_outcome(&status).await;
        self.metrics.task_finished(status.phase, started.elapsed());
        tracing::info!(task = %self.task.uid, cluster = %self.task.cluster_id, phase = status.phase.as_str(), "post-check ended");
        StoredTask { status, updated_at: finished, ..self.task }
    }

    /// Writes the outcome, retrying with backoff until the database answers (or the
    /// service shuts down), then frees the cluster lock.
    async fn store_outcome(&self, status: &TaskStatus) {
        let mut backoff = Duration::from_millis(50);
        loop {
            match self.store.finish_task(&self.task.project_id, &self.task.uid, status).await {
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

    async fn examine(&self) -> TaskStatus {
        let deadline = self.deadline;
        match tokio::time::timeout(deadline + Duration::from_secs(1), self.connect_and_check())
            .await
        {
            Ok(status) => status,
            Err(_) => TaskStatus::bare(
                TaskPhase::Error,
                format!(
                    "the check did not finish within the service's deadline of {}s",
                    deadline.as_secs_f64()
                ),
            ),
        }
    }

    async fn connect_and_check(&self) -> TaskStatus {
        let error = |m: String| TaskStatus::bare(TaskPhase::Error, m);
        let baseline = match self.baseline().await {
            Ok(b) => b,
            Err(m) => return error(m),
        };
        let client = match self.connector.connect(&self.cluster).await {
            Ok(c) => c,
            Err(e) => return error(format!("the cluster could not be examined: {e}")),
        };
        let mut request =
            CheckRequest { baseline, ..CheckRequest::new(self.check.clone(), self.deadline) };
        request.policy.synthetic.enabled = self.task.spec.synthetic.unwrap_or(false);
        postcheck_engine::check(client, &request).await
    }
}

impl CheckJob {
    /// The cluster's stored baseline, if it has one. One that cannot be read fails the
    /// task rather than silently checking without it.
    async fn baseline(&self) -> Result<Option<Snapshot>, String> {
        let bytes = self
            .store
            .get_baseline(&self.task.project_id, &self.task.cluster_id)
            .await
            .map_err(|e| format!("the cluster's baseline could not be read: {e}"))?;
        bytes.map(|b| serde_json::from_slice(&b)).transpose().map_err(|e| {
            format!(
                "the cluster's stored baseline is not a readable Snapshot ({e}); store a new one"
            )
        })
    }
}

/// The API document of a stored task.
pub fn task_document(task: &StoredTask) -> PostCheckTask {
    PostCheckTask::new(
        TaskMetadata {
            uid: task.uid.clone(),
            creation_timestamp: Some(task.created_at),
            update_timestamp: Some(task.updated_at),
        },
        task.spec.clone(),
        task.status.clone(),
    )
}

fn chrono_duration(d: Duration) -> chrono::Duration {
    chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX)
}
