//! `postcheck`: verify a Kubernetes cluster after an upgrade.
//!
//! A thin `main`: parse the command line, install the one rustls crypto provider
//! (aws-lc-rs), and hand each subcommand to its module. The modules map to the
//! subcommands:
//!
//! - [`check`]: `check`, `baseline`, `checks` (and the hidden `floor-plan`), against the
//!   user's kubeconfig.
//! - [`precheck`]: `precheck`, the pre-upgrade check (and `--baseline-out`).
//! - [`report`]: `report`, a stored task document rendered offline.
//! - [`serve`]: `serve`, the CCE v3 API service.
//! - [`admin`]: `cluster`, `token`, `access-key`: the service's administration, run
//!   against its database.
//! - [`version`] and [`completions`]: `version [-o json]`, `completions bash|zsh|fish`.
//!
//! Called as `kubectl-postcheck` (kubectl's plugin convention: on PATH, `kubectl postcheck
//! check ...` runs it), the binary is the same and says `kubectl postcheck` in its help.
//!
//! Exit codes a pipeline can use: 0 Success, 1 Failed, 2 Error (and 2 for usage errors,
//! as clap does).

mod admin;
mod check;
mod completions;
mod output;
mod precheck;
mod report;
mod serve;
mod version;

use std::process::ExitCode;

use clap::{CommandFactory as _, FromArgMatches as _, Parser, Subcommand};

/// Verify a Kubernetes cluster after an upgrade, with evidence.
#[derive(Debug, Parser)]
#[command(name = "postcheck", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Check a cluster now and print the verdict (exit 0 Success, 1 Failed, 2 Error).
    Check(check::CheckArgs),
    /// Check a cluster is ready to upgrade to --target, and optionally record the baseline
    /// (exit 0 Success, 1 Failed, 2 Error).
    Precheck(precheck::PrecheckArgs),
    /// Record a cluster's state before an upgrade, to compare against after it.
    Baseline(check::BaselineArgs),
    /// List the check catalogue.
    Checks(check::ChecksArgs),
    /// Render a stored task document (from the API or `-o json`) as HTML, Markdown or a table.
    Report(report::ReportArgs),
    /// Print the requests a check makes against this cluster (the benchmark's floor plan).
    #[command(hide = true, name = "floor-plan")]
    FloorPlan(check::FloorPlanArgs),
    /// Serve CCE's v3 post-upgrade check API.
    Serve(serve::ServeArgs),
    /// Register, list and remove the clusters the service may check.
    #[command(subcommand)]
    Cluster(admin::ClusterCommand),
    /// Create API tokens (X-Auth-Token) for a project.
    #[command(subcommand)]
    Token(admin::TokenCommand),
    /// Create AK/SK pairs for a project (SDK-HMAC-SHA256 signing).
    #[command(subcommand, name = "access-key")]
    AccessKey(admin::AccessKeyCommand),
    /// Print this binary's version and build (-o json for scripts).
    Version(version::VersionArgs),
    /// Print a shell completion script: bash, zsh or fish.
    Completions(completions::CompletionsArgs),
}

/// The name kubectl gives a plugin's binary: `kubectl postcheck` runs `kubectl-postcheck`.
const PLUGIN_BINARY: &str = "kubectl-postcheck";

/// The command line definition, named as the binary was called (`argv[0]`).
fn command() -> clap::Command {
    let called = std::env::args_os()
        .next()
        .map(std::path::PathBuf::from)
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().into_owned()));
    let command = Cli::command();
    if called.as_deref() == Some(PLUGIN_BINARY) {
        command.name(PLUGIN_BINARY).bin_name("kubectl postcheck")
    } else {
        command
    }
}

fn main() -> ExitCode {
    let cli = Cli::from_arg_matches(&command().get_matches()).unwrap_or_else(|e| e.exit());
    // One crypto provider for every crate that uses rustls; mixing providers panics.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            return ExitCode::from(2);
        }
    };
    let result = runtime.block_on(async move {
        match cli.command {
            Command::Check(args) => check::check(args).await,
            Command::Precheck(args) => precheck::precheck(args).await,
            Command::Baseline(args) => check::baseline(args).await,
            Command::Checks(args) => check::checks(args).await,
            Command::Report(args) => report::report(args),
            Command::FloorPlan(args) => check::floor_plan(args).await,
            Command::Serve(args) => serve::serve(args).await,
            Command::Cluster(cmd) => admin::cluster(cmd).await,
            Command::Token(cmd) => admin::token(cmd).await,
            Command::AccessKey(cmd) => admin::access_key(cmd).await,
            Command::Version(args) => version::version(args),
            Command::Completions(args) => Ok(completions::completions(args, command())),
        }
    });
    match result {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}
