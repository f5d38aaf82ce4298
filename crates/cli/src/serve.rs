//! `postcheck serve`: the CCE v3 API service. (Placeholder until the service lands.)

use std::process::ExitCode;

/// Arguments of `postcheck serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {}

pub async fn serve(_args: ServeArgs) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
