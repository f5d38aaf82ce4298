//! What `status` reports about a cluster: its processes (alive, memory) as recorded, and what
//! the API says (served version, nodes Ready).

use std::path::PathBuf;

use serde::Serialize;

use crate::cluster::TestCluster;
use crate::error::TestEnvError;
use crate::{nodes, process};

/// One recorded process.
#[derive(Debug, Clone, Serialize)]
pub struct ProcessStatus {
    /// The component.
    pub component: String,
    /// Its pid.
    pub pid: u32,
    /// Whether it still runs.
    pub running: bool,
    /// Its resident memory in KiB.
    pub rss_kib: u64,
}

/// One kwok node.
#[derive(Debug, Clone, Serialize)]
pub struct NodeStatus {
    /// Its name.
    pub name: String,
    /// Whether its Ready condition is True.
    pub ready: bool,
    /// The kubelet version it reports.
    pub kubelet_version: Option<String>,
}

/// A cluster's state as recorded and as the API shows it.
#[derive(Debug, Clone, Serialize)]
pub struct ClusterStatus {
    /// The recorded control-plane version.
    pub version: String,
    /// What /version says (`v1.36.3`), if the API answered.
    pub served_version: Option<String>,
    /// The API server URL.
    pub server_url: String,
    /// The state folder.
    pub state_dir: PathBuf,
    /// The admin kubeconfig.
    pub kubeconfig: PathBuf,
    /// The recorded processes.
    pub processes: Vec<ProcessStatus>,
    /// The kwok nodes (empty if the API did not answer).
    pub nodes: Vec<NodeStatus>,
    /// Total resident memory of the processes, KiB.
    pub total_rss_kib: u64,
}

/// Gathers a cluster's status; an API that does not answer leaves the API fields empty.
pub(crate) async fn gather(cluster: &TestCluster) -> Result<ClusterStatus, TestEnvError> {
    let processes: Vec<ProcessStatus> = cluster
        .processes()
        .into_iter()
        .map(|p| {
            let running = process::is_running(p.pid, &p.binary);
            ProcessStatus {
                component: p.component,
                pid: p.pid,
                running,
                rss_kib: if running { process::rss_kib(p.pid) } else { 0 },
            }
        })
        .collect();
    let total_rss_kib = processes.iter().map(|p| p.rss_kib).sum();
    let mut status = ClusterStatus {
        version: cluster.version(),
        served_version: None,
        server_url: cluster.server_url(),
        state_dir: cluster.state_dir(),
        kubeconfig: cluster.kubeconfig_path(),
        processes,
        nodes: Vec::new(),
        total_rss_kib,
    };
    if status.processes.iter().any(|p| p.component == crate::components::APISERVER && p.running) {
        let client = cluster.client().await?;
        if let Ok(info) = client.apiserver_version().await {
            status.served_version = Some(info.git_version);
            status.nodes = nodes::list(&client)
                .await?
                .iter()
                .map(|n| NodeStatus {
                    name: n.metadata.name.clone().unwrap_or_default(),
                    ready: nodes::is_ready(n),
                    kubelet_version: nodes::kubelet_version(n),
                })
                .collect();
        }
    }
    Ok(status)
}
