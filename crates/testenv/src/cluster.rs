//! `TestCluster`: bringing a control plane up from the cached binaries, reopening it from its
//! state folder, upgrading it for real (a restart on the next version over the same etcd),
//! and taking it down by the pids it recorded.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::binaries::{self, Release};
use crate::components::{self, APISERVER, CONTROLLER_MANAGER, ETCD, KWOK, SCHEDULER};
use crate::error::TestEnvError;
use crate::faults::{self, Fault, FaultTarget};
use crate::pki::{self, PkiFiles};
use crate::process::{self, Launch};
use crate::state::{ClusterState, Layout, Ports, ProcessRecord};
use crate::status::{self, ClusterStatus};
use crate::wait::Waiter;
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

/// Which kwok nodes an upgrade moves to the new kubelet/kube-proxy version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodesToMove {
    /// Every node.
    All,
    /// No node (the control plane only).
    None,
    /// The first K nodes (`kwok-node-0..K-1`).
    Count(usize),
}

/// A running test cluster.
///
/// Dropping a cluster that this handle started (and that was not taken `down`) stops its
/// processes by their recorded pids. A handle from [`TestCluster::attach`] or
/// [`TestCluster::up_detached`] leaves the processes running when dropped.
#[derive(Debug)]
pub struct TestCluster {
    layout: Layout,
    state: ClusterState,
    owned: bool,
    stopped: bool,
}

/// The components in the order they stop (the reverse of how they start).
const STOP_ORDER: [&str; 5] = [KWOK, SCHEDULER, CONTROLLER_MANAGER, APISERVER, ETCD];

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
        let (dir, created_dir) = prepare_dir(opts.state_dir.as_deref())?;
        let layout = Layout::new(&dir);
        for sub in [dir.join("logs"), dir.join("run")] {
            std::fs::create_dir_all(&sub).map_err(TestEnvError::io("creating", &sub))?;
        }

        let ports = free_ports()?;
        let (pki_files, ca_pem) = pki::generate(&dir)?;
        let admin_token = new_token();
        let mut component_tokens = BTreeMap::new();
        for component in [CONTROLLER_MANAGER, SCHEDULER, KWOK] {
            component_tokens.insert(component.to_string(), new_token());
        }
        let server = format!("https://127.0.0.1:{}", ports.apiserver);
        write_token_file(&layout, &admin_token, &component_tokens)?;
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
        self.launch(
            CONTROLLER_MANAGER,
            &release.binary(CONTROLLER_MANAGER),
            components::controller_manager_args(
                &self.layout,
                &ports,
                pki_files,
                self.state.heartbeat,
            ),
        )?;
        self.launch(
            SCHEDULER,
            &release.binary(SCHEDULER),
            components::scheduler_args(&self.layout, &ports),
        )?;
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
        self.watch_processes(wait_node_versions(
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

    /// Upgrades the control plane for real: stops kube-apiserver, kube-controller-manager and
    /// kube-scheduler (SIGTERM, by pid), starts `to`'s binaries over the same etcd, waits for
    /// /readyz and for the new processes to renew the controller-manager's and scheduler's
    /// Leases, then moves the kubelet/kube-proxy version of the chosen nodes.
    pub async fn upgrade(
        &mut self,
        to: &str,
        nodes_to_move: NodesToMove,
    ) -> Result<(), TestEnvError> {
        let release = binaries::find_release(to)?;
        let move_count = match nodes_to_move {
            NodesToMove::All => self.state.nodes,
            NodesToMove::None => 0,
            NodesToMove::Count(k) if k <= self.state.nodes => k,
            NodesToMove::Count(k) => {
                return Err(TestEnvError::Invalid(format!(
                    "cannot move {k} nodes: the cluster has {}",
                    self.state.nodes
                )));
            }
        };
        let client = self.client().await?;
        let old_holders = (
            lease_holder(&client, CONTROLLER_MANAGER).await?,
            lease_holder(&client, SCHEDULER).await?,
        );

        let started = Instant::now();
        self.stop_components(&[CONTROLLER_MANAGER, SCHEDULER, APISERVER]).await?;
        tracing::info!(elapsed = ?started.elapsed(), "upgrade: old control plane stopped");
        let pki_files = PkiFiles::under(&self.layout.dir);
        let ports = self.state.ports;
        self.launch(
            APISERVER,
            &release.binary(APISERVER),
            components::apiserver_args(&self.layout, &ports, &pki_files),
        )?;
        let previous = std::mem::replace(&mut self.state.version, release.version.clone());
        self.state.previous_version = Some(previous);
        self.layout.write_state(&self.state)?;
        let client = self.wait_readyz(Duration::from_secs(90)).await?;
        tracing::info!(elapsed = ?started.elapsed(), "upgrade: new API server ready");
        self.launch(
            CONTROLLER_MANAGER,
            &release.binary(CONTROLLER_MANAGER),
            components::controller_manager_args(
                &self.layout,
                &ports,
                &pki_files,
                self.state.heartbeat,
            ),
        )?;
        self.launch(
            SCHEDULER,
            &release.binary(SCHEDULER),
            components::scheduler_args(&self.layout, &ports),
        )?;
        let served =
            client.apiserver_version().await.map_err(TestEnvError::kube("reading /version"))?;
        if served.git_version != format!("v{}", release.version) {
            return Err(TestEnvError::Invalid(format!(
                "after the upgrade /version says {}, expected v{}",
                served.git_version, release.version
            )));
        }
        self.watch_processes(wait_new_leader(
            &client,
            CONTROLLER_MANAGER,
            old_holders.0.as_deref(),
            Duration::from_secs(60),
        ))
        .await?;
        self.watch_processes(wait_new_leader(
            &client,
            SCHEDULER,
            old_holders.1.as_deref(),
            Duration::from_secs(60),
        ))
        .await?;
        tracing::info!(elapsed = ?started.elapsed(), "upgrade: new controller-manager and scheduler lead");

        let moved: Vec<String> = (0..move_count).map(nodes::node_name).collect();
        nodes::set_versions(&client, &moved, &release.version).await?;
        // kwok must not put the old version back.
        self.watch_processes(wait_node_versions(
            &client,
            &release.version,
            move_count,
            Duration::from_secs(30),
        ))
        .await?;
        Ok(())
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

    /// Stops the given components (in that order) off the async runtime, forgetting each one
    /// that stopped.
    async fn stop_components(&mut self, components: &[&str]) -> Result<(), TestEnvError> {
        let records: Vec<ProcessRecord> =
            components.iter().filter_map(|c| self.state.process(c).cloned()).collect();
        let results = tokio::task::spawn_blocking(move || stop_records(&records))
            .await
            .expect("the stopping task does not panic");
        self.forget_stopped(results)
    }

    fn forget_stopped(
        &mut self,
        results: Vec<(String, Result<(), TestEnvError>)>,
    ) -> Result<(), TestEnvError> {
        let mut first_error = None;
        for (component, result) in results {
            match result {
                Ok(()) => self.state.processes.retain(|p| p.component != component),
                Err(e) => {
                    first_error.get_or_insert(e);
                }
            }
        }
        if self.layout.state_file().exists() {
            self.layout.write_state(&self.state)?;
        }
        first_error.map_or(Ok(()), Err)
    }

    /// Stops everything from a synchronous context (Drop, a failed `up`).
    fn stop_all_blocking(&mut self) -> Result<(), TestEnvError> {
        let records: Vec<ProcessRecord> =
            STOP_ORDER.iter().filter_map(|c| self.state.process(c).cloned()).collect();
        let results = stop_records(&records);
        self.forget_stopped(results)
    }

    fn launch(
        &mut self,
        component: &str,
        binary: &Path,
        args: Vec<String>,
    ) -> Result<(), TestEnvError> {
        let log = self.layout.log(component);
        // The API server lingers for a minute after SIGTERM once its clients are gone; when
        // the program that owns the cluster exits, nobody is left to wait for it.
        let death_signal = if component == APISERVER { libc::SIGKILL } else { libc::SIGTERM };
        let launch = Launch {
            component: component.to_string(),
            binary: binary.to_path_buf(),
            args,
            log,
            detached: self.state.detached,
            death_signal,
        };
        let pid = process::start(&launch)?;
        self.state.set_process(ProcessRecord {
            component: component.to_string(),
            pid,
            binary: binary.to_path_buf(),
        });
        self.layout.write_state(&self.state)
    }

    /// Fails with the component's log tail if a recorded process has exited.
    fn check_alive(&self) -> Result<(), TestEnvError> {
        for record in &self.state.processes {
            if !process::is_running(record.pid, &record.binary) {
                let how =
                    process::exited(record.pid).map(|s| format!(" ({s})")).unwrap_or_default();
                return Err(process::start_error(
                    &record.component,
                    format!("the process (pid {}) exited{how}", record.pid),
                    &self.layout.log(&record.component),
                ));
            }
        }
        Ok(())
    }

    /// Runs `wait` while checking every second that no process died (a dead component turns
    /// a long timeout into an immediate error with its log).
    async fn watch_processes<T>(
        &self,
        wait: impl std::future::Future<Output = Result<T, TestEnvError>>,
    ) -> Result<T, TestEnvError> {
        tokio::pin!(wait);
        let mut ticker = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                result = &mut wait => return result,
                _ = ticker.tick() => self.check_alive()?,
            }
        }
    }

    async fn wait_port(
        &self,
        component: &str,
        port: u16,
        timeout: Duration,
    ) -> Result<(), TestEnvError> {
        let waiter = Waiter::new(
            format!("{component} to listen on 127.0.0.1:{port}"),
            timeout,
            Duration::from_millis(50),
        );
        loop {
            if tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok() {
                return Ok(());
            }
            self.check_alive()?;
            if let Err(e) = waiter.tick("").await {
                return Err(process::start_error(
                    component,
                    e.to_string(),
                    &self.layout.log(component),
                ));
            }
        }
    }

    /// Waits until /readyz answers `ok`, and returns an admin client.
    async fn wait_readyz(&self, timeout: Duration) -> Result<kube::Client, TestEnvError> {
        let client = self.client().await?;
        let waiter = Waiter::new("kube-apiserver /readyz", timeout, Duration::from_millis(200));
        loop {
            let request = http::Request::get("/readyz").body(Vec::new()).expect("a static request");
            let last = match client.request_text(request).await {
                Ok(body) if body.trim() == "ok" => return Ok(client),
                Ok(body) => body,
                Err(e) => e.to_string(),
            };
            self.check_alive()?;
            if let Err(e) = waiter.tick(&last).await {
                return Err(process::start_error(
                    APISERVER,
                    e.to_string(),
                    &self.layout.log(APISERVER),
                ));
            }
        }
    }

    /// Injects a fault and returns which object it made faulty, once that is visible
    /// through the API.
    pub async fn fault(&self, fault: Fault) -> Result<FaultTarget, TestEnvError> {
        faults::inject(self, fault).await
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

/// Stops each recorded process in turn, by pid; returns each component's outcome.
fn stop_records(records: &[ProcessRecord]) -> Vec<(String, Result<(), TestEnvError>)> {
    records
        .iter()
        .map(|r| {
            (
                r.component.clone(),
                process::stop(&r.component, r.pid, &r.binary, grace(&r.component)),
            )
        })
        .collect()
}

/// How long a component may take to exit after SIGTERM before it gets SIGKILL. The API
/// server stops listening at once but, with kwok's watches still open (as during an upgrade,
/// where the "kubelets" keep running), lingers until its shutdown timeout; a kubelet would
/// SIGKILL a static pod after its grace period too, so it gets a short one.
fn grace(component: &str) -> Duration {
    match component {
        APISERVER => Duration::from_secs(5),
        _ => Duration::from_secs(15),
    }
}

/// The holder of a component's leader-election Lease in kube-system.
async fn lease_holder(
    client: &kube::Client,
    component: &str,
) -> Result<Option<String>, TestEnvError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    let lease = leases
        .get_opt(component)
        .await
        .map_err(TestEnvError::kube(format!("reading the Lease kube-system/{component}")))?;
    Ok(lease.and_then(|l| l.spec).and_then(|s| s.holder_identity))
}

/// Waits until a component's Lease is held by someone other than `old` and was renewed
/// since the wait began (the new process leads).
async fn wait_new_leader(
    client: &kube::Client,
    component: &str,
    old: Option<&str>,
    timeout: Duration,
) -> Result<String, TestEnvError> {
    let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-system");
    let since =
        k8s_openapi::jiff::Timestamp::now() - k8s_openapi::jiff::SignedDuration::from_secs(1);
    let waiter = Waiter::new(
        format!("a new {component} to renew its Lease"),
        timeout,
        Duration::from_millis(250),
    );
    loop {
        let last = match leases.get_opt(component).await {
            Ok(Some(lease)) => {
                let spec = lease.spec.unwrap_or_default();
                let holder = spec.holder_identity.unwrap_or_default();
                let renewed = spec.renew_time.map(|t| t.0);
                if !holder.is_empty()
                    && Some(holder.as_str()) != old
                    && renewed.is_some_and(|t| t >= since)
                {
                    return Ok(holder);
                }
                format!("held by {holder:?}, renewed {renewed:?}")
            }
            Ok(None) => "no Lease yet".to_string(),
            Err(e) => e.to_string(),
        };
        waiter.tick(last).await?;
    }
}

/// Waits until the first `count` nodes report kubelet `version`.
async fn wait_node_versions(
    client: &kube::Client,
    version: &str,
    count: usize,
    timeout: Duration,
) -> Result<(), TestEnvError> {
    let want = format!("v{version}");
    let waiter = Waiter::new(
        format!("{count} nodes to report kubelet {want}"),
        timeout,
        Duration::from_millis(500),
    );
    loop {
        let listed = nodes::list(client).await?;
        let wrong: Vec<String> = listed
            .iter()
            .take(count)
            .filter(|n| nodes::kubelet_version(n).as_deref() != Some(want.as_str()))
            .map(|n| {
                format!(
                    "{} has {:?}",
                    n.metadata.name.clone().unwrap_or_default(),
                    nodes::kubelet_version(n)
                )
            })
            .collect();
        if wrong.is_empty() && listed.len() >= count {
            return Ok(());
        }
        waiter.tick(wrong.join(", ")).await?;
    }
}

/// Makes (or checks) the state folder. Returns it and whether it was created here.
fn prepare_dir(requested: Option<&Path>) -> Result<(PathBuf, bool), TestEnvError> {
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
            let root = crate::state::default_root();
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
fn free_ports() -> Result<Ports, TestEnvError> {
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

fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// The API server's static tokens: `token,user,uid,"group,..."`.
fn write_token_file(
    layout: &Layout,
    admin_token: &str,
    component_tokens: &BTreeMap<String, String>,
) -> Result<(), TestEnvError> {
    let mut lines = Vec::new();
    let (user, groups) = components::identity("admin");
    lines.push(format!("{admin_token},{user},{user},\"{groups}\""));
    for (component, token) in component_tokens {
        let (user, groups) = components::identity(component);
        lines.push(if groups.is_empty() {
            format!("{token},{user},{user}")
        } else {
            format!("{token},{user},{user},\"{groups}\"")
        });
    }
    pki::write_private(&layout.token_file(), &(lines.join("\n") + "\n"))
}
