//! `postcheck version [-o json]`: what this binary is, for a person or a script (an image's
//! smoke test, a bug report): its version, the platform it was built for, whether it is
//! statically linked
//! (the container image's build is).

use std::process::ExitCode;

use serde::Serialize;

/// Arguments of `postcheck version`.
#[derive(Debug, clap::Args)]
pub(crate) struct VersionArgs {
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = VersionFormat::Text)]
    output: VersionFormat,
}

#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum VersionFormat {
    Text,
    Json,
}

/// The build, as `-o json` prints it.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
struct Build {
    version: &'static str,
    os: &'static str,
    arch: &'static str,
    statically_linked: bool,
}

fn build() -> Build {
    Build {
        version: env!("CARGO_PKG_VERSION"),
        os: std::env::consts::OS,
        arch: std::env::consts::ARCH,
        statically_linked: cfg!(target_feature = "crt-static"),
    }
}

pub(crate) fn version(args: VersionArgs) -> anyhow::Result<ExitCode> {
    let b = build();
    match args.output {
        VersionFormat::Json => println!("{}", serde_json::to_string_pretty(&b)?),
        VersionFormat::Text => println!(
            "postcheck {} ({}/{}{})",
            b.version,
            b.os,
            b.arch,
            if b.statically_linked { ", static" } else { "" }
        ),
    }
    Ok(ExitCode::SUCCESS)
}
