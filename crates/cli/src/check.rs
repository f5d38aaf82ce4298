//! `postcheck check`, `baseline` and `checks`: the engine against the user's kubeconfig.
//! (Placeholder until the engine's command line lands.)

use std::process::ExitCode;

/// Arguments of `postcheck check`.
#[derive(Debug, clap::Args)]
pub struct CheckArgs {}
/// Arguments of `postcheck baseline`.
#[derive(Debug, clap::Args)]
pub struct BaselineArgs {}
/// Arguments of `postcheck checks`.
#[derive(Debug, clap::Args)]
pub struct ChecksArgs {}

pub async fn check(_args: CheckArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub async fn baseline(_args: BaselineArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub async fn checks(_args: ChecksArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
