//! The floor plan: the requests a gathering pass makes, recorded from a real pass, so that
//! the benchmark's floor (`bench/floor.sh`, curl replaying them) cannot drift from the
//! engine.
//!
//! [`record`] runs a pass through a client that notes every request it sends before passing
//! it on: first pages only (the floor follows continue tokens itself), discovery included.
//! Requests are grouped in *chains*: what the engine does one after the other. A list's
//! pages are one chain, named after its source and resource (`workloads:deployments`); a
//! source that reads several things in sequence runs them [`in_chain`], under one name
//! (`health`, `removed`). Everything else runs concurrently, each list its own chain.
//! It also counts every request sent, further pages included ([`Sent`]), so the benchmark
//! can check that the floor sent exactly as many.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll};

use futures::future::{BoxFuture, Either};
use kube::client::Body;

tokio::task_local! {
    static CHAIN: String;
}

/// Runs `future` as one chain called `name`: its requests are sent one after the other.
pub(crate) fn in_chain<F: Future>(
    name: &str,
    future: F,
) -> impl Future<Output = F::Output> + use<F> {
    CHAIN.scope(name.to_owned(), future)
}

/// Runs the list of `source` at `path` as its own chain (`source:resource`), unless it is a
/// step of a chain already.
pub(crate) fn list_chain<F: Future>(
    source: &str,
    path: &str,
    future: F,
) -> impl Future<Output = F::Output> {
    let name =
        CHAIN.try_with(Clone::clone).unwrap_or_else(|_| format!("{source}:{}", resource_of(path)));
    CHAIN.scope(name, future)
}

/// `future` in the chain of the code that creates it (for work spawned on its own task).
pub(crate) fn same_chain<F: Future>(future: F) -> impl Future<Output = F::Output> {
    match CHAIN.try_with(Clone::clone) {
        Ok(name) => Either::Left(CHAIN.scope(name, future)),
        Err(_) => Either::Right(future),
    }
}

/// The last segment of a path (`deployments` of `/apis/apps/v1/deployments`).
fn resource_of(path: &str) -> &str {
    let path = path.split('?').next().unwrap_or(path);
    path.rsplit('/').find(|s| !s.is_empty()).unwrap_or("root")
}

/// How one request of the plan is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verb {
    /// One request.
    Get,
    /// A paged JSON list.
    List,
    /// A paged metadata-only list (`PartialObjectMetadataList`).
    MetadataList,
}

impl Verb {
    /// `GET`, `LIST` or `MLIST`, as `bench/floor.sh` reads them.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Get => "GET",
            Self::List => "LIST",
            Self::MetadataList => "MLIST",
        }
    }
}

/// One request of the plan.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Step {
    /// The chain it belongs to.
    pub chain: String,
    /// How it is sent.
    pub verb: Verb,
    /// The path and query, without `limit` and `continue`.
    pub path: String,
    /// Items per page (0 for a `GET`).
    pub page_size: u32,
}

impl Step {
    /// `CHAIN <tab> VERB <tab> PATH <tab> PAGE_SIZE`, a line of `bench/floor.sh`'s plan.
    pub fn line(&self) -> String {
        format!("{}\t{}\t{}\t{}", self.chain, self.verb.as_str(), self.path, self.page_size)
    }

    /// `VERB PATH` of any request, further pages included (the path without its query):
    /// the key of [`Sent`].
    fn sent_key(request: &http::Request<Body>) -> String {
        let paged = request.uri().query().unwrap_or("").split('&').any(|p| p.starts_with("limit="));
        let accept = request.headers().get(http::header::ACCEPT).and_then(|a| a.to_str().ok());
        let verb = match (paged, accept) {
            (false, _) => Verb::Get,
            (true, Some(a)) if a.contains("PartialObjectMetadataList") => Verb::MetadataList,
            (true, _) => Verb::List,
        };
        format!("{} {}", verb.as_str(), request.uri().path())
    }

    /// The step a request is, or `None` for a further page of a list.
    fn of(request: &http::Request<Body>) -> Option<Self> {
        let uri = request.uri();
        let mut page_size = None;
        let mut kept = Vec::new();
        for pair in uri.query().unwrap_or("").split('&').filter(|p| !p.is_empty()) {
            match pair.split_once('=').map_or(pair, |(k, _)| k) {
                "continue" => return None,
                "limit" => page_size = pair.split_once('=').and_then(|(_, v)| v.parse().ok()),
                _ => kept.push(pair),
            }
        }
        let path = if kept.is_empty() {
            uri.path().to_owned()
        } else {
            format!("{}?{}", uri.path(), kept.join("&"))
        };
        let accept = request.headers().get(http::header::ACCEPT).and_then(|a| a.to_str().ok());
        let verb = match (page_size, accept) {
            (None, _) => Verb::Get,
            (Some(_), Some(a)) if a.contains("PartialObjectMetadataList") => Verb::MetadataList,
            (Some(_), _) => Verb::List,
        };
        let chain =
            CHAIN.try_with(Clone::clone).unwrap_or_else(|_| resource_of(uri.path()).to_owned());
        Some(Self { chain, verb, path, page_size: page_size.unwrap_or(0) })
    }
}

/// A client that notes each request it sends, then sends it through `inner`.
#[derive(Clone)]
struct Recorder {
    inner: kube::Client,
    steps: Arc<Mutex<Vec<Step>>>,
    sent: Arc<Mutex<Sent>>,
}

/// How many requests a pass sent, by `VERB PATH` (every page of a list counted).
pub type Sent = BTreeMap<String, u64>;

impl tower::Service<http::Request<Body>> for Recorder {
    type Response = http::Response<Body>;
    type Error = kube::Error;
    type Future = BoxFuture<'static, Result<Self::Response, Self::Error>>;

    fn poll_ready(&mut self, _cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        Poll::Ready(Ok(()))
    }

    fn call(&mut self, request: http::Request<Body>) -> Self::Future {
        let (inner, steps, sent) = (self.inner.clone(), self.steps.clone(), self.sent.clone());
        // Noted when first polled, which is in the task (and so the chain) that sends it.
        Box::pin(async move {
            if let (Some(step), Ok(mut steps)) = (Step::of(&request), steps.lock()) {
                steps.push(step);
            }
            if let Ok(mut sent) = sent.lock() {
                *sent.entry(Step::sent_key(&request)).or_default() += 1;
            }
            inner.send(request).await
        })
    }
}

/// Runs `pass` with a client that records its requests; the plan, sorted by chain (each
/// chain's steps in the order they were sent), the count of every request sent, and what
/// the pass returned.
pub(crate) async fn record<T, F, Fut>(client: &kube::Client, pass: F) -> (Vec<Step>, Sent, T)
where
    F: FnOnce(kube::Client) -> Fut,
    Fut: Future<Output = T>,
{
    let steps = Arc::new(Mutex::new(Vec::new()));
    let sent = Arc::new(Mutex::new(Sent::new()));
    let recorder = Recorder { inner: client.clone(), steps: steps.clone(), sent: sent.clone() };
    let recording = kube::Client::new(recorder, client.default_namespace());
    let out = pass(recording).await;
    let mut plan = steps.lock().map(|s| s.clone()).unwrap_or_default();
    plan.sort_by(|a, b| a.chain.cmp(&b.chain)); // stable: a chain keeps its order
    let sent = sent.lock().map(|s| s.clone()).unwrap_or_default();
    (plan, sent, out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(uri: &str, accept: &str) -> http::Request<Body> {
        http::Request::get(uri).header(http::header::ACCEPT, accept).body(Body::empty()).unwrap()
    }

    #[test]
    fn a_first_page_is_a_step_and_a_further_page_is_not() {
        let first = Step::of(&request(
            "/api/v1/events?fieldSelector=type%3DWarning&limit=500",
            "application/json",
        ))
        .unwrap();
        assert_eq!(first.line(), "events\tLIST\t/api/v1/events?fieldSelector=type%3DWarning\t500");
        assert_eq!(
            Step::of(&request("/api/v1/events?limit=500&continue=abc", "application/json")),
            None
        );
        let meta = Step::of(&request(
            "/apis/apps/v1/replicasets?limit=500",
            "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1,application/json",
        ))
        .unwrap();
        assert_eq!(meta.verb, Verb::MetadataList);
        let get = Step::of(&request("/version", "application/json")).unwrap();
        assert_eq!(get.line(), "version\tGET\t/version\t0");
    }

    #[test]
    fn every_page_counts_as_a_request_sent_under_its_verb_and_path() {
        let key = |uri, accept| Step::sent_key(&request(uri, accept));
        assert_eq!(
            key("/api/v1/pods?limit=500&continue=abc", "application/json"),
            "LIST /api/v1/pods"
        );
        assert_eq!(key("/api/v1/pods?limit=500", "application/json"), "LIST /api/v1/pods");
        assert_eq!(
            key(
                "/apis/apps/v1/replicasets?limit=500&continue=x",
                "application/json;as=PartialObjectMetadataList;g=meta.k8s.io;v=v1"
            ),
            "MLIST /apis/apps/v1/replicasets"
        );
        assert_eq!(key("/version", "application/json"), "GET /version");
    }

    #[tokio::test]
    async fn a_chain_names_the_requests_sent_inside_it_and_what_it_spawns() {
        let own = list_chain("workloads", "/apis/apps/v1/deployments", async {
            Step::of(&request("/apis/apps/v1/deployments?limit=500", "application/json"))
        })
        .await;
        assert_eq!(own.unwrap().chain, "workloads:deployments");
        let inside = in_chain("removed", async {
            let spawned = tokio::spawn(same_chain(async {
                Step::of(&request("/apis/apps/v1/deployments?limit=500", "application/json"))
            }));
            spawned.await.unwrap()
        })
        .await;
        assert_eq!(inside.unwrap().chain, "removed");
    }
}
