//! `postcheck serve`: the CCE v3 API service.
//!
//! Flags (each also an environment variable) fill a [`ServerConfig`]; the service itself
//! lives in `postcheck-server`. Logs go to stderr (`--log-format json` for machines); the
//! one line on stdout is the address served, so scripts can start it on port 0.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context as _;
use postcheck_server::config::{DEFAULT_LISTEN, TlsFiles};
use postcheck_server::{Application, ServerConfig};

use crate::admin::DatabaseArgs;

/// Arguments of `postcheck serve`.
#[derive(Debug, clap::Args)]
pub struct ServeArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, env = "POSTCHECK_LISTEN", default_value = DEFAULT_LISTEN)]
    listen: SocketAddr,
    #[command(flatten)]
    database: DatabaseArgs,
    /// How long one check may run before its task ends Error (e.g. 120s, 5m).
    #[arg(long, env = "POSTCHECK_CHECK_DEADLINE", default_value = "120s", value_parser = parse_duration)]
    check_deadline: Duration,
    /// On SIGTERM, how long running checks get to finish before they end Error.
    #[arg(long, env = "POSTCHECK_GRACE_PERIOD", default_value = "30s", value_parser = parse_duration)]
    grace_period: Duration,
    /// How long this replica's claim on its running tasks lasts without renewal.
    #[arg(long, env = "POSTCHECK_LEASE_TTL", default_value = "30s", value_parser = parse_duration)]
    lease_ttl: Duration,
    /// The largest request body accepted, in bytes.
    #[arg(long, env = "POSTCHECK_MAX_BODY_BYTES", default_value_t = 1 << 20)]
    max_body_bytes: usize,
    /// Certificate chain (PEM) to serve HTTPS with; needs --tls-key.
    #[arg(long, env = "POSTCHECK_TLS_CERT", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// Private key (PEM) to serve HTTPS with; needs --tls-cert.
    #[arg(long, env = "POSTCHECK_TLS_KEY", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Log format on stderr.
    #[arg(long, env = "POSTCHECK_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    /// This replica's identity in the database (default: host name and listen address).
    #[arg(long, env = "POSTCHECK_REPLICA_ID")]
    replica_id: Option<String>,
}

/// How logs are written.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// For people.
    Text,
    /// One JSON object a line.
    Json,
}

/// Runs the service until SIGTERM or Ctrl-C.
pub async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logs(args.log_format);
    let config = ServerConfig {
        listen: args.listen,
        database_url: args.database.database_url(),
        key: args.database.key_source(),
        check_deadline: args.check_deadline,
        grace_period: args.grace_period,
        lease_ttl: args.lease_ttl,
        max_body_bytes: args.max_body_bytes,
        tls: args.tls_cert.zip(args.tls_key).map(|(cert, key)| TlsFiles { cert, key }),
        replica_id: args.replica_id,
    };
    let database = postcheck_store::redact_url(&config.database_url);
    let app = Application::build(config)
        .await
        .with_context(|| format!("starting the service on {database}"))?;
    tracing::info!(address = %app.base_url(), database = %database, replica = %app.replica_id(), "serving CCE's v3 post-check API");
    println!("postcheck listening on {}", app.base_url());
    app.run_until_stopped().await.context("serving")?;
    Ok(ExitCode::SUCCESS)
}

fn init_logs(format: LogFormat) {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("POSTCHECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Reads `90`, `90s`, `5m`, `1h`, `500ms`.
fn parse_duration(text: &str) -> Result<Duration, String> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(split);
    let n: u64 =
        number.parse().map_err(|_| format!("{text:?} is not a duration like 30s, 5m or 500ms"))?;
    match unit {
        "" | "s" => Ok(Duration::from_secs(n)),
        "ms" => Ok(Duration::from_millis(n)),
        "m" => Ok(Duration::from_secs(n * 60)),
        "h" => Ok(Duration::from_secs(n * 3600)),
        _ => Err(format!("{text:?} has an unknown unit {unit:?} (use ms, s, m or h)")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_durations_with_units() {
        assert_eq!(parse_duration("90").unwrap(), Duration::from_secs(90));
        assert_eq!(parse_duration("5m").unwrap(), Duration::from_secs(300));
        assert_eq!(parse_duration("500ms").unwrap(), Duration::from_millis(500));
        assert!(parse_duration("5 minutes").is_err());
        assert!(parse_duration("s").is_err());
    }
}
