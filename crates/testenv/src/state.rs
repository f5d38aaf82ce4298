//! The state folder of one cluster and its JSON state file: what `up` started (pids, ports,
//! version, token), so that `attach` can reopen the cluster from another process and `down`
//! can stop exactly what was recorded.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::TestEnvError;

/// One process the cluster started.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct ProcessRecord {
    /// etcd, kube-apiserver, kube-controller-manager, kube-scheduler or kwok.
    pub component: String,
    /// Its pid.
    pub pid: u32,
    /// The binary it runs (checked before signalling, so a recycled pid is never hit).
    pub binary: PathBuf,
}

/// The ports a cluster listens on, all on 127.0.0.1.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
pub struct Ports {
    /// kube-apiserver's secure port.
    pub apiserver: u16,
    /// etcd's client port.
    pub etcd_client: u16,
    /// etcd's peer port.
    pub etcd_peer: u16,
    /// kube-controller-manager's secure port.
    pub controller_manager: u16,
    /// kube-scheduler's secure port.
    pub scheduler: u16,
    /// kwok's server port.
    pub kwok: u16,
}

/// Everything recorded about a running cluster.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ClusterState {
    /// The control plane's current version, e.g. `1.36.3`.
    pub version: String,
    /// The version before the last upgrade, if any.
    pub previous_version: Option<String>,
    /// The ports.
    pub ports: Ports,
    /// The admin bearer token (group system:masters).
    pub admin_token: String,
    /// The tokens of the other components, by component.
    pub component_tokens: std::collections::BTreeMap<String, String>,
    /// The CA's PEM.
    pub ca_pem: String,
    /// How many kwok nodes `up` created.
    pub nodes: usize,
    /// The node heartbeat timings the cluster runs with.
    #[serde(default)]
    pub heartbeat: crate::components::Heartbeat,
    /// The running processes.
    pub processes: Vec<ProcessRecord>,
    /// Whether the processes outlive the program that started them (the CLI).
    pub detached: bool,
    /// Whether `up` made the state folder itself (then `down` removes it).
    pub created_dir: bool,
}

impl ClusterState {
    /// The record of one component, if running.
    pub fn process(&self, component: &str) -> Option<&ProcessRecord> {
        self.processes.iter().find(|p| p.component == component)
    }

    /// Replaces (or adds) the record of a component.
    pub fn set_process(&mut self, record: ProcessRecord) {
        self.processes.retain(|p| p.component != record.component);
        self.processes.push(record);
    }
}

/// The files inside a state folder.
#[derive(Debug, Clone)]
pub struct Layout {
    /// The folder itself.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub fn new(dir: &Path) -> Layout {
        Layout { dir: dir.to_path_buf() }
    }
    /// The JSON state file.
    pub fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    /// The admin kubeconfig.
    pub fn admin_kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }
    /// A component's kubeconfig.
    pub fn kubeconfig(&self, component: &str) -> PathBuf {
        self.dir.join(format!("{component}.kubeconfig"))
    }
    /// The static token file of the API server.
    pub fn token_file(&self) -> PathBuf {
        self.dir.join("tokens.csv")
    }
    /// etcd's data folder.
    pub fn etcd_data(&self) -> PathBuf {
        self.dir.join("etcd-data")
    }
    /// A component's log file.
    pub fn log(&self, component: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{component}.log"))
    }
    /// A component's scratch folder (self-signed serving certificates and the like).
    pub fn scratch(&self, component: &str) -> PathBuf {
        self.dir.join("run").join(component)
    }
    /// The folder holding the kwok stage YAMLs the cluster runs with.
    pub fn stages(&self) -> PathBuf {
        self.dir.join("stages")
    }

    /// Reads the state file.
    pub fn read_state(&self) -> Result<ClusterState, TestEnvError> {
        let path = self.state_file();
        let text = std::fs::read_to_string(&path)
            .map_err(TestEnvError::io("reading the state file", &path))?;
        serde_json::from_str(&text).map_err(|source| TestEnvError::State { path, source })
    }

    /// Writes the state file atomically (a temporary file renamed over it).
    pub fn write_state(&self, state: &ClusterState) -> Result<(), TestEnvError> {
        let path = self.state_file();
        let tmp = self.dir.join("state.json.tmp");
        let text = serde_json::to_string_pretty(state)
            .map_err(|source| TestEnvError::State { path: path.clone(), source })?;
        crate::pki::write_private(&tmp, &text)?;
        std::fs::rename(&tmp, &path).map_err(TestEnvError::io("replacing the state file", &path))
    }
}

/// The folder under which clusters get their default state folders:
/// `$TMPDIR/postcheck-testcluster/`.
pub fn default_root() -> PathBuf {
    std::env::temp_dir().join("postcheck-testcluster")
}
