//! `postcheck precheck`: the pre-upgrade check against the user's kubeconfig.
//!
//! Reads the policy (file, then flags), builds a client as kubectl would and learns where
//! the API server listens (for its serving certificate), runs the pre-check once, prints
//! CCE's `PreCheckTask` and exits 0 Success, 1 Failed, 2 Error like `check`. With
//! `--baseline-out FILE` it also writes the Snapshot it judged, in the very format
//! `postcheck baseline` writes and `check --baseline` reads: the "before" of the upgrade.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use chrono::Utc;
use postcheck_engine::access::{ApiServerAddress, client_from};
use postcheck_engine::{CheckSpec, Policy, PrecheckRequest, UpgradePathRule};
use postcheck_model::{PreCheckTask, PrecheckPhase, PrecheckSpec, PrecheckStatus, TaskMetadata};

use crate::check::progress::TerminalProgress;
use crate::check::{ClusterArgs, parse_version, write_baseline};
use crate::output::{self, Format, Style};

/// How long a pre-check's result stays valid (`expireTimeStamp`).
const VALID_FOR: chrono::Duration = chrono::Duration::hours(24);

/// Arguments of `postcheck precheck`.
#[derive(Debug, clap::Args)]
pub(crate) struct PrecheckArgs {
    #[command(flatten)]
    cluster: ClusterArgs,
    /// The version the upgrade will go to (v1.37, v1.37.2, v1.37.2-r0).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    target: String,
    /// The version the cluster is on now (checked against the API server's).
    #[arg(long, value_name = "VERSION", value_parser = parse_version)]
    source: Option<String>,
    /// Also write the Snapshot the pre-check judged, as `postcheck baseline` does (JSON;
    /// YAML when the name ends in .yaml or .yml): give it to `check --baseline` after the
    /// upgrade.
    #[arg(long, value_name = "FILE")]
    baseline_out: Option<PathBuf>,
    /// A policy file, YAML or TOML (by extension).
    #[arg(long, value_name = "FILE")]
    policy: Option<PathBuf>,
    /// Which minor jumps upgrade-path allows: upstream (one minor at a time) or cce (CCE's
    /// table of supported jumps).
    #[arg(long, value_name = "RULE", value_parser = ["upstream", "cce"])]
    upgrade_path: Option<String>,
    /// apiserver-certificate warns when the serving certificate expires within this many days.
    #[arg(long, value_name = "DAYS")]
    certificate_days: Option<u32>,
    /// Do not run this pre-check item (repeatable; `postcheck checks` lists them).
    #[arg(long = "skip", value_name = "ITEM")]
    skip: Vec<String>,
    /// How long the examination of the cluster may take before it is an Error.
    #[arg(long, value_name = "DURATION", value_parser = humantime::parse_duration, default_value = "5m")]
    timeout: Duration,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = Format::Table)]
    output: Format,
}

/// `postcheck precheck`.
pub(crate) async fn precheck(args: PrecheckArgs) -> anyhow::Result<ExitCode> {
    let mut policy = match &args.policy {
        Some(path) => Policy::from_file(path)?,
        None => Policy::default(),
    };
    match args.upgrade_path.as_deref() {
        Some("cce") => policy.precheck.upgrade_path = UpgradePathRule::Cce,
        Some("upstream") => policy.precheck.upgrade_path = UpgradePathRule::Upstream,
        _ => {}
    }
    if let Some(days) = args.certificate_days {
        policy.precheck.certificate_days = days;
    }
    let wire_spec = PrecheckSpec {
        cluster_id: None,
        cluster_version: args.source.clone(),
        target_version: Some(args.target.clone()),
        skipped_check_item_list: args
            .skip
            .iter()
            .map(|name| postcheck_model::SkippedCheckItem {
                name: name.clone(),
                resource_selector: None,
            })
            .collect(),
    };
    postcheck_engine::validate_skipped(&wire_spec.skipped_check_item_list)?;
    let spec = CheckSpec::from_precheck(&wire_spec)?;
    let started = Utc::now();
    let (status, snapshot) = match args.cluster.source().config().await {
        Err(e) => (
            PrecheckStatus::bare(
                PrecheckPhase::Error,
                format!("the cluster could not be examined: {e}"),
            ),
            None,
        ),
        Ok(config) => {
            let apiserver = ApiServerAddress::of(&config).await;
            match client_from(config) {
                Err(e) => (
                    PrecheckStatus::bare(
                        PrecheckPhase::Error,
                        format!("the cluster could not be examined: {e}"),
                    ),
                    None,
                ),
                Ok(client) => {
                    let request = PrecheckRequest {
                        spec,
                        skipped: wire_spec.skipped_check_item_list.clone(),
                        policy,
                        deadline: args.timeout,
                        apiserver,
                    };
                    let progress = TerminalProgress::start();
                    let outcome = postcheck_engine::precheck(&client, &request, &progress).await;
                    progress.finish();
                    (outcome.status, outcome.snapshot)
                }
            }
        }
    };
    let mut status = status;
    if status.phase != PrecheckPhase::Error {
        status.expire_time_stamp = Some(status.finished_at.unwrap_or_else(Utc::now) + VALID_FOR);
    }
    if let (Some(path), Some(snapshot)) = (&args.baseline_out, &snapshot) {
        write_baseline(path, snapshot)?;
    }
    let task = PreCheckTask::new(
        TaskMetadata {
            uid: uuid::Uuid::new_v4().to_string(),
            creation_timestamp: Some(status.started_at.unwrap_or(started)),
            update_timestamp: Some(status.finished_at.unwrap_or_else(Utc::now)),
        },
        wire_spec,
        status,
    );
    print!("{}", output::render_precheck(&task, args.output, Style::detect())?);
    Ok(match task.status.phase {
        PrecheckPhase::Success => ExitCode::SUCCESS,
        PrecheckPhase::Failed => ExitCode::from(1),
        _ => ExitCode::from(2),
    })
}
