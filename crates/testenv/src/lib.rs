//! `postcheck_testenv`: a real, loopback-only Kubernetes control plane for postcheck's tests
//! and benchmarks, started from the cached binaries that `scripts/k8s-binaries` builds.
//!
//! A [`TestCluster`] is etcd + kube-apiserver + kube-controller-manager + kube-scheduler,
//! with kwok playing the kubelets of N fake nodes, a realistic starting set of workloads, real
//! upgrades (a restart on the next version over the same etcd) and injectable [`Fault`]s.
//!
//! Modules (private; the surface is re-exported below), in the order a cluster comes to life:
//! - `binaries`: where the cached binaries are, and which release a version means;
//! - `state`: the state folder and its JSON state file (pids, ports, version, token);
//! - `pki` and `kubeconfig`: the cluster's own CA, certificates, tokens, kubeconfigs;
//! - `components`: each component's command line; `process`: starting and stopping one
//!   process by pid; `stages`: the kwok stages;
//! - [`nodes`] (public: other crates' tests move node versions) and `workloads`: the kwok
//!   nodes and the starting workloads;
//! - `cluster`: the [`TestCluster`] front (`up`, `attach`, `down`), over `supervisor` (the
//!   processes: launch, watch, stop) and `upgrade`;
//! - `faults/`: the [`Fault`]s, one file per family; `sets/`: the named [`ObjectSet`]s of
//!   healthy objects that look like faults (`unusual`); `status`: what `status` reports;
//! - `populate`: the scale generator of the benchmarks (thousands of nodes and pods);
//! - `apply` and `wait`: creating objects from manifests, polling with a deadline.
//!
//! ```no_run
//! # async fn demo() -> Result<(), postcheck_testenv::TestEnvError> {
//! use postcheck_testenv::{Fault, NodesToMove, ObjectSet, TestCluster, UpOptions};
//! let mut cluster = TestCluster::up(UpOptions { version: "1.36".into(), nodes: 3, state_dir: None }).await?;
//! cluster.apply(ObjectSet::Unusual).await?; // healthy objects that look like faults
//! cluster.upgrade("1.37", NodesToMove::All).await?;
//! cluster.fault(Fault::PodCrashLoop { namespace: None, name: None }).await?;
//! cluster.down().await?;
//! # Ok(()) }
//! ```

mod apply;
mod binaries;
mod cluster;
mod components;
mod error;
mod faults;
mod kubeconfig;
pub mod nodes;
mod pki;
mod populate;
mod process;
mod sets;
mod stages;
mod state;
mod status;
mod supervisor;
mod upgrade;
mod wait;
mod workloads;

pub use binaries::{ETCD_VERSION, KWOK_VERSION, binaries_dir};
pub use cluster::{TestCluster, UpOptions};
pub use components::Heartbeat;
pub use error::TestEnvError;
pub use faults::{
    CRD_GROUP, DEPRECATED_CLIENT_USER_AGENT, DNS_SERVICE, FAULT_TAINT_KEY, FAULTS_NAMESPACE, Fault,
    FaultKind, FaultTarget, KUBELET_SKEW_MINORS, LOST_LABEL, WEBHOOK_TARGET_NAMESPACE,
    cni_missing_nodes, deprecated_metric_line,
};
pub use populate::{POPULATE_LABEL, PopulateOptions, PopulateReport, populate};
pub use sets::{ObjectSet, UNUSUAL_NAMESPACE, UNUSUAL_STORAGE_CLASS, UNUSUAL_WEBHOOK};
pub use state::{ProcessRecord, default_root};
pub use status::{ClusterStatus, NodeStatus, ProcessStatus};
pub use upgrade::NodesToMove;
