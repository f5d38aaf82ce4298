//! The backends the suite runs on, and builders of the records it stores.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SubsecRound, Utc};
use postcheck_model::{
    PostCheckSpec, PrecheckPhase, PrecheckSpec, PrecheckStatus, TaskPhase, TaskStatus,
};
use postcheck_store::{
    PgStore, SqliteStore, Store, StoredBaseline, StoredCluster, StoredPrecheck, StoredTask,
};
use sqlx::Connection;

/// The variable naming a PostgreSQL server (a superuser URL) for the PostgreSQL tests.
pub(crate) const POSTGRES_URL_VAR: &str = "POSTCHECK_TEST_POSTGRES_URL";

/// A store under test, and what to clean up after it.
pub(crate) struct Backend {
    store: Arc<dyn Store>,
    cleanup: Cleanup,
}

enum Cleanup {
    /// The temporary folder of the SQLite file.
    Sqlite(SqliteStore, tempfile::TempDir),
    /// The throwaway database.
    Postgres(PgStore, TestDatabase),
}

impl Backend {
    /// The store.
    pub(crate) fn store(&self) -> Arc<dyn Store> {
        self.store.clone()
    }

    /// Closes the store and removes its database.
    pub(crate) async fn finish(self) {
        drop(self.store);
        match self.cleanup {
            Cleanup::Sqlite(store, dir) => {
                store.close().await;
                drop(dir);
            }
            Cleanup::Postgres(store, db) => {
                store.close().await;
                db.drop_database().await;
            }
        }
    }
}

/// A SQLite store in a fresh temporary folder (in a subfolder that does not exist yet).
pub(crate) async fn sqlite() -> Backend {
    let dir = tempfile::tempdir().expect("creating a temporary folder");
    let path = dir.path().join("data").join("postcheck.db");
    let store = SqliteStore::open(path.to_str().unwrap()).await.expect("opening a SQLite store");
    Backend { store: Arc::new(store.clone()), cleanup: Cleanup::Sqlite(store, dir) }
}

/// A PostgreSQL store on a fresh database.
pub(crate) async fn postgres() -> Backend {
    let db = TestDatabase::create().await;
    let store = PgStore::connect(&db.url).await.expect("connecting to the test database");
    Backend { store: Arc::new(store.clone()), cleanup: Cleanup::Postgres(store, db) }
}

/// A throwaway database `store_test_<random>` on the server `POSTCHECK_TEST_POSTGRES_URL`
/// names, so that tests run in parallel without seeing each other.
pub(crate) struct TestDatabase {
    /// The URL of the test database.
    pub(crate) url: String,
    admin_url: String,
    name: String,
}

impl TestDatabase {
    /// Creates the database; panics, saying why, when there is no server to create it on.
    pub(crate) async fn create() -> Self {
        let admin_url = std::env::var(POSTGRES_URL_VAR).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL_VAR} is not set: the PostgreSQL store tests need a server \
                 (start one with `scripts/pg-test-server start` and export the URL it prints)"
            )
        });
        let name = format!("store_test_{}", uuid::Uuid::new_v4().simple());
        let mut admin = admin_connection(&admin_url).await;
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("creating the test database {name}: {e}"));
        admin.close().await.ok();
        Self { url: with_database(&admin_url, &name), admin_url, name }
    }

    /// Drops the database (its connections must be closed).
    pub(crate) async fn drop_database(self) {
        let mut admin = admin_connection(&self.admin_url).await;
        sqlx::query(&format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name))
            .execute(&mut admin)
            .await
            .unwrap_or_else(|e| panic!("dropping the test database {}: {e}", self.name));
        admin.close().await.ok();
    }
}

/// A superuser connection; panics, saying why, when the server cannot be reached.
async fn admin_connection(admin_url: &str) -> sqlx::PgConnection {
    let shown = postcheck_store::redact_url(admin_url);
    match tokio::time::timeout(Duration::from_secs(10), sqlx::PgConnection::connect(admin_url))
        .await
    {
        Ok(Ok(conn)) => conn,
        Ok(Err(e)) => panic!(
            "cannot reach the PostgreSQL server {shown} ({POSTGRES_URL_VAR}): {e}; \
             is it running? (`scripts/pg-test-server start`)"
        ),
        Err(_) => {
            panic!("connecting to the PostgreSQL server {shown} ({POSTGRES_URL_VAR}) timed out")
        }
    }
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_start = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_start..].find('/').map_or(base.len(), |i| authority_start + i);
    let mut out = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        out.push('?');
        out.push_str(query);
    }
    out
}

/// Now, to the microsecond the stores keep.
pub(crate) fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(6)
}

/// The replica that runs tasks in these scenarios.
pub(crate) const OWNER: &str = "replica-a";

/// A task of `project` checking `cluster`, `Running` on [`OWNER`] with a lease of a minute.
pub(crate) fn running_task(
    project: &str,
    cluster: &str,
    uid: &str,
    created_at: DateTime<Utc>,
) -> StoredTask {
    StoredTask {
        uid: uid.to_owned(),
        project_id: project.to_owned(),
        cluster_id: cluster.to_owned(),
        spec: PostCheckSpec {
            cluster_id: Some(cluster.to_owned()),
            cluster_version: Some("v1.36.3".to_owned()),
            target_version: Some("v1.37.2".to_owned()),
            ..Default::default()
        },
        status: TaskStatus {
            started_at: Some(created_at),
            ..TaskStatus::bare(TaskPhase::Running, "checking")
        },
        created_at,
        updated_at: created_at,
        owner: OWNER.to_owned(),
        lease_expires_at: created_at + chrono::Duration::seconds(60),
    }
}

/// A pre-check task of `project` checking `cluster`, `Init` on [`OWNER`] with a lease of a
/// minute.
pub(crate) fn accepted_precheck(
    project: &str,
    cluster: &str,
    uid: &str,
    created_at: DateTime<Utc>,
) -> StoredPrecheck {
    StoredPrecheck {
        uid: uid.to_owned(),
        project_id: project.to_owned(),
        cluster_id: cluster.to_owned(),
        spec: PrecheckSpec {
            cluster_id: Some(cluster.to_owned()),
            cluster_version: Some("v1.36.3".to_owned()),
            target_version: Some("v1.37".to_owned()),
            skipped_check_item_list: vec![postcheck_model::SkippedCheckItem {
                name: "node-ready".to_owned(),
                resource_selector: None,
            }],
        },
        status: PrecheckStatus {
            started_at: Some(created_at),
            ..PrecheckStatus::bare(PrecheckPhase::Init, "accepted")
        },
        created_at,
        updated_at: created_at,
        owner: OWNER.to_owned(),
        lease_expires_at: created_at + chrono::Duration::seconds(60),
    }
}

/// A baseline with this Snapshot JSON, taken a minute ago, recorded by `precheck_task`.
pub(crate) fn baseline(snapshot_json: &[u8], precheck_task: Option<&str>) -> StoredBaseline {
    StoredBaseline {
        snapshot_json: snapshot_json.to_vec(),
        taken_at: now() - chrono::Duration::minutes(1),
        precheck_task: precheck_task.map(str::to_owned),
    }
}

/// A registered cluster of `project`.
pub(crate) fn cluster(project: &str, cluster_id: &str, created_at: DateTime<Utc>) -> StoredCluster {
    StoredCluster {
        project_id: project.to_owned(),
        cluster_id: cluster_id.to_owned(),
        name: format!("cluster {cluster_id}"),
        endpoint: format!("https://{cluster_id}.example:6443"),
        encrypted_credentials: vec![0, 1, 2, 254, 255],
        created_at,
    }
}

#[test]
fn the_test_database_url_keeps_the_server_and_its_options() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1"),
        "postgres://postgres@127.0.0.1:5432/t1"
    );
    assert_eq!(with_database("postgres://u@h:1", "t1"), "postgres://u@h:1/t1");
    assert_eq!(
        with_database("postgres://u@h/db?sslmode=disable", "t1"),
        "postgres://u@h/t1?sslmode=disable"
    );
}
