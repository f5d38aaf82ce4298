//! The one error type of the test environment: every variant says what was being attempted,
//! and a component that failed to start brings the tail of its log along.

use std::path::PathBuf;

/// Why starting, driving or stopping a test cluster failed.
#[derive(Debug, thiserror::Error)]
pub enum TestEnvError {
    /// A binary the control plane needs is not in the cache (run `scripts/k8s-binaries`).
    #[error("finding {what} in {dir}: {reason} (build the binaries with scripts/k8s-binaries)")]
    MissingBinaries {
        /// What was looked for (a version, etcd, kwok).
        what: String,
        /// The cache folder that was searched.
        dir: PathBuf,
        /// What was wrong.
        reason: String,
    },
    /// The requested version is not of the form `1.36` or `1.36.3`.
    #[error("the version {0:?} is not of the form MAJOR.MINOR or MAJOR.MINOR.PATCH")]
    BadVersion(String),
    /// A file or folder of the state folder could not be read or written.
    #[error("{action} {path}: {source}")]
    Io {
        /// What was being done ("writing", "reading"...).
        action: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The cause.
        #[source]
        source: std::io::Error,
    },
    /// The state file exists but could not be understood.
    #[error("parsing the state file {path}: {source}")]
    State {
        /// The state file.
        path: PathBuf,
        /// The cause.
        #[source]
        source: serde_json::Error,
    },
    /// Certificates or keys could not be generated.
    #[error("generating {what}: {source}")]
    Pki {
        /// Which certificate or key.
        what: &'static str,
        /// The cause.
        #[source]
        source: rcgen::Error,
    },
    /// A control-plane process could not be started, exited early or did not become ready.
    #[error("starting {component}: {reason}\n--- last lines of {log} ---\n{tail}")]
    Start {
        /// etcd, kube-apiserver, kube-controller-manager, kube-scheduler or kwok.
        component: String,
        /// What went wrong.
        reason: String,
        /// The component's log file.
        log: PathBuf,
        /// The last lines of that log.
        tail: String,
    },
    /// A process could not be stopped.
    #[error("stopping {component} (pid {pid}): {reason}")]
    Stop {
        /// The component.
        component: String,
        /// Its recorded pid.
        pid: u32,
        /// What went wrong.
        reason: String,
    },
    /// A client for the cluster could not be built.
    #[error("building a client for {server}: {reason}")]
    Client {
        /// The API server URL.
        server: String,
        /// What went wrong.
        reason: String,
    },
    /// A call to the Kubernetes API failed.
    #[error("{action}: {source}")]
    Kube {
        /// What was being done, naming the object.
        action: String,
        /// The cause.
        #[source]
        source: kube::Error,
    },
    /// Something did not reach the expected state in time.
    #[error("timed out after {seconds}s waiting for {what}{detail}")]
    Timeout {
        /// What was awaited.
        what: String,
        /// How long.
        seconds: u64,
        /// The last observation, formatted as ": ..." (or empty).
        detail: String,
    },
    /// The request made no sense for this cluster (an unknown node, moving more nodes than exist...).
    #[error("{0}")]
    Invalid(String),
}

impl TestEnvError {
    /// Wraps a kube error with the action that was attempted.
    pub(crate) fn kube(action: impl Into<String>) -> impl FnOnce(kube::Error) -> TestEnvError {
        let action = action.into();
        move |source| TestEnvError::Kube { action, source }
    }

    /// Wraps an I/O error with the action and path.
    pub(crate) fn io(
        action: &'static str,
        path: impl Into<PathBuf>,
    ) -> impl FnOnce(std::io::Error) -> TestEnvError {
        let path = path.into();
        move |source| TestEnvError::Io { action, path, source }
    }
}
