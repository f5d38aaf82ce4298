//! A real upgrade of a [`TestCluster`]: the control plane stops (by pid) and starts again on
//! the next version's binaries over the same etcd, the new controller-manager and scheduler
//! take over their leader Leases, and the chosen nodes' kubelets move to the new version.

use std::time::{Duration, Instant};

use k8s_openapi::api::coordination::v1::Lease;
use kube::Api;

use crate::binaries;
use crate::cluster::TestCluster;
use crate::components::{self, APISERVER, CONTROLLER_MANAGER, SCHEDULER};
use crate::error::TestEnvError;
use crate::nodes;
use crate::pki::PkiFiles;
use crate::wait::{Look, poll_until};

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

impl TestCluster {
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
        self.launch_controllers(&release, &pki_files)?;
        let served =
            client.apiserver_version().await.map_err(TestEnvError::kube("reading /version"))?;
        if served.git_version != format!("v{}", release.version) {
            return Err(TestEnvError::Invalid(format!(
                "after the upgrade /version says {}, expected v{}",
                served.git_version, release.version
            )));
        }
        for (component, old) in [(CONTROLLER_MANAGER, &old_holders.0), (SCHEDULER, &old_holders.1)]
        {
            self.watch_processes(wait_new_leader(
                &client,
                component,
                old.as_deref(),
                Duration::from_secs(60),
            ))
            .await?;
        }
        tracing::info!(elapsed = ?started.elapsed(), "upgrade: new controller-manager and scheduler lead");

        let moved: Vec<String> = (0..move_count).map(nodes::node_name).collect();
        nodes::set_versions(&client, &moved, &release.version).await?;
        // kwok must not put the old version back.
        self.watch_processes(nodes::wait_versions(
            &client,
            &release.version,
            move_count,
            Duration::from_secs(30),
        ))
        .await?;
        Ok(())
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
    poll_until(
        format!("a new {component} to renew its Lease"),
        timeout,
        Duration::from_millis(250),
        async || {
            let last = match leases.get_opt(component).await {
                Ok(Some(lease)) => {
                    let spec = lease.spec.unwrap_or_default();
                    let holder = spec.holder_identity.unwrap_or_default();
                    let renewed = spec.renew_time.map(|t| t.0);
                    if !holder.is_empty()
                        && Some(holder.as_str()) != old
                        && renewed.is_some_and(|t| t >= since)
                    {
                        return Ok(Look::Done(holder));
                    }
                    format!("held by {holder:?}, renewed {renewed:?}")
                }
                Ok(None) => "no Lease yet".to_string(),
                Err(e) => e.to_string(),
            };
            Ok(Look::waiting(last))
        },
    )
    .await
}
