//! `TestCluster`, the front of the crate: bringing a control plane up from the cached
//! binaries, reopening it from its state folder, what it is (URL, token, version, nodes), a
//! client for it, its faults, its status, and taking it down by the pids it recorded.
//!
//! The work behind the front lives beside it: `supervisor` starts, watches and stops the
//! processes; `upgrade` restarts the control plane on the next version; `state` owns the
//! state folder.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use crate::binaries::{self, Release};
use crate::components::{self, APISERVER, CONTROLLER_MANAGER, ETCD, KWOK, SCHEDULER};
use crate::error::TestEnvError;
use crate::faults::{self, Fault, FaultTarget};
use crate::pki::{self, PkiFiles};
use crate::sets::{self, ObjectSet};
use crate::state::{self, ClusterState, Layout, ProcessRecord};
use crate::status::{self, ClusterStatus};
use crate::supervisor::STOP_ORDER;
use crate::{kubeconfig, nodes, stages, workloads};

/// What `up` starts.
#[derive(Debug, Clone)]
pub struct UpOptions {
    /// The Kubernetes version: `1.36` (the newest cached patch) or `1.36.3`.
    pub version: String,
    /// How many kwok nodes to create (`kwok-node-0..N-1`).
    pub nodes: usize,
    /// The state folder; a new one under `$TMPDIR/postcheck-testcluster/` when absent.
    pub state_dir: Option<PathBuf>,
}

/// A running test cluster.
///
/// Dropping a cluster that this handle started (and that was not taken `down`) stops its
/// processes by their recorded pids. A handle from [`TestCluster::attach`] or
/// [`TestCluster::up_detached`] leaves the processes running when dropped.
#[derive(Debug)]
pub struct TestCluster {
    pub(crate) layout: Layout,
    pub(crate) state: ClusterState,
    owned: bool,
    stopped: bool,
}

impl TestCluster {
    /// Starts a control plane (etcd, kube-apiserver, kube-controller-manager, kube-scheduler,
    /// kwok) with N kwok nodes and the starting workloads, and returns once all of it is
    /// available. The processes stop when the returned handle is dropped or taken down, and
    /// also when this program exits.
    pub async fn up(opts: UpOptions) -> Result<TestCluster, TestEnvError> {
        Self::start(opts, false).await
    }

    /// Like [`TestCluster::up`], but the processes outlive this program (the CLI's `up`):
    /// dropping the handle leaves them running; `down` (here or after `attach`) stops them.
    pub async fn up_detached(opts: UpOptions) -> Result<TestCluster, TestEnvError> {
        Self::start(opts, true).await
    }

    async fn start(opts: UpOptions, detached: bool) -> Result<TestCluster, TestEnvError> {
        if opts.nodes == 0 {
            return Err(TestEnvError::Invalid(
                "a cluster needs at least one node for its starting workloads".into(),
            ));
        }
        let release = binaries::find_release(&opts.version)?;
        let etcd = binaries::etcd()?;
        let kwok_dir = binaries::kwok_dir()?;
        let (dir, created_dir) = state::prepare_dir(opts.state_dir.as_deref())?;
        let layout = Layout::new(&dir);
        for sub in [dir.join("logs"), dir.join("run")] {
            std::fs::create_dir_all(&sub).map_err(TestEnvError::io("creating", &sub))?;
        }

        let ports = state::free_ports()?;
        let (pki_files, ca_pem) = pki::generate(&dir)?;
        let admin_token = kubeconfig::new_token();
        let mut component_tokens = BTreeMap::new();
        for component in [CONTROLLER_MANAGER, SCHEDULER, KWOK] {
            component_tokens.insert(component.to_string(), kubeconfig::new_token());
        }
        let server = format!("https://127.0.0.1:{}", ports.apiserver);
        kubeconfig::write_token_file(&layout.token_file(), &admin_token, &component_tokens)?;
        kubeconfig::write(
            &layout.admin_kubeconfig(),
            &server,
            &ca_pem,
            components::identity("admin").0,
            &admin_token,
        )?;
        for (component, token) in &component_tokens {
            kubeconfig::write(
                &layout.kubeconfig(component),
                &server,
                &ca_pem,
                components::identity(component).0,
                token,
            )?;
        }
        let stage_files = stages::write(&layout, &kwok_dir)?;

        let state = ClusterState {
            version: release.version.clone(),
            previous_version: None,
            ports,
            admin_token,
            component_tokens,
            ca_pem,
            nodes: opts.nodes,
            heartbeat: components::Heartbeat::for_nodes(opts.nodes),
            processes: Vec::new(),
            detached,
            created_dir,
        };
        let mut cluster = TestCluster { layout, state, owned: true, stopped: false };
        match cluster.boot(&release, &etcd, &kwok_dir, &pki_files, &stage_files).await {
            Ok(()) => {
                cluster.owned = !detached;
                Ok(cluster)
            }
            Err(error) => {
                // Stop what started; keep the folder so its logs can be read.
                let _ = cluster.stop_all_blocking();
                cluster.stopped = true;
                Err(error)
            }
        }
    }

    async fn boot(
        &mut self,
        release: &Release,
        etcd: &Path,
        kwok_dir: &Path,
        pki_files: &PkiFiles,
        stage_files: &[PathBuf],
    ) -> Result<(), TestEnvError> {
        let started = Instant::now();
        let ports = self.state.ports;
        self.launch(ETCD, etcd, components::etcd_args(&self.layout, &ports))?;
        self.wait_port(ETCD, ports.etcd_client, Duration::from_secs(30)).await?;
        self.launch(
            APISERVER,
            &release.binary(APISERVER),
            components::apiserver_args(&self.layout, &ports, pki_files),
        )?;
        // kwok waits for the API server itself; starting it now saves a second.
        self.launch(
            KWOK,
            &kwok_dir.join("kwok"),
            components::kwok_args(&self.layout, &ports, stage_files, self.state.heartbeat),
        )?;
        // The controller-manager and scheduler need RBAC's bootstrap roles, there once ready.
        let client = self.wait_readyz(Duration::from_secs(90)).await?;
        self.launch_controllers(release, pki_files)?;
        tracing::info!(elapsed = ?started.elapsed(), "up: API server ready");

        let version = self.state.version.clone();
        let node_count = self.state.nodes;
        futures::try_join!(
            nodes::create(&client, node_count, &version),
            workloads::install(&client, &version)
        )?;
        tracing::info!(elapsed = ?started.elapsed(), "up: nodes and workloads created");
        let timeout = Duration::from_secs(120 + node_count as u64 / 5);
        self.watch_processes(workloads::wait_available(&client, node_count, timeout)).await?;
        // kwok fills nodeInfo only where it is empty; make sure ours survived.
        self.watch_processes(nodes::wait_versions(
            &client,
            &version,
            node_count,
            Duration::from_secs(30),
        ))
        .await?;
        tracing::info!(elapsed = ?started.elapsed(), "up: all available");
        Ok(())
    }

    /// Reopens a running cluster from its state folder. Dropping the handle leaves it running.
    pub fn attach(state_dir: &Path) -> Result<TestCluster, TestEnvError> {
        let layout = Layout::new(state_dir);
        let state = layout.read_state()?;
        Ok(TestCluster { layout, state, owned: false, stopped: false })
    }

    /// Leaves the processes running when this handle is dropped (as the CLI's `up` does).
    pub fn detach(mut self) -> PathBuf {
        self.owned = false;
        self.layout.dir.clone()
    }

    /// The state folder.
    pub fn state_dir(&self) -> PathBuf {
        self.layout.dir.clone()
    }

    /// The admin kubeconfig (token auth, CA data inline).
    pub fn kubeconfig_path(&self) -> PathBuf {
        self.layout.admin_kubeconfig()
    }

    /// `https://127.0.0.1:PORT` of the API server.
    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.state.ports.apiserver)
    }

    /// The admin bearer token (group system:masters).
    pub fn admin_token(&self) -> String {
        self.state.admin_token.clone()
    }

    /// The PEM of the CA that signed the API server's certificate.
    pub fn ca_pem(&self) -> String {
        self.state.ca_pem.clone()
    }

    /// The control plane's current version, e.g. `1.36.3`.
    pub fn version(&self) -> String {
        self.state.version.clone()
    }

    /// The version before the last upgrade, if the cluster was upgraded.
    pub fn previous_version(&self) -> Option<String> {
        self.state.previous_version.clone()
    }

    /// How many kwok nodes `up` created.
    pub fn node_count(&self) -> usize {
        self.state.nodes
    }

    /// The node heartbeat timings (how soon a silent node turns NotReady).
    pub fn heartbeat(&self) -> components::Heartbeat {
        self.state.heartbeat
    }

    /// The recorded processes (component, pid, binary).
    pub fn processes(&self) -> Vec<ProcessRecord> {
        self.state.processes.clone()
    }

    /// A client authenticated as the admin.
    pub async fn client(&self) -> Result<kube::Client, TestEnvError> {
        let yaml = kubeconfig::render(
            &self.server_url(),
            &self.state.ca_pem,
            components::identity("admin").0,
            &self.state.admin_token,
        );
        kubeconfig::client(&yaml, &self.server_url()).await
    }

    /// What of the starting set is not available (empty when all of it is): nodes not
    /// Ready, workloads short of replicas, Services without a ready endpoint, claims unbound.
    pub async fn unavailable(&self) -> Result<Vec<String>, TestEnvError> {
        workloads::not_available(&self.client().await?, self.state.nodes).await
    }

    /// Stops every recorded process (SIGTERM, then SIGKILL after a grace period) and removes
    /// the state folder if `up` created it.
    pub async fn down(mut self) -> Result<(), TestEnvError> {
        let result = self.stop_components(&STOP_ORDER).await;
        self.stopped = true;
        result?;
        if self.state.created_dir {
            let _ = std::fs::remove_dir_all(&self.layout.dir);
        }
        Ok(())
    }

    /// Injects a fault and returns which object it made faulty, once that is visible
    /// through the API.
    pub async fn fault(&self, fault: Fault) -> Result<FaultTarget, TestEnvError> {
        faults::inject(self, fault).await
    }

    /// Applies a named set of objects (see [`ObjectSet`]) and returns them once each shows
    /// the state it is there for.
    pub async fn apply(&self, set: ObjectSet) -> Result<Vec<FaultTarget>, TestEnvError> {
        sets::apply(self, set).await
    }

    /// The processes as recorded (alive? memory?) and the cluster as the API shows it.
    pub async fn status(&self) -> Result<ClusterStatus, TestEnvError> {
        status::gather(self).await
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        if self.owned && !self.stopped {
            let _ = self.stop_all_blocking();
            if self.state.created_dir {
                let _ = std::fs::remove_dir_all(&self.layout.dir);
            }
        }
    }
}
