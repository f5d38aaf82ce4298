//! The state folder of one cluster and its JSON state file: what `up` started (pids, ports,
//! version, token), so that `attach` can reopen the cluster from another process and `down`
//! can stop exactly what was recorded. Also where a new cluster's folder comes from (a fresh
//! one, or a given one cleared of a previous cluster's leftovers), the sweep of folders that
//! earlier clusters left behind, and the choice of the cluster's free loopback ports.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::error::TestEnvError;
use crate::process;

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
pub(crate) struct Ports {
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
pub(crate) struct ClusterState {
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
    pub(crate) fn process(&self, component: &str) -> Option<&ProcessRecord> {
        self.processes.iter().find(|p| p.component == component)
    }

    /// Replaces (or adds) the record of a component.
    pub(crate) fn set_process(&mut self, record: ProcessRecord) {
        self.processes.retain(|p| p.component != record.component);
        self.processes.push(record);
    }
}

/// The files inside a state folder.
#[derive(Debug, Clone)]
pub(crate) struct Layout {
    /// The folder itself.
    pub dir: PathBuf,
}

impl Layout {
    /// The layout of `dir`.
    pub(crate) fn new(dir: &Path) -> Layout {
        Layout { dir: dir.to_path_buf() }
    }
    /// The JSON state file.
    pub(crate) fn state_file(&self) -> PathBuf {
        self.dir.join("state.json")
    }
    /// The admin kubeconfig.
    pub(crate) fn admin_kubeconfig(&self) -> PathBuf {
        self.dir.join("admin.kubeconfig")
    }
    /// A component's kubeconfig.
    pub(crate) fn kubeconfig(&self, component: &str) -> PathBuf {
        self.dir.join(format!("{component}.kubeconfig"))
    }
    /// The static token file of the API server.
    pub(crate) fn token_file(&self) -> PathBuf {
        self.dir.join("tokens.csv")
    }
    /// etcd's data folder.
    pub(crate) fn etcd_data(&self) -> PathBuf {
        self.dir.join("etcd-data")
    }
    /// A component's log file.
    pub(crate) fn log(&self, component: &str) -> PathBuf {
        self.dir.join("logs").join(format!("{component}.log"))
    }
    /// A component's scratch folder (self-signed serving certificates and the like).
    pub(crate) fn scratch(&self, component: &str) -> PathBuf {
        self.dir.join("run").join(component)
    }
    /// The folder holding the kwok stage YAMLs the cluster runs with.
    pub(crate) fn stages(&self) -> PathBuf {
        self.dir.join("stages")
    }

    /// Reads the state file.
    pub(crate) fn read_state(&self) -> Result<ClusterState, TestEnvError> {
        let path = self.state_file();
        let text = std::fs::read_to_string(&path)
            .map_err(TestEnvError::io("reading the state file", &path))?;
        serde_json::from_str(&text).map_err(|source| TestEnvError::State { path, source })
    }

    /// Writes the state file atomically (a temporary file renamed over it).
    pub(crate) fn write_state(&self, state: &ClusterState) -> Result<(), TestEnvError> {
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

/// Makes (or checks) the state folder. Returns it and whether it was created here.
pub(crate) fn prepare_dir(requested: Option<&Path>) -> Result<(PathBuf, bool), TestEnvError> {
    match requested {
        Some(dir) => {
            let layout = Layout::new(dir);
            if let Ok(state) = layout.read_state()
                && state.processes.iter().any(|p| process::is_running(p.pid, &p.binary))
            {
                return Err(TestEnvError::Invalid(format!(
                    "a cluster is already running in {} (take it down first)",
                    dir.display()
                )));
            }
            // A previous cluster's leftovers would confuse this one.
            for stale in ["etcd-data", "logs", "run", "pki", "stages", "state.json"] {
                let path = dir.join(stale);
                let _ = if path.is_dir() {
                    std::fs::remove_dir_all(&path)
                } else {
                    std::fs::remove_file(&path)
                };
            }
            let existed = dir.exists();
            std::fs::create_dir_all(dir)
                .map_err(TestEnvError::io("creating the state folder", dir))?;
            Ok((dir.to_path_buf(), !existed))
        }
        None => {
            static COUNTER: AtomicUsize = AtomicUsize::new(0);
            let root = default_root();
            std::fs::create_dir_all(&root).map_err(TestEnvError::io("creating", &root))?;
            sweep_stale(&root);
            let name = format!(
                "c-{}-{}-{}",
                std::process::id(),
                COUNTER.fetch_add(1, Ordering::Relaxed),
                &uuid::Uuid::new_v4().simple().to_string()[..8]
            );
            let dir = root.join(name);
            std::fs::create_dir_all(&dir)
                .map_err(TestEnvError::io("creating the state folder", &dir))?;
            Ok((dir, true))
        }
    }
}

/// Removes the folders of earlier clusters that are gone without a `down` (a test binary
/// that shared one cluster across its tests never drops it; its processes died with it, by
/// `PR_SET_PDEATHSIG`). Only our `c-*` folders whose recorded processes all stopped are
/// removed, and only once their state file is a minute old; a folder still being set up has
/// no state file and is left alone for an hour.
fn sweep_stale(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    let age = |path: &Path| {
        path.metadata()
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.elapsed().ok())
            .unwrap_or_default()
    };
    for entry in entries.flatten() {
        let dir = entry.path();
        if !entry.file_name().to_string_lossy().starts_with("c-") || !dir.is_dir() {
            continue;
        }
        let layout = Layout::new(&dir);
        let stale = match layout.read_state() {
            Ok(state) => {
                !state.processes.iter().any(|p| process::is_running(p.pid, &p.binary))
                    && age(&layout.state_file()) > Duration::from_secs(60)
            }
            Err(_) => age(&dir) > Duration::from_secs(3600),
        };
        if stale {
            let _ = std::fs::remove_dir_all(&dir);
        }
    }
}

/// Six free loopback ports, held together while chosen so they differ.
pub(crate) fn free_ports() -> Result<Ports, TestEnvError> {
    let listeners: Vec<std::net::TcpListener> = (0..6)
        .map(|_| std::net::TcpListener::bind("127.0.0.1:0"))
        .collect::<Result<_, _>>()
        .map_err(TestEnvError::io("choosing a free port on", "127.0.0.1"))?;
    let ports: Vec<u16> = listeners
        .iter()
        .map(|l| l.local_addr().map(|a| a.port()))
        .collect::<Result<_, _>>()
        .map_err(TestEnvError::io("choosing a free port on", "127.0.0.1"))?;
    Ok(Ports {
        apiserver: ports[0],
        etcd_client: ports[1],
        etcd_peer: ports[2],
        controller_manager: ports[3],
        scheduler: ports[4],
        kwok: ports[5],
    })
}
