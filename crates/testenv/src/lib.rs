//! `postcheck_testenv`: a real, loopback-only Kubernetes control plane for postcheck's tests
//! and benchmarks, started from the cached binaries that `scripts/k8s-binaries` builds.
//!
//! A [`TestCluster`] is etcd + kube-apiserver + kube-controller-manager + kube-scheduler,
//! with kwok playing the kubelets of N fake nodes, a realistic starting set of workloads, real
//! upgrades (a restart on the next version over the same etcd) and injectable [`Fault`]s.
//!
//! Modules, in the order a cluster comes to life:
//! - [`binaries`]: where the cached binaries are, and which release a version means;
//! - [`state`]: the state folder and its JSON state file (pids, ports, version, token);
//! - [`pki`] and [`kubeconfig`]: the cluster's own CA, certificates, tokens, kubeconfigs;
//! - [`components`]: each component's command line; [`process`]: starting and stopping them
//!   by pid; [`stages`]: the kwok stages;
//! - [`nodes`] and [`workloads`]: the kwok nodes and the starting workloads;
//! - [`cluster`]: `up`, `attach`, `upgrade`, `down`; [`faults`]: the faults; [`status`];
//! - [`populate`]: the scale generator of the benchmarks (thousands of nodes and pods).
//!
//! ```no_run
//! # async fn demo() -> Result<(), postcheck_testenv::TestEnvError> {
//! use postcheck_testenv::{Fault, NodesToMove, TestCluster, UpOptions};
//! let mut cluster = TestCluster::up(UpOptions { version: "1.36".into(), nodes: 3, state_dir: None }).await?;
//! cluster.upgrade("1.37", NodesToMove::All).await?;
//! cluster.fault(Fault::PodCrashLoop { namespace: None, name: None }).await?;
//! cluster.down().await?;
//! # Ok(()) }
//! ```

pub mod apply;
pub mod binaries;
pub mod cluster;
pub mod components;
pub mod error;
pub mod faults;
pub mod kubeconfig;
pub mod nodes;
pub mod pki;
pub mod populate;
pub mod process;
pub mod stages;
pub mod state;
pub mod status;
pub mod wait;
pub mod workloads;

pub use binaries::binaries_dir;
pub use cluster::{NodesToMove, TestCluster, UpOptions};
pub use error::TestEnvError;
pub use faults::{FAULT_NAMES, Fault, FaultTarget};
pub use populate::{PopulateOptions, PopulateReport, populate};
pub use status::{ClusterStatus, NodeStatus, ProcessStatus};
