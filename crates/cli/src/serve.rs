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
use postcheck_server::config::{Ages, ConnectionLimits, DEFAULT_LISTEN, ThrottleConfig, TlsFiles};
use postcheck_server::{Application, ServerConfig};

use crate::admin::{DatabaseArgs, EndpointArgs};

/// Arguments of `postcheck serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct ServeArgs {
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
    #[command(flatten)]
    endpoints: EndpointArgs,
    /// DANGEROUS: let tenants' kubeconfigs run exec plugins on this host, as this service's
    /// user. Only for an operator who trusts every tenant. Off by default.
    #[arg(long, env = "POSTCHECK_DANGEROUSLY_ALLOW_EXEC_PLUGINS")]
    dangerously_allow_exec_plugins: bool,
    /// How long to wait for a registered cluster's API server to answer.
    #[arg(long, env = "POSTCHECK_CLUSTER_CONNECT_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    cluster_connect_timeout: Duration,
    /// How many clusters one project may register.
    #[arg(long, env = "POSTCHECK_MAX_CLUSTERS_PER_PROJECT", default_value_t = 100)]
    max_clusters_per_project: u32,
    /// A request's headers (and a TLS handshake) must arrive within this.
    #[arg(long, env = "POSTCHECK_HEADER_READ_TIMEOUT", default_value = "10s", value_parser = parse_duration)]
    header_read_timeout: Duration,
    /// A keep-alive connection idle this long is closed.
    #[arg(long, env = "POSTCHECK_IDLE_TIMEOUT", default_value = "60s", value_parser = parse_duration)]
    idle_timeout: Duration,
    /// A request's body must arrive within this.
    #[arg(long, env = "POSTCHECK_BODY_READ_TIMEOUT", default_value = "30s", value_parser = parse_duration)]
    body_read_timeout: Duration,
    /// Connections served at once (more wait in the listen queue).
    #[arg(long, env = "POSTCHECK_MAX_CONNECTIONS", default_value_t = 1024)]
    max_connections: usize,
    /// Requests handled at once (more get 503 at once).
    #[arg(long, env = "POSTCHECK_MAX_IN_FLIGHT", default_value_t = 256)]
    max_in_flight: usize,
    /// Failed authentications allowed a minute per source address and per credential
    /// (then 429 CCE.02429001); 0 turns it off.
    #[arg(long, env = "POSTCHECK_AUTH_FAILURES_PER_MINUTE", default_value_t = 30)]
    auth_failures_per_minute: u32,
    /// Checks and baselines started a minute per project and per source address; 0 turns
    /// it off.
    #[arg(long, env = "POSTCHECK_CHECKS_PER_MINUTE", default_value_t = 60)]
    checks_per_minute: u32,
    /// How long a pre-check's result lasts: its expireTimeStamp is its end plus this.
    #[arg(long, env = "POSTCHECK_PRECHECK_TTL", default_value = "24h", value_parser = parse_duration)]
    precheck_ttl: Duration,
    /// A post-check compares against the Snapshot of the cluster's latest pre-check only
    /// while it is younger than this (a baseline stored by hand always applies).
    #[arg(long, env = "POSTCHECK_BASELINE_MAX_AGE", default_value = "168h", value_parser = parse_duration)]
    baseline_max_age: Duration,
    /// How long a token or access key found in the database is trusted from memory; one
    /// removed from the database stops working within this time (0s: look up every time).
    #[arg(long, env = "POSTCHECK_CREDENTIAL_CACHE_TTL", default_value = "5s", value_parser = parse_duration)]
    credential_cache_ttl: Duration,
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
pub(crate) async fn serve(args: ServeArgs) -> anyhow::Result<ExitCode> {
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
        allow_endpoints: args.endpoints.rules(),
        allow_exec_plugins: args.dangerously_allow_exec_plugins,
        cluster_connect_timeout: args.cluster_connect_timeout,
        max_clusters_per_project: args.max_clusters_per_project,
        connections: ConnectionLimits {
            header_read_timeout: args.header_read_timeout,
            idle_timeout: args.idle_timeout,
            body_read_timeout: args.body_read_timeout,
            max_connections: args.max_connections,
            max_in_flight: args.max_in_flight,
        },
        throttle: ThrottleConfig {
            auth_failures_per_minute: args.auth_failures_per_minute,
            checks_per_minute: args.checks_per_minute,
        },
        ages: Ages { precheck_ttl: args.precheck_ttl, baseline_max_age: args.baseline_max_age },
        credential_cache_ttl: args.credential_cache_ttl,
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

/// Logs on stderr, through the redacting writer; colours only on a terminal.
fn init_logs(format: LogFormat) {
    use std::io::IsTerminal as _;
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_env("POSTCHECK_LOG").unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::stderr().is_terminal())
        .with_writer(postcheck_server::redact::RedactingWriter::new(std::io::stderr));
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
