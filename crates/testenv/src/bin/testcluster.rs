//! `testcluster`: the test control plane from the command line. `up` leaves the cluster
//! running in the background (its processes outlive this command) and prints the kubeconfig
//! path last (`up --unusual` also applies the "healthy but unusual" set); `upgrade`,
//! `fault`, `apply`, `status`, `populate` and `down` reopen it from its state folder.
//! `testcluster fault --help` and `testcluster apply --help` describe every fault and set.

use std::path::PathBuf;

use anyhow::Context;
use clap::{Parser, Subcommand};
use postcheck_testenv::{
    Fault, FaultKind, NodesToMove, ObjectSet, PopulateOptions, TestCluster, UpOptions,
};

#[derive(Debug, Parser)]
#[command(
    name = "testcluster",
    about = "A real, loopback-only Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) for tests"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Start a cluster in the background; prints the kubeconfig path as the last line.
    Up {
        /// Kubernetes version: 1.36 (newest cached patch) or 1.36.3.
        #[arg(long)]
        version: String,
        /// How many kwok nodes.
        #[arg(long, default_value_t = 3)]
        nodes: usize,
        /// State folder (default: $TMPDIR/postcheck-testcluster/default).
        #[arg(long)]
        state: Option<PathBuf>,
        /// Also apply the "healthy but unusual" set (`testcluster apply unusual`).
        #[arg(long)]
        unusual: bool,
    },
    /// Apply a named set of healthy objects that look like faults; prints each object.
    Apply {
        /// Which set (`testcluster apply --help` describes each).
        #[arg(value_enum)]
        set: ObjectSet,
        /// State folder.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Upgrade the control plane and (some of) the nodes.
    Upgrade {
        /// The version to upgrade to (1.37 or 1.37.2).
        #[arg(long)]
        to: String,
        /// Which nodes move to the new kubelet version: all, none, or a count.
        #[arg(long, default_value = "all")]
        nodes: String,
        /// State folder.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Inject a fault; returns once the API shows it, printing the object it made faulty.
    Fault {
        /// Which fault (`testcluster fault --help` describes each).
        #[arg(value_enum, ignore_case = true)]
        name: FaultKind,
        /// The node of a node fault.
        #[arg(long, conflicts_with_all = ["namespace", "object_name"])]
        node: Option<String>,
        /// The namespace of the object a fault creates (default: faults).
        #[arg(long)]
        namespace: Option<String>,
        /// The name of the object a fault creates.
        #[arg(long = "name")]
        object_name: Option<String>,
        /// State folder.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Show the recorded processes and what the API says, as JSON.
    Status {
        /// State folder.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Add nodes and pods of realistic size at scale (the benchmarks' generator); prints a
    /// JSON report of what was created and how long each step took.
    Populate {
        /// Total kwok nodes wanted.
        #[arg(long)]
        nodes: usize,
        /// Pods to create, bound to the nodes, owned by ReplicaSets of Deployments.
        #[arg(long)]
        pods: usize,
        /// Deployments (default: one per 20 pods).
        #[arg(long)]
        deployments: Option<usize>,
        /// Services, each selecting one Deployment (default: one per 30 pods).
        #[arg(long)]
        services: Option<usize>,
        /// Namespaces to spread the workloads over.
        #[arg(long, default_value_t = 50)]
        namespaces: usize,
        /// Requests in flight at most.
        #[arg(long, default_value_t = 64)]
        parallel: usize,
        /// How long to wait for every pod to be Ready and adopted (30m, 1h).
        #[arg(long, default_value = "40m", value_parser = humantime_secs)]
        timeout: std::time::Duration,
        /// State folder.
        #[arg(long)]
        state: Option<PathBuf>,
    },
    /// Stop every recorded process.
    Down {
        /// State folder.
        #[arg(long)]
        state: Option<PathBuf>,
    },
}

fn state_dir(state: Option<PathBuf>) -> PathBuf {
    state.unwrap_or_else(|| postcheck_testenv::default_root().join("default"))
}

fn humantime_secs(value: &str) -> anyhow::Result<std::time::Duration> {
    let (number, unit) = value.split_at(value.trim_end_matches(char::is_alphabetic).len());
    let n: u64 =
        number.parse().with_context(|| format!("a duration like 90s, 30m or 1h, not {value:?}"))?;
    let seconds = match unit {
        "s" | "" => n,
        "m" => n * 60,
        "h" => n * 3600,
        _ => anyhow::bail!("a duration like 90s, 30m or 1h, not {value:?}"),
    };
    Ok(std::time::Duration::from_secs(seconds))
}

fn parse_nodes(value: &str) -> anyhow::Result<NodesToMove> {
    Ok(match value {
        "all" => NodesToMove::All,
        "none" => NodesToMove::None,
        k => NodesToMove::Count(
            k.parse().with_context(|| format!("--nodes takes all, none or a number, not {k:?}"))?,
        ),
    })
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("postcheck_testenv=info")),
        )
        .with_writer(std::io::stderr)
        .init();
    match Cli::parse().command {
        Command::Up { version, nodes, state, unusual } => {
            let dir = state_dir(state);
            let started = std::time::Instant::now();
            let cluster = TestCluster::up_detached(UpOptions {
                version,
                nodes,
                state_dir: Some(dir.clone()),
            })
            .await
            .with_context(|| format!("starting a cluster in {}", dir.display()))?;
            if unusual {
                for object in
                    cluster.apply(ObjectSet::Unusual).await.context("applying the unusual set")?
                {
                    eprintln!("unusual: {object}");
                }
            }
            eprintln!(
                "cluster v{} with {nodes} nodes up in {:.1}s at {} (state {})",
                cluster.version(),
                started.elapsed().as_secs_f64(),
                cluster.server_url(),
                dir.display()
            );
            println!("{}", cluster.kubeconfig_path().display());
            cluster.detach();
        }
        Command::Upgrade { to, nodes, state } => {
            let dir = state_dir(state);
            let mut cluster = TestCluster::attach(&dir)
                .with_context(|| format!("opening the cluster in {}", dir.display()))?;
            let from = cluster.version();
            let started = std::time::Instant::now();
            cluster
                .upgrade(&to, parse_nodes(&nodes)?)
                .await
                .with_context(|| format!("upgrading from {from} to {to}"))?;
            println!(
                "upgraded v{from} -> v{} in {:.1}s",
                cluster.version(),
                started.elapsed().as_secs_f64()
            );
        }
        Command::Fault { name, node, namespace, object_name, state } => {
            let dir = state_dir(state);
            let cluster = TestCluster::attach(&dir)
                .with_context(|| format!("opening the cluster in {}", dir.display()))?;
            let fault = Fault::new(name, node, namespace, object_name)?;
            let target = cluster
                .fault(fault)
                .await
                .with_context(|| format!("injecting the fault {name}"))?;
            println!("{name}: {target}");
        }
        Command::Apply { set, state } => {
            let dir = state_dir(state);
            let cluster = TestCluster::attach(&dir)
                .with_context(|| format!("opening the cluster in {}", dir.display()))?;
            for object in cluster.apply(set).await.with_context(|| format!("applying {set:?}"))? {
                println!("{object}");
            }
        }
        Command::Status { state } => {
            let dir = state_dir(state);
            let cluster = TestCluster::attach(&dir)
                .with_context(|| format!("opening the cluster in {}", dir.display()))?;
            let status = cluster.status().await.context("reading the cluster's status")?;
            println!("{}", serde_json::to_string_pretty(&status)?);
        }
        Command::Populate {
            nodes,
            pods,
            deployments,
            services,
            namespaces,
            parallel,
            timeout,
            state,
        } => {
            let dir = state_dir(state);
            let cluster = TestCluster::attach(&dir)
                .with_context(|| format!("opening the cluster in {}", dir.display()))?;
            let client = cluster.client().await.context("connecting to the cluster")?;
            let opts = PopulateOptions {
                nodes,
                pods,
                deployments: deployments.unwrap_or(pods.div_ceil(20)).max(1),
                services: services.unwrap_or(pods.div_ceil(30)),
                namespaces,
                parallel,
                ready_timeout: timeout,
            };
            let report = postcheck_testenv::populate(&client, &cluster.version(), &opts)
                .await
                .with_context(|| format!("populating with {opts:?}"))?;
            println!("{}", serde_json::to_string_pretty(&report)?);
        }
        Command::Down { state } => {
            let dir = state_dir(state);
            let cluster = TestCluster::attach(&dir)
                .with_context(|| format!("opening the cluster in {}", dir.display()))?;
            let pids: Vec<String> =
                cluster.processes().iter().map(|p| format!("{} {}", p.component, p.pid)).collect();
            cluster.down().await.context("stopping the cluster")?;
            println!(
                "stopped {}",
                if pids.is_empty() {
                    "nothing (no process recorded)".to_string()
                } else {
                    pids.join(", ")
                }
            );
        }
    }
    Ok(())
}
