//! `postcheck cluster|token|access-key`: administration of the service's database.
//!
//! These commands open the same database and encryption key as `postcheck serve` (same
//! flags, same environment variables), so a cluster registered or a credential made here
//! is used by every replica at once. Secrets are printed once, on stdout, and never stored
//! in the clear.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::{Context as _, bail};
use postcheck_server::auth::credentials;
use postcheck_server::crypto::{KeyOrigin, KeySource, MasterKey};
use postcheck_server::domain::{ClusterId, ProjectId};
use postcheck_server::endpoint_policy::{AllowRule, EndpointPolicy};
use postcheck_server::registry::{self, ClusterRegistration, RegistrationPolicy};
use postcheck_server::tenant_kubeconfig::KubeconfigPolicy;
use postcheck_store::Store;

/// Where the service keeps its data: shared by `serve` and the admin commands.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct DatabaseArgs {
    /// `sqlite:PATH` or `postgres://...` (default: SQLite under the XDG data folder).
    #[arg(long, env = "POSTCHECK_DATABASE_URL")]
    database_url: Option<String>,
    /// The encryption key file (generated when missing); `POSTCHECK_KEY` (base64 or hex of
    /// 32 bytes) wins over it. Default: `encryption.key` beside the default database.
    #[arg(long, env = "POSTCHECK_KEY_FILE")]
    key_file: Option<PathBuf>,
}

impl DatabaseArgs {
    /// The database URL to open.
    pub(crate) fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(postcheck_server::config::default_database_url)
    }

    /// Where the key comes from.
    pub(crate) fn key_source(&self) -> KeySource {
        postcheck_server::config::key_source(
            std::env::var("POSTCHECK_KEY").ok(),
            self.key_file.clone(),
        )
    }

    async fn open(&self) -> anyhow::Result<(Arc<dyn Store>, MasterKey)> {
        let url = self.database_url();
        let store = postcheck_store::open_for_command(&url)
            .await
            .with_context(|| format!("opening {}", postcheck_store::redact_url(&url)))?;
        let (key, origin) =
            MasterKey::load(&self.key_source()).context("loading the encryption key")?;
        if let KeyOrigin::GeneratedAt(path) = origin {
            eprintln!(
                "note: generated a new encryption key at {}; `postcheck serve` must use the same key",
                path.display()
            );
        }
        Ok((store, key))
    }
}

/// The endpoint policy's exceptions: shared by `serve` and `cluster add`.
#[derive(Debug, Clone, clap::Args)]
pub(crate) struct EndpointArgs {
    /// Allow API servers in this range or at this host name although the default policy
    /// refuses it (loopback, link-local, cloud metadata). Repeatable; the variable takes a
    /// comma-separated list.
    #[arg(
        long = "allow-endpoint",
        env = "POSTCHECK_ALLOW_ENDPOINT",
        value_name = "CIDR|HOST",
        value_delimiter = ','
    )]
    allow_endpoint: Vec<AllowRule>,
}

impl EndpointArgs {
    /// The rules given.
    pub(crate) fn rules(&self) -> Vec<AllowRule> {
        self.allow_endpoint.clone()
    }
}

/// `postcheck cluster ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum ClusterCommand {
    /// Register a cluster a project may check, from a kubeconfig.
    Add {
        /// The project (32 lowercase hex characters).
        #[arg(long)]
        project: String,
        /// The cluster ID (a UUID); one is made when absent.
        #[arg(long = "cluster-id")]
        cluster_id: Option<String>,
        /// The kubeconfig file; stored encrypted.
        #[arg(long)]
        kubeconfig: PathBuf,
        /// The kubeconfig context (default: its current context).
        #[arg(long)]
        context: Option<String>,
        /// A display name (default: the context's name).
        #[arg(long)]
        name: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
        #[command(flatten)]
        endpoints: EndpointArgs,
        /// DANGEROUS: keep an exec plugin of the kubeconfig (the service runs it only when
        /// it too is started with --dangerously-allow-exec-plugins).
        #[arg(long)]
        dangerously_allow_exec_plugins: bool,
    },
    /// List registered clusters (all projects', or one's).
    List {
        /// Only this project's clusters.
        #[arg(long)]
        project: Option<String>,
        #[command(flatten)]
        database: DatabaseArgs,
    },
    /// Remove a registered cluster.
    Remove {
        /// The project.
        #[arg(long)]
        project: String,
        /// The cluster ID.
        #[arg(long = "cluster-id")]
        cluster_id: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `postcheck token ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum TokenCommand {
    /// Create an API token (X-Auth-Token) for a project; printed once.
    Create {
        /// The project.
        #[arg(long)]
        project: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

/// `postcheck access-key ...`
#[derive(Debug, clap::Subcommand)]
pub(crate) enum AccessKeyCommand {
    /// Create an AK/SK pair for a project; the SK is printed once.
    Create {
        /// The project.
        #[arg(long)]
        project: String,
        /// `text` (two lines, `AK ...` and `SK ...`) or `json`.
        #[arg(long, short = 'o', default_value = "text")]
        output: String,
        #[command(flatten)]
        database: DatabaseArgs,
    },
}

fn project(text: &str) -> anyhow::Result<ProjectId> {
    ProjectId::parse(text).map_err(Into::into)
}

/// Runs a `cluster` subcommand.
pub(crate) async fn cluster(cmd: ClusterCommand) -> anyhow::Result<ExitCode> {
    match cmd {
        ClusterCommand::Add {
            project: p,
            cluster_id,
            kubeconfig,
            context,
            name,
            database,
            endpoints,
            dangerously_allow_exec_plugins,
        } => {
            let project = project(&p)?;
            if let Some(id) = &cluster_id {
                ClusterId::parse(id)?;
            }
            let text = std::fs::read_to_string(&kubeconfig)
                .with_context(|| format!("reading {}", kubeconfig.display()))?;
            let (store, key) = database.open().await?;
            let registration = ClusterRegistration {
                cluster_id,
                name,
                kubeconfig: Some(text),
                context,
                ..Default::default()
            };
            // The same rules as the API: what the service would refuse is refused here.
            let policy = RegistrationPolicy {
                kubeconfigs: KubeconfigPolicy { allow_exec: dangerously_allow_exec_plugins },
                endpoints: Arc::new(EndpointPolicy::new(endpoints.rules())),
                max_clusters_per_project: u32::MAX,
            };
            let cluster = registry::register(store.as_ref(), &key, &policy, &project, registration)
                .await
                .context("registering the cluster")?;
            println!("{}", cluster.cluster_id);
            eprintln!(
                "registered cluster {} ({}) at {} for project {}",
                cluster.cluster_id, cluster.name, cluster.endpoint, cluster.project_id
            );
        }
        ClusterCommand::List { project: p, database } => {
            let only = p.as_deref().map(project).transpose()?;
            let (store, _) = database.open().await?;
            let clusters = store.list_clusters(only.as_ref().map(ProjectId::as_str)).await?;
            println!("{:<32}  {:<36}  {:<20}  ENDPOINT", "PROJECT", "CLUSTER", "NAME");
            for c in clusters {
                println!(
                    "{:<32}  {:<36}  {:<20}  {}",
                    c.project_id, c.cluster_id, c.name, c.endpoint
                );
            }
        }
        ClusterCommand::Remove { project: p, cluster_id, database } => {
            let project = project(&p)?;
            let cluster = ClusterId::parse(&cluster_id)?;
            let (store, _) = database.open().await?;
            if !store.delete_cluster(project.as_str(), cluster.as_str()).await? {
                bail!("project {project} has no cluster {cluster}");
            }
            eprintln!("removed cluster {cluster} of project {project}");
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Runs a `token` subcommand.
pub(crate) async fn token(cmd: TokenCommand) -> anyhow::Result<ExitCode> {
    let TokenCommand::Create { project: p, database } = cmd;
    let project = project(&p)?;
    let (store, _) = database.open().await?;
    let token = credentials::create_token(store.as_ref(), &project).await?;
    println!("{token}");
    eprintln!("token for project {project}: send it as X-Auth-Token; it is not shown again");
    Ok(ExitCode::SUCCESS)
}

/// Runs an `access-key` subcommand.
pub(crate) async fn access_key(cmd: AccessKeyCommand) -> anyhow::Result<ExitCode> {
    let AccessKeyCommand::Create { project: p, output, database } = cmd;
    let project = project(&p)?;
    if output != "text" && output != "json" {
        bail!("--output must be text or json, not {output:?}");
    }
    let (store, key) = database.open().await?;
    let pair = credentials::create_access_key(store.as_ref(), &key, &project).await?;
    if output == "json" {
        let doc = serde_json::json!({"projectId": project.as_str(), "accessKey": pair.access_key, "secretKey": pair.secret_key});
        println!("{doc}");
    } else {
        println!("AK {}", pair.access_key);
        println!("SK {}", pair.secret_key);
    }
    eprintln!("access key for project {project}: the SK is not shown again");
    Ok(ExitCode::SUCCESS)
}
