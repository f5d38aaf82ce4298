//! `postcheck check`, `baseline` and `checks`: the engine against the user's kubeconfig.
//!
//! `check` reads the policy (file, then flags), the baseline, builds a client as kubectl
//! would, runs the engine once or until N consecutive passes (`--wait`), prints the task
//! and exits 0 Success, 1 Failed, 2 Error. A cluster that cannot even be reached still
//! prints one task document (phase `Error`), so a pipeline always has one to parse.

pub(crate) mod progress;
mod result;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context as _, bail};
use chrono::Utc;
use postcheck_engine::access::KubeconfigSource;
use postcheck_engine::{
    CheckRequest, CheckSpec, NodeVersionPolicy, Policy, SNAPSHOT_VERSION, Snapshot, WaitOptions,
    decode_interned,
};
use postcheck_model::{
    BaselineRef, BaselineSource, PostCheckSpec, PostCheckTask, TaskMetadata, TaskPhase, TaskStatus,
    Version,
};

use crate::output::{self, Format, Style};
use progress::TerminalProgress;

/// Where the cluster is: kubectl's flags.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct ClusterArgs {
    /// The kubeconfig file (default: KUBECONFIG, then ~/.kube/config, then in-cluster).
    #[arg(long, value_name = "FILE")]
    pub(crate) kubeconfig: Option<PathBuf>,
    /// The kubeconfig context (default: its current context).
    #[arg(long, value_name = "NAME")]
    pub(crate) context: Option<String>,
}

impl ClusterArgs {
    pub(crate) fn source(&self) -> KubeconfigSource {
        KubeconfigSource { path: self.kubeconfig.clone(), context: self.context.clone() }
    }
}

/// Arguments of `postcheck check`.
#[derive(Debug, clap::Args)]
pub(crate) struct CheckArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The version the cluster was upgraded to (v1.37, v1.37.2, v1.37.2-r0).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    target: Option<String>,
    /// The version the cluster was upgraded from.
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    source: Option<String>,
    /// A baseline recorded before the upgrade with `postcheck baseline`.
    #[arg(long, value_name = "FILE")]
    baseline: Option<PathBuf>,
    /// A policy file, YAML or TOML (by extension); the flags below override it.
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Check again until --count consecutive passes, for at most this long (90s, 10m).
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    wait: Option<Duration>,
    /// Consecutive passes --wait requires.
    #[arg(long, value_name = "N", default_value_t = 1, requires = "wait")]
    count: u32,
    /// Pause between attempts under --wait.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "10s")]
    interval: Duration,
    /// How long one examination of the cluster may take before it is an Error.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "2m")]
    timeout: Duration,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    output: Format,
    /// Also write the task document (JSON, key task.json) into this existing ConfigMap,
    /// NAMESPACE/NAME (the Helm chart's job.resultConfigMap).
    #[arg(long, value_name = "NAMESPACE/NAME", value_parser = result::parse_target)]
    write_configmap: Option<result::ConfigMapRef>,
    #[command(flatten)]
    policy_flags: PolicyFlags,
}

/// Policy settings on the command line; each overrides the policy file.
#[derive(Debug, Clone, clap::Args)]
struct PolicyFlags {
    /// How many nodes may be not Ready.
    #[arg(long, value_name = "N")]
    max_unready_nodes: Option<usize>,
    /// How long a system pod may stay Pending.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration)]
    pending_grace: Option<Duration>,
    /// Ignore pods in this namespace (repeatable).
    #[arg(long, value_name = "NAMESPACE")]
    exclude_namespace: Vec<String>,
    /// Ignore nodes and pods with this label, key or key=value (repeatable).
    #[arg(long, value_name = "LABEL")]
    exclude_label: Vec<String>,
    /// Ignore this node, or namespace/name pod; a trailing * matches any rest (repeatable).
    #[arg(long, value_name = "NAME")]
    exclude_name: Vec<String>,
    /// Run only this check (repeatable).
    #[arg(long = "only", value_name = "CHECK")]
    only: Vec<String>,
    /// Do not run this check (repeatable).
    #[arg(long = "skip", value_name = "CHECK")]
    skip: Vec<String>,
    /// How node-version judges kubelets: exact (at the target) or skew (upstream skew policy).
    #[arg(long, value_name = "POLICY", value_parser = ["exact", "skew"])]
    node_version: Option<String>,
    /// Also run the synthetic-pod check: a DaemonSet in a dedicated namespace must get a
    /// Ready pod on every schedulable node (needs write permission; everything it creates
    /// is deleted).
    #[arg(long)]
    synthetic: bool,
    /// Also run the node-join check: a kubelet client certificate is requested, approved
    /// and must be issued by the cluster's signer (needs permission on
    /// certificatesigningrequests and their approval; the request is deleted).
    #[arg(long)]
    node_join: bool,

    /// Run the synthetic check in this existing namespace: only its DaemonSet is created and
    /// deleted there, no namespace of its own (what the Helm chart grants).
    #[arg(long, value_name = "NAMESPACE", requires = "synthetic")]
    synthetic_namespace: Option<String>,
}

impl PolicyFlags {
    fn apply(&self, mut policy: Policy) -> anyhow::Result<Policy> {
        if let Some(n) = self.max_unready_nodes {
            policy.tolerances.max_unready_nodes = n;
        }
        if let Some(d) = self.pending_grace {
            policy.tolerances.pending_grace = d;
        }
        policy.exclude.namespaces.extend(self.exclude_namespace.iter().cloned());
        policy.exclude.labels.extend(self.exclude_label.iter().cloned());
        policy.exclude.names.extend(self.exclude_name.iter().cloned());
        if !self.only.is_empty() {
            policy.checks.only = self.only.clone();
        }
        policy.checks.skip.extend(self.skip.iter().cloned());
        match self.node_version.as_deref() {
            Some("skew") => policy.node_version = NodeVersionPolicy::Skew,
            Some("exact") => policy.node_version = NodeVersionPolicy::Exact,
            _ => {}
        }
        if self.synthetic {
            policy.synthetic.enabled = true;
        }
        if self.node_join {
            policy.node_join.enabled = true;
        }
        if let Some(ns) = &self.synthetic_namespace {
            policy.synthetic.namespace = Some(ns.clone());
        }
        policy.validate()?;
        Ok(policy)
    }
}

pub(crate) fn parse_version(s: &str) -> Result<String, String> {
    Version::parse(s).map(|_| s.to_owned()).map_err(|e| e.to_string())
}

/// Arguments of `postcheck baseline`.
#[derive(Debug, clap::Args)]
pub(crate) struct BaselineArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// Where to write the baseline (JSON; YAML when the name ends in .yaml or .yml).
    #[arg(short, long, value_name = "FILE")]
    output: PathBuf,
    /// How long gathering may take.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5m")]
    timeout: Duration,
}

/// Arguments of `postcheck checks`.
#[derive(Debug, clap::Args)]
pub(crate) struct ChecksArgs {
    /// Output format: table, json or yaml.
    #[arg(short, long, value_name = "FORMAT", default_value = "table", value_parser = ["table", "json", "yaml"])]
    output: String,
    /// List the pre-upgrade check's catalogue (`postcheck precheck`) instead.
    #[arg(long)]
    precheck: bool,
}

/// `postcheck check`.
pub(crate) async fn check(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let policy = match &args.policy {
        Some(path) => Policy::from_file(path)?,
        None => Policy::default(),
    };
    let policy = args.policy_flags.apply(policy)?;
    let baseline = args.baseline.as_deref().map(read_baseline).transpose()?;
    let wire_spec = PostCheckSpec {
        cluster_id: None,
        cluster_version: args.source.clone(),
        target_version: args.target.clone(),
        synthetic: policy.synthetic.enabled.then_some(true),
        node_join: policy.node_join.enabled.then_some(true),
    };
    let spec = CheckSpec::from_wire(&wire_spec)?;
    let baseline_ref = baseline
        .as_ref()
        .map_or_else(BaselineRef::none, |b| BaselineRef::from(BaselineSource::File, b.taken_at));
    let request = CheckRequest { spec, baseline, baseline_ref, policy, deadline: args.timeout };

    let started = Utc::now();
    let client = args.cluster.source().client().await;
    let status = match &client {
        Err(e) => {
            TaskStatus::bare(TaskPhase::Error, format!("the cluster could not be examined: {e}"))
        }
        Ok(client) => {
            let progress = TerminalProgress::start();
            let status = match args.wait {
                None => postcheck_engine::check_with_progress(client, &request, &progress).await,
                Some(wait) => {
                    let options = WaitOptions { wait, count: args.count, interval: args.interval };
                    postcheck_engine::check_until(client, &request, &options, &progress, &progress)
                        .await
                }
            };
            progress.finish();
            status
        }
    };
    let task = PostCheckTask::new(
        TaskMetadata {
            uid: uuid::Uuid::new_v4().to_string(),
            creation_timestamp: Some(status.started_at.unwrap_or(started)),
            update_timestamp: Some(status.finished_at.unwrap_or_else(Utc::now)),
        },
        wire_spec,
        status,
    );
    print!("{}", output::render(&task, args.output, Style::detect())?);
    if let (Some(target), Ok(client)) = (&args.write_configmap, &client) {
        result::write(client, target, &task).await?;
    }
    Ok(exit_code(task.status.phase))
}

/// 0 Success, 1 Failed, 2 Error.
pub(crate) fn exit_code(phase: TaskPhase) -> ExitCode {
    match phase {
        TaskPhase::Success => ExitCode::SUCCESS,
        TaskPhase::Failed => ExitCode::from(1),
        TaskPhase::Error | TaskPhase::Running => ExitCode::from(2),
    }
}

/// `postcheck baseline`.
pub(crate) async fn baseline(args: BaselineArgs) -> anyhow::Result<ExitCode> {
    let client = args.cluster.source().client().await?;
    let progress = TerminalProgress::start();
    let snapshot = postcheck_engine::take_baseline(&client, args.timeout, &progress).await;
    progress.finish();
    let snapshot = snapshot.context("recording the baseline")?;
    write_baseline(&args.output, &snapshot)?;
    Ok(ExitCode::SUCCESS)
}

/// Writes a baseline file (JSON, or YAML by extension), as `check --baseline` reads it.
pub(crate) fn write_baseline(path: &Path, snapshot: &Snapshot) -> anyhow::Result<()> {
    let text = if is_yaml(path) {
        serde_yaml_ng::to_string(snapshot)?
    } else {
        serde_json::to_string_pretty(snapshot)? + "\n"
    };
    std::fs::write(path, text)
        .with_context(|| format!("writing the baseline to {}", path.display()))?;
    eprintln!(
        "baseline of {} node(s) and {} pod(s) at {} written to {}",
        snapshot.node_list().len(),
        snapshot.pod_list().len(),
        snapshot.server_version.ok().map_or("an unknown version", String::as_str),
        path.display()
    );
    Ok(())
}

/// Arguments of `postcheck floor-plan` (hidden: the benchmark's).
#[derive(Debug, clap::Args)]
pub(crate) struct FloorPlanArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// How long the recorded gathering pass may take.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "15m")]
    timeout: Duration,
    /// Also write how many requests the pass sent, `VERB PATH COUNT` a line (every page).
    #[arg(long, value_name = "FILE")]
    counts: Option<PathBuf>,
}

/// `postcheck floor-plan`: the requests `postcheck check` makes against this cluster,
/// recorded from a real gathering pass, one per line as `bench/floor.sh` replays them
/// (`CHAIN <tab> GET|LIST|MLIST <tab> PATH <tab> PAGE_SIZE`).
pub(crate) async fn floor_plan(args: FloorPlanArgs) -> anyhow::Result<ExitCode> {
    let client = args.cluster.source().client().await?;
    let (plan, sent) = postcheck_engine::floor_plan(&client, args.timeout)
        .await
        .context("recording the gathering pass")?;
    for step in plan {
        println!("{}", step.line());
    }
    if let Some(path) = args.counts {
        let text: String = sent.iter().map(|(key, n)| format!("{key} {n}\n")).collect();
        std::fs::write(&path, text).with_context(|| format!("writing {}", path.display()))?;
    }
    Ok(ExitCode::SUCCESS)
}

/// `postcheck checks`: the post-check catalogue, then the pre-check's (with what it leaves
/// out); `--precheck` lists only the pre-check's, which `-o json|yaml` then prints.
pub(crate) async fn checks(args: ChecksArgs) -> anyhow::Result<ExitCode> {
    let post = postcheck_engine::catalogue();
    let pre = postcheck_engine::precheck_catalogue();
    let out_of_scope = postcheck_engine::PRECHECK_OUT_OF_SCOPE;
    let text = match (args.output.as_str(), args.precheck) {
        ("json", false) => serde_json::to_string_pretty(post)? + "\n",
        ("json", true) => serde_json::to_string_pretty(pre)? + "\n",
        ("yaml", false) => serde_yaml_ng::to_string(post)?,
        ("yaml", true) => serde_yaml_ng::to_string(pre)?,
        (_, true) => output::catalogue::precheck_table(pre, out_of_scope, Style::detect()),
        (_, false) => format!(
            "{}\nPre-upgrade check (postcheck precheck; postcheck checks --precheck -o json):\n{}",
            output::catalogue::table(post, Style::detect()),
            output::catalogue::precheck_table(pre, out_of_scope, Style::detect())
        ),
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn is_yaml(path: &Path) -> bool {
    path.extension()
        .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Reads a baseline file written by `postcheck baseline` (JSON, or YAML by extension).
fn read_baseline(path: &Path) -> anyhow::Result<Snapshot> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("reading the baseline {}", path.display()))?;
    let snapshot: Snapshot = if is_yaml(path) {
        decode_interned(|| serde_yaml_ng::from_str(&text))
            .with_context(|| format!("parsing the baseline {} as YAML", path.display()))?
    } else {
        decode_interned(|| serde_json::from_str(&text))
            .with_context(|| format!("parsing the baseline {} as JSON", path.display()))?
    };
    if snapshot.snapshot_version > SNAPSHOT_VERSION {
        bail!(
            "the baseline {} has snapshotVersion {}, newer than this postcheck reads ({SNAPSHOT_VERSION}); upgrade postcheck",
            path.display(),
            snapshot.snapshot_version
        );
    }
    Ok(snapshot)
}
