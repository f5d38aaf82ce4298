//! The service's configuration: where it listens, where it keeps its data, how long checks
//! may take. The command line (`postcheck serve`) fills it from flags and environment
//! variables; tests fill it directly.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use crate::crypto::KeySource;
use crate::endpoint_policy::AllowRule;
pub use crate::runner::Ages;

/// A certificate chain and private key (PEM files) to serve HTTPS with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    /// The certificate chain, PEM.
    pub cert: PathBuf,
    /// The private key, PEM.
    pub key: PathBuf,
}

/// Everything `Application::build` needs.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to listen on; port 0 picks a free one.
    pub listen: SocketAddr,
    /// `sqlite:PATH` or `postgres://...`.
    pub database_url: String,
    /// Where the master key comes from.
    pub key: KeySource,
    /// How long one check may run before it ends `Error`.
    pub check_deadline: Duration,
    /// On shutdown, how long running checks get to finish before they end `Error`.
    pub grace_period: Duration,
    /// How long a replica's claim on its running tasks lasts without renewal.
    pub lease_ttl: Duration,
    /// The largest request body accepted, in bytes.
    pub max_body_bytes: usize,
    /// Serve HTTPS with these files; plain HTTP when absent.
    pub tls: Option<TlsFiles>,
    /// This replica's identity in the database; host name and listen address when absent.
    pub replica_id: Option<String>,
    /// Exceptions to the endpoint policy's default refusals (`--allow-endpoint`).
    pub allow_endpoints: Vec<AllowRule>,
    /// Let tenants' kubeconfigs run exec plugins on this host. Dangerous: only for an
    /// operator who trusts every tenant.
    pub allow_exec_plugins: bool,
    /// How long the service waits for a registered cluster's API server to answer.
    pub cluster_connect_timeout: Duration,
    /// How many clusters one project may register.
    pub max_clusters_per_project: u32,
    /// Timeouts and caps on connections and requests.
    pub connections: ConnectionLimits,
    /// Token buckets against guessing credentials and flooding checks.
    pub throttle: ThrottleConfig,
    /// How long a pre-check's result lasts (`--precheck-ttl`), and how young a pre-check's
    /// Snapshot must be for a post-check to compare against it (`--baseline-max-age`).
    pub ages: Ages,
    /// How long a credential found in the store is trusted without asking again: a token
    /// or access key removed from the database stops working within this time (zero: ask
    /// the store on every request).
    pub credential_cache_ttl: Duration,
}

/// Timeouts and caps that keep a slow or idle client from holding anything for long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConnectionLimits {
    /// A request's headers must arrive within this (and a TLS handshake too).
    pub header_read_timeout: Duration,
    /// A keep-alive connection with no request for this long is closed.
    pub idle_timeout: Duration,
    /// A request's body must arrive within this.
    pub body_read_timeout: Duration,
    /// Connections served at once; more wait in the listen queue.
    pub max_connections: usize,
    /// Requests handled at once; more are answered 503 at once.
    pub max_in_flight: usize,
}

impl Default for ConnectionLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            body_read_timeout: Duration::from_secs(30),
            max_connections: 1024,
            max_in_flight: 256,
        }
    }
}

/// Rates, per minute, of the token buckets; 0 turns one off.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleConfig {
    /// Failed authentications per source address and per credential.
    pub auth_failures_per_minute: u32,
    /// Checks (and baselines) started per project and per source address.
    pub checks_per_minute: u32,
}

impl Default for ThrottleConfig {
    fn default() -> Self {
        Self { auth_failures_per_minute: 30, checks_per_minute: 60 }
    }
}

/// The default listen address.
pub const DEFAULT_LISTEN: &str = "127.0.0.1:8080";

/// How long a credential is trusted from memory by default: a removed one stops working
/// within this time.
pub const DEFAULT_CREDENTIAL_CACHE_TTL: Duration = Duration::from_secs(5);

impl ServerConfig {
    /// Defaults around a database URL and a key source.
    pub fn new(database_url: impl Into<String>, key: KeySource) -> Self {
        Self {
            listen: DEFAULT_LISTEN.parse().expect("a valid default address"),
            database_url: database_url.into(),
            key,
            check_deadline: Duration::from_secs(120),
            grace_period: Duration::from_secs(30),
            lease_ttl: Duration::from_secs(30),
            max_body_bytes: 1 << 20,
            tls: None,
            replica_id: None,
            allow_endpoints: Vec::new(),
            allow_exec_plugins: false,
            cluster_connect_timeout: Duration::from_secs(10),
            max_clusters_per_project: 100,
            connections: ConnectionLimits::default(),
            throttle: ThrottleConfig::default(),
            ages: Ages::default(),
            credential_cache_ttl: DEFAULT_CREDENTIAL_CACHE_TTL,
        }
    }

    /// The replica identity: the configured one, else this host and the listen address,
    /// so a restarted process reclaims (and ends) its own unfinished tasks. With port 0 the
    /// address actually `bound` is used, so two such processes never share an identity.
    pub fn replica_id(&self, bound: SocketAddr) -> String {
        let addr = if self.listen.port() == 0 { bound } else { self.listen };
        self.replica_id.clone().unwrap_or_else(|| format!("{}-{addr}", hostname()))
    }
}

/// The embedded default database: SQLite under the XDG data folder.
pub fn default_database_url() -> String {
    format!("sqlite:{}", postcheck_store::default_sqlite_path().display())
}

/// The default key file: beside the default database.
pub fn default_key_file() -> PathBuf {
    postcheck_store::default_sqlite_path().with_file_name("encryption.key")
}

/// The key source from `POSTCHECK_KEY` and `--key-file`: the variable wins; else the
/// file, else the default file.
pub fn key_source(env_key: Option<String>, key_file: Option<PathBuf>) -> KeySource {
    match (env_key.filter(|k| !k.trim().is_empty()), key_file) {
        (Some(k), _) => KeySource::Inline(k),
        (None, Some(f)) => KeySource::File(f),
        (None, None) => KeySource::File(default_key_file()),
    }
}

fn hostname() -> String {
    std::env::var("HOSTNAME")
        .ok()
        .or_else(|| std::fs::read_to_string("/etc/hostname").ok())
        .map(|h| h.trim().to_owned())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "postcheck".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_key_variable_wins_over_the_file() {
        assert_eq!(key_source(Some("k".into()), Some("/f".into())), KeySource::Inline("k".into()));
        assert_eq!(key_source(None, Some("/f".into())), KeySource::File("/f".into()));
        assert_eq!(key_source(Some(" ".into()), None), KeySource::File(default_key_file()));
    }

    #[test]
    fn the_default_replica_id_names_the_listen_address() {
        let config = ServerConfig::new("sqlite::memory:", KeySource::Inline(String::new()));
        let bound: SocketAddr = "127.0.0.1:4242".parse().unwrap();
        assert!(
            config.replica_id(bound).ends_with("-127.0.0.1:8080"),
            "{}",
            config.replica_id(bound)
        );
        let any_port = ServerConfig { listen: "127.0.0.1:0".parse().unwrap(), ..config.clone() };
        assert!(any_port.replica_id(bound).ends_with("-127.0.0.1:4242"));
        let named = ServerConfig { replica_id: Some("a".into()), ..config };
        assert_eq!(named.replica_id(bound), "a");
    }
}
