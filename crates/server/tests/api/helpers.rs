//! Spawning the service and talking to it: the fixtures every API test shares.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use postcheck_server::auth::{credentials, signer};
use postcheck_server::crypto::{KeySource, MasterKey};
use postcheck_server::domain::ProjectId;
use postcheck_server::{Application, ServerConfig};
use postcheck_store::Store;
use reqwest::header::{HeaderMap, HeaderValue};
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio::sync::oneshot;

/// The seed's project (any 32-hex project works).
pub(crate) const PROJECT: &str = "e9993fc787d94b6c886cbaa340f9c0f4";
/// Another tenant.
pub(crate) const OTHER_PROJECT: &str = "0123456789abcdef0123456789abcdef";
/// The seed's cluster.
pub(crate) const CLUSTER: &str = "8978deaa-1743-11ee-8e46-0255ac10004c";
/// The test key, as POSTCHECK_KEY would carry it (hex of 32 bytes).
pub(crate) const KEY_HEX: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";

/// The seed's example request.
pub(crate) fn seed_request() -> Value {
    json!({
        "kind": "PostCheckTask",
        "apiVersion": "v3",
        "spec": {"clusterID": CLUSTER, "clusterVersion": "v1.15.11-r1", "targetVersion": "v1.19.16-r80"}
    })
}

/// A pre-check request as the SDK sends it, from the test cluster's version to the next.
pub(crate) fn precheck_request() -> Value {
    json!({
        "kind": "PreCheckTask",
        "apiVersion": "v3",
        "spec": {"clusterID": CLUSTER, "clusterVersion": "v1.36", "targetVersion": "v1.37"}
    })
}

/// `path` (an `/api/v3/...` path) under CCE Autopilot's prefix instead.
pub(crate) fn autopilot(path: &str) -> String {
    let rest = path.strip_prefix("/api/v3").expect("an /api/v3 path");
    format!("/autopilot/v3{rest}")
}

/// A running service and what a test needs to talk to it.
pub(crate) struct TestApp {
    /// `http://127.0.0.1:PORT`.
    pub(crate) base: String,
    /// `127.0.0.1:PORT`.
    pub(crate) addr: std::net::SocketAddr,
    /// The same database, opened by the test.
    pub(crate) store: Arc<dyn Store>,
    /// The service's master key.
    pub(crate) key: MasterKey,
    /// A token of [`PROJECT`].
    pub(crate) token: String,
    /// An HTTP client.
    pub(crate) http: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    served: Option<tokio::task::JoinHandle<()>>,
    _dir: Option<tempfile::TempDir>,
}

/// Spawns a service on SQLite in a fresh temporary folder.
pub(crate) async fn spawn_app() -> TestApp {
    spawn_app_with(|_| {}).await
}

/// Spawns a service on SQLite, with the configuration adjusted by `adjust`.
pub(crate) async fn spawn_app_with(adjust: impl FnOnce(&mut ServerConfig)) -> TestApp {
    let dir = tempfile::tempdir().expect("a temporary folder");
    let url = format!("sqlite:{}", dir.path().join("postcheck.db").display());
    let mut app = spawn_on(&url, adjust).await;
    app._dir = Some(dir);
    app
}

/// Spawns a service on the given database. The test clusters all live on loopback, so
/// the endpoint policy allows it (a test of the policy clears `allow_endpoints`).
pub(crate) async fn spawn_on(
    database_url: &str,
    adjust: impl FnOnce(&mut ServerConfig),
) -> TestApp {
    let mut config = ServerConfig::new(database_url, KeySource::Inline(KEY_HEX.into()));
    config.listen = "127.0.0.1:0".parse().unwrap();
    config.allow_endpoints = vec!["127.0.0.0/8".parse().unwrap()];
    config.check_deadline = Duration::from_secs(5);
    config.grace_period = Duration::from_secs(2);
    config.lease_ttl = Duration::from_secs(3);
    adjust(&mut config);
    let app = Application::build(config).await.expect("the service starts");
    let addr = app.local_addr();
    let base = format!("http://{addr}");
    let (stop, stopped) = oneshot::channel::<()>();
    let served = tokio::spawn(async move {
        app.run_until(async move {
            let _ = stopped.await;
        })
        .await
        .expect("the service serves");
    });
    let store = postcheck_store::open(database_url).await.expect("the test opens the database");
    let (key, _) = MasterKey::load(&KeySource::Inline(KEY_HEX.into())).unwrap();
    let token = credentials::create_token(store.as_ref(), &ProjectId::parse(PROJECT).unwrap())
        .await
        .unwrap();
    TestApp {
        base,
        addr,
        store,
        key,
        token,
        http: reqwest::Client::builder().timeout(Duration::from_secs(60)).build().unwrap(),
        stop: Some(stop),
        served: Some(served),
        _dir: None,
    }
}

impl TestApp {
    /// The URL of a path.
    pub(crate) fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// `.../clusters/{cluster}/operation/postcheck` of a project.
    pub(crate) fn postcheck_path(project: &str, cluster: &str) -> String {
        format!("/api/v3/projects/{project}/clusters/{cluster}/operation/postcheck")
    }

    /// `.../clusters/{cluster}/operation/precheck` of a project.
    pub(crate) fn precheck_path(project: &str, cluster: &str) -> String {
        format!("/api/v3/projects/{project}/clusters/{cluster}/operation/precheck")
    }

    /// Registers `cluster` of [`PROJECT`] as the real test control plane `real`
    /// (endpoint, CA and admin token).
    pub(crate) async fn register_real(&self, cluster: &str, real: &postcheck_testenv::TestCluster) {
        let body = json!({
            "clusterID": cluster,
            "name": "testcluster",
            "endpoint": real.server_url(),
            "caPem": real.ca_pem(),
            "token": real.admin_token(),
        });
        let response = self.post_json(&format!("/api/v3/projects/{PROJECT}/clusters"), &body).await;
        assert_eq!(response.status(), 201, "registering: {}", response.text().await.unwrap());
    }

    /// POSTs a JSON value with this app's token.
    pub(crate) async fn post_json(&self, path: &str, body: &Value) -> reqwest::Response {
        self.post_raw(path, "application/json", body.to_string().into_bytes(), &[]).await
    }

    /// POSTs raw bytes with a content type and extra headers, with this app's token.
    pub(crate) async fn post_raw(
        &self,
        path: &str,
        content_type: &str,
        body: Vec<u8>,
        extra: &[(&str, &str)],
    ) -> reqwest::Response {
        let mut request = self
            .http
            .post(self.url(path))
            .header("X-Auth-Token", &self.token)
            .header("Content-Type", content_type)
            .body(body);
        for (k, v) in extra {
            request = request.header(*k, *v);
        }
        request.send().await.expect("the service answers")
    }

    /// GETs a path with this app's token.
    pub(crate) async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(self.url(path))
            .header("X-Auth-Token", &self.token)
            .send()
            .await
            .expect("the service answers")
    }

    /// Runs a synchronous post-check of a cluster of [`PROJECT`]; the task it answers.
    pub(crate) async fn check_now(&self, cluster: &str) -> Value {
        let mut request = seed_request();
        request["spec"]["clusterID"] = json!(cluster);
        self.post_json(&Self::postcheck_path(PROJECT, cluster), &request)
            .await
            .json()
            .await
            .expect("a task")
    }

    /// Starts an asynchronous post-check of a cluster of [`PROJECT`].
    pub(crate) async fn check_async(&self, cluster: &str) -> reqwest::Response {
        let body = seed_request().to_string().into_bytes();
        let path = Self::postcheck_path(PROJECT, cluster);
        self.post_raw(&path, "application/json", body, &[("Prefer", "respond-async")]).await
    }

    /// A token of another project.
    pub(crate) async fn token_of(&self, project: &str) -> String {
        credentials::create_token(self.store.as_ref(), &ProjectId::parse(project).unwrap())
            .await
            .unwrap()
    }

    /// Registers a cluster of [`PROJECT`] reached with `endpoint` and a bearer token.
    pub(crate) async fn register_endpoint(&self, cluster: &str, endpoint: &str) {
        let body = json!({"clusterID": cluster, "name": "test", "endpoint": endpoint, "token": "bearer-secret-value"});
        let response = self.post_json(&format!("/api/v3/projects/{PROJECT}/clusters"), &body).await;
        assert_eq!(response.status(), 201, "registering: {}", response.text().await.unwrap());
    }

    /// Sends SIGTERM's equivalent and waits for the service to drain and stop.
    pub(crate) async fn stop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(served) = self.served.take() {
            tokio::time::timeout(Duration::from_secs(30), served)
                .await
                .expect("the service stops in time")
                .expect("the service stops cleanly");
        }
    }
}

/// Asserts a CCE error answer: status, code in both spellings, and a request ID.
pub(crate) async fn assert_cce_error(
    response: reqwest::Response,
    status: u16,
    code: &str,
) -> Value {
    assert_eq!(response.status().as_u16(), status, "unexpected status");
    assert!(response.headers().contains_key("x-request-id"), "every answer carries X-Request-Id");
    let body: Value = response.json().await.expect("a JSON error body");
    assert_eq!(body["errorCode"], code, "{body}");
    assert_eq!(body["error_code"], code, "{body}");
    assert!(body["errorMessage"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    body
}

/// An address where nothing listens: checks against it fail at once.
pub(crate) async fn refused_endpoint() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    format!("https://127.0.0.1:{port}")
}

/// An address that accepts connections and never answers: checks against it hang until
/// their deadline. Lives as long as the returned guard.
pub(crate) async fn black_hole_endpoint() -> (String, tokio::task::JoinHandle<()>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let guard = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    (format!("https://127.0.0.1:{port}"), guard)
}

/// Polls a task (post or pre) until it leaves `Init` and `Running`.
pub(crate) async fn wait_for_final(app: &TestApp, path: &str, within: Duration) -> Value {
    let until = tokio::time::Instant::now() + within;
    loop {
        let task: Value = app.get(path).await.json().await.unwrap();
        if task["status"]["phase"] != "Running" && task["status"]["phase"] != "Init" {
            return task;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "the task is still Running after {within:?}: {task}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Signs a request as the Huawei Cloud SDKs do, returning its headers.
pub(crate) fn sdk_signed_headers(
    ak: &str,
    sk: &str,
    method: &str,
    url: &str,
    body: &[u8],
) -> HeaderMap {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = format!("{}:{}", parsed.host_str().unwrap(), parsed.port().unwrap());
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", HeaderValue::from_static("application/json"));
    headers.insert("host", HeaderValue::from_str(&host).unwrap());
    headers.insert("user-agent", HeaderValue::from_static("huaweicloud-usdk-python/3.0"));
    headers.insert("x-project-id", HeaderValue::from_static(PROJECT));
    headers
        .insert("x-sdk-date", HeaderValue::from_str(&signer::format_sdk_date(Utc::now())).unwrap());
    let parts = signer::RequestParts {
        method,
        path: parsed.path(),
        query: parsed.query(),
        headers: &headers,
        body,
    };
    let auth = signer::sign(
        ak,
        sk,
        &parts,
        &["content-type", "host", "user-agent", "x-project-id", "x-sdk-date"],
    )
    .unwrap();
    headers.insert("authorization", HeaderValue::from_str(&auth).unwrap());
    headers
}

/// A real test control plane (kube-apiserver 1.36) with `nodes` kwok nodes; panics, loudly,
/// when it cannot start.
pub(crate) async fn control_plane(nodes: usize) -> postcheck_testenv::TestCluster {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let options = postcheck_testenv::UpOptions { version: "1.36".into(), nodes, state_dir: None };
    postcheck_testenv::TestCluster::up(options).await.unwrap_or_else(|e| {
        panic!(
            "the test control plane did not start (scripts/k8s-binaries builds its binaries): {e}"
        )
    })
}
