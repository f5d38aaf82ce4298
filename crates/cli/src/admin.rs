//! `postcheck cluster|token|access-key`: administration of the service's database.
//! (Placeholder until the service lands.)

use std::process::ExitCode;

#[derive(Debug, clap::Subcommand)]
pub enum ClusterCommand {
    /// Register a cluster.
    Add,
}
#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Create a token.
    Create,
}
#[derive(Debug, clap::Subcommand)]
pub enum AccessKeyCommand {
    /// Create an access key.
    Create,
}

pub async fn cluster(_cmd: ClusterCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub async fn token(_cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
pub async fn access_key(_cmd: AccessKeyCommand) -> anyhow::Result<ExitCode> {
    anyhow::bail!("not built yet")
}
