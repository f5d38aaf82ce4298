//! Process supervision of a [`TestCluster`]: launching a component and recording its pid in
//! the state file, noticing that one died (and failing at once with its log rather than
//! after a long timeout), waiting for a port or for /readyz, and stopping components in
//! order by their recorded pids.

use std::path::Path;
use std::time::Duration;

use crate::binaries::Release;
use crate::cluster::TestCluster;
use crate::components::{self, APISERVER, CONTROLLER_MANAGER, ETCD, KWOK, SCHEDULER};
use crate::error::TestEnvError;
use crate::pki::PkiFiles;
use crate::process::{self, Launch};
use crate::state::ProcessRecord;
use crate::wait::Waiter;

/// The components in the order they stop (the reverse of how they start).
pub(crate) const STOP_ORDER: [&str; 5] = [KWOK, SCHEDULER, CONTROLLER_MANAGER, APISERVER, ETCD];

impl TestCluster {
    /// Starts one component and records its pid (in memory and in the state file).
    pub(crate) fn launch(
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

    /// Starts the controller-manager and the scheduler of `release` (they need the API
    /// server ready, for RBAC's bootstrap roles).
    pub(crate) fn launch_controllers(
        &mut self,
        release: &Release,
        pki_files: &PkiFiles,
    ) -> Result<(), TestEnvError> {
        let ports = self.state.ports;
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
        )
    }

    /// Stops the given components (in that order) off the async runtime, forgetting each one
    /// that stopped.
    pub(crate) async fn stop_components(
        &mut self,
        components: &[&str],
    ) -> Result<(), TestEnvError> {
        let records: Vec<ProcessRecord> =
            components.iter().filter_map(|c| self.state.process(c).cloned()).collect();
        let results = tokio::task::spawn_blocking(move || stop_records(&records))
            .await
            .expect("the stopping task does not panic");
        self.forget_stopped(results)
    }

    /// Stops everything from a synchronous context (Drop, a failed `up`).
    pub(crate) fn stop_all_blocking(&mut self) -> Result<(), TestEnvError> {
        let records: Vec<ProcessRecord> =
            STOP_ORDER.iter().filter_map(|c| self.state.process(c).cloned()).collect();
        let results = stop_records(&records);
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

    /// Fails with the component's log tail if a recorded process has exited.
    pub(crate) fn check_alive(&self) -> Result<(), TestEnvError> {
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
    pub(crate) async fn watch_processes<T>(
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

    /// Waits until `component` listens on `port` of 127.0.0.1.
    pub(crate) async fn wait_port(
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
    pub(crate) async fn wait_readyz(
        &self,
        timeout: Duration,
    ) -> Result<kube::Client, TestEnvError> {
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
