//! Paged lists decoded straight into [`super::api`]'s views, the next page fetched while
//! this one is decoded.
//!
//! kube-rs's `Api::list` decodes every page into k8s-openapi's full types. The gatherer
//! sends the same requests through the same client (auth, TLS, timeouts) but decodes each
//! page's body into the few fields its checks read, then drops the body before asking for
//! the next page: memory follows the objects kept, not the pages read, and the CPU that
//! decoding would take stays with the API server on a small machine.

use bytes::Bytes;
use http_body_util::BodyExt as _;
use kube::api::ListParams;
use kube::core::{ApiResource, DynamicObject, Request, Resource};
use serde::de::DeserializeOwned;

use super::api::{ListMeta, ListPage};
use super::{GatherEvent, Pass, plan};
use crate::snapshot::Source;

/// Items per list page.
pub(super) const PAGE_SIZE: u32 = 500;
/// How many times a list restarts when its continue token expires (410 Gone).
const MAX_LIST_RESTARTS: u32 = 3;

/// One list to read: where, with which selectors, in pages of what size.
#[derive(Debug, Clone)]
pub(super) struct ListRequest {
    path: String,
    params: ListParams,
    page_size: u32,
    metadata_only: bool,
}

impl ListRequest {
    /// Every object of the built-in kind `K`, in all namespaces.
    pub(super) fn all<K: Resource<DynamicType = ()>>() -> Self {
        Self::at(K::url_path(&(), None))
    }

    /// The objects of the built-in kind `K` in `namespace`.
    pub(super) fn namespaced<K: Resource<DynamicType = ()>>(namespace: &str) -> Self {
        Self::at(K::url_path(&(), Some(namespace)))
    }

    /// Every object of a resource found by discovery, in all namespaces.
    pub(super) fn resource(resource: &ApiResource) -> Self {
        Self::at(DynamicObject::url_path(resource, None))
    }

    fn at(path: String) -> Self {
        Self { path, params: ListParams::default(), page_size: PAGE_SIZE, metadata_only: false }
    }

    /// With these label and field selectors.
    pub(super) fn params(mut self, params: ListParams) -> Self {
        self.params = params;
        self
    }

    /// In pages of `size` items.
    pub(super) fn page_size(mut self, size: u32) -> Self {
        self.page_size = size;
        self
    }

    /// Only the objects' metadata (`PartialObjectMetadataList`).
    pub(super) fn metadata_only(mut self) -> Self {
        self.metadata_only = true;
        self
    }

    fn page(&self, token: Option<&str>) -> Result<http::Request<Vec<u8>>, kube::Error> {
        let mut params = self.params.clone().limit(self.page_size);
        if let Some(t) = token {
            params = params.continue_token(t);
        }
        let request = Request::new(self.path.clone());
        if self.metadata_only { request.list_metadata(&params) } else { request.list(&params) }
            .map_err(kube::Error::BuildRequest)
    }
}

/// Reads every page of `list`, decoding each object as `W` and keeping what `compact`
/// makes of it. An expired continue token (410 Gone: etcd compacted meanwhile) restarts
/// the list from the beginning, a few times at most.
///
/// The next page is asked for as soon as this one's continue token is known, before this
/// one is decoded: the API server prepares page N+1 while page N is decoded, so decoding
/// adds nothing to a long list's time. At most two pages of a list are held at once.
///
/// The list is one chain of the floor plan ([`plan`]), unless it is a step of one already.
pub(super) async fn list_all<W, T>(
    pass: &Pass<'_>,
    list: ListRequest,
    source: Source,
    compact: impl FnMut(W) -> Option<T>,
) -> Result<Vec<T>, kube::Error>
where
    W: DeserializeOwned,
{
    let path = list.path.clone();
    plan::list_chain(source.as_str(), &path, pages(pass, list, source, compact)).await
}

async fn pages<W, T>(
    pass: &Pass<'_>,
    list: ListRequest,
    source: Source,
    mut compact: impl FnMut(W) -> Option<T>,
) -> Result<Vec<T>, kube::Error>
where
    W: DeserializeOwned,
{
    let client = pass.client;
    let mut out = Vec::new();
    let mut token: Option<String> = None;
    let mut restarts = 0;
    let mut pending = Prefetch::start(client, list.page(None)?);
    loop {
        let body = match pending.finish().await {
            Ok(response) => response.into_body(),
            Err(kube::Error::Api(s))
                if s.code == 410 && token.is_some() && restarts < MAX_LIST_RESTARTS =>
            {
                restarts += 1;
                out.clear();
                token = None;
                pending = Prefetch::start(client, list.page(None)?);
                continue;
            }
            Err(e) => return Err(e),
        };
        // Only the list's metadata first (the items are skipped, not built), to ask for the
        // next page before decoding this one.
        let head: ListHead = serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
        token = head.metadata.continue_.filter(|c| !c.is_empty());
        let remaining = head.metadata.remaining_item_count.and_then(|r| usize::try_from(r).ok());
        let next = token
            .as_deref()
            .map(|t| list.page(Some(t)).map(|request| Prefetch::start(client, request)))
            .transpose()?;
        let page: ListPage<W> = serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
        drop(body);
        // The API server says how many items follow: room for them, so the list does not end
        // holding up to twice its length after doubling. Never more than what was received
        // so far: a hostile server's count grows the list no faster than doubling would.
        if let Some(remaining) = remaining {
            let received = out.len() + page.items.len();
            out.reserve_exact((page.items.len() + remaining).min(received));
        }
        out.extend(page.items.into_iter().filter_map(&mut compact));
        pass.progress.event(GatherEvent::Page { source, so_far: out.len() });
        match next {
            Some(next) => pending = next,
            None => return Ok(out),
        }
    }
}

/// A list's metadata, with its items skipped.
#[derive(serde::Deserialize)]
struct ListHead {
    #[serde(default)]
    metadata: ListMeta,
}

/// A page being fetched on its own task (in the floor plan's chain of the list that asked
/// for it); dropping it (the pass's deadline passed, another list failed) aborts the fetch.
struct Prefetch(tokio::task::JoinHandle<Result<http::Response<Bytes>, kube::Error>>);

impl Prefetch {
    fn start(client: &kube::Client, request: http::Request<Vec<u8>>) -> Self {
        let client = client.clone();
        Self(tokio::spawn(plan::same_chain(async move { send(&client, request).await })))
    }

    async fn finish(&mut self) -> Result<http::Response<Bytes>, kube::Error> {
        (&mut self.0).await.map_err(|e| kube::Error::Service(Box::new(e)))?
    }
}

impl Drop for Prefetch {
    fn drop(&mut self) {
        self.0.abort();
    }
}

/// Sends `request` and reads its whole body; an unsuccessful answer becomes kube's
/// [`kube::Error::Api`] with the API server's `Status` (or one made from the text of a
/// body that is not a `Status`).
pub(super) async fn send(
    client: &kube::Client,
    request: http::Request<Vec<u8>>,
) -> Result<http::Response<Bytes>, kube::Error> {
    let response = client.send(request.map(kube::client::Body::from)).await?;
    let (parts, body) = response.into_parts();
    let body = body.collect().await?.to_bytes();
    if parts.status.is_client_error() || parts.status.is_server_error() {
        return Err(kube::Error::Api(Box::new(api_status(parts.status, &body))));
    }
    Ok(http::Response::from_parts(parts, body))
}

/// The `Status` of an unsuccessful answer.
fn api_status(code: http::StatusCode, body: &[u8]) -> kube::core::Status {
    match serde_json::from_slice::<kube::core::Status>(body) {
        Ok(status) if status.code != 0 => status,
        Ok(status) => status.with_code(code.as_u16()),
        Err(_) => {
            let text = String::from_utf8_lossy(body);
            kube::core::Status::failure(text.trim(), code.canonical_reason().unwrap_or(""))
                .with_code(code.as_u16())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_request_carries_the_limit_the_token_and_the_selectors() {
        let list = ListRequest::all::<k8s_openapi::api::core::v1::Event>()
            .params(ListParams::default().fields("type=Warning"));
        let first = list.page(None).unwrap();
        assert_eq!(first.uri().path(), "/api/v1/events");
        let query = first.uri().query().unwrap();
        assert!(
            query.contains("limit=500") && query.contains("fieldSelector=type%3DWarning"),
            "{query}"
        );
        let next = list.clone().page_size(20).page(Some("tok")).unwrap();
        assert!(
            next.uri().query().unwrap().contains("continue=tok")
                && next.uri().query().unwrap().contains("limit=20")
        );
    }

    #[test]
    fn a_metadata_list_asks_for_partial_object_metadata() {
        let resource = ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&());
        let request = ListRequest::resource(&resource).metadata_only().page(None).unwrap();
        assert_eq!(request.uri().path(), "/apis/apps/v1/replicasets");
        let accept = request.headers().get(http::header::ACCEPT).unwrap().to_str().unwrap();
        assert!(accept.contains("PartialObjectMetadataList"), "{accept}");
    }

    #[test]
    fn an_error_body_that_is_not_a_status_keeps_its_text_and_code() {
        let status = api_status(http::StatusCode::BAD_GATEWAY, b"upstream connect error\n");
        assert_eq!((status.code, status.message.as_str()), (502, "upstream connect error"));
        let parsed = api_status(
            http::StatusCode::GONE,
            br#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"too old","reason":"Expired","code":410}"#,
        );
        assert_eq!((parsed.code, parsed.reason.as_str()), (410, "Expired"));
    }
}
