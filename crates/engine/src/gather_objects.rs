//! Gathering the second half of the catalogue's sources: workloads, Services and their
//! EndpointSlices, PersistentVolumeClaims, APIServices, webhooks, removed-API uses and
//! Warning events.
//!
//! Called by [`crate::gather`] alongside its own lists, concurrently, with the same
//! paginated listing into [`crate::wire`]'s structs ([`crate::list`]) and the same rule: a source that cannot be
//! read is recorded as unavailable, and only the checks needing it say they could not run.
//! None of these sources can make the whole pass fail.

use std::collections::BTreeMap;
use std::io::Read as _;

use base64::Engine as _;
use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Event, PersistentVolumeClaim, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::api::ListParams;
use kube::core::GroupVersionKind;
use serde::Deserialize;

use crate::checks::removed_apis;
use crate::gather::{GatherEvent, Progress, record};
use crate::list::{ListRequest, list_all};
use crate::snapshot::{Gathered, Snapshot, Source};
use crate::snapshot_objects::{
    ApiService, ApiUse, Claim, HelmRelease, ManagedEntry, ManifestObject, RemovedApiUses,
    ServiceEndpoints, ServiceRef, WarningEvent, Webhook, Workload,
};
use crate::wire;

/// Helm release Secrets per page: each can hold up to 1 MiB.
const HELM_PAGE_SIZE: u32 = 20;
/// How much of an event's message is kept.
const EVENT_MESSAGE_CHARS: usize = 300;

type Listed<T> = Option<Result<Vec<T>, kube::Error>>;

/// What this module read, to be stored into the Snapshot.
pub struct Objects {
    workloads: Listed<Workload>,
    services: Listed<ServiceEndpoints>,
    claims: Listed<Claim>,
    api_services: Listed<ApiService>,
    webhooks: Listed<Webhook>,
    removed_apis: Option<Result<RemovedApiUses, kube::Error>>,
    events: Listed<WarningEvent>,
    synthetic: Option<crate::synthetic::SyntheticOutcome>,
}

impl Objects {
    /// Stores every source read into `snapshot`, reporting each to `progress`.
    pub fn apply(self, snapshot: &mut Snapshot, progress: &dyn Progress) {
        snapshot.workloads = record(Source::Workloads, self.workloads, progress);
        snapshot.services = record(Source::Services, self.services, progress);
        snapshot.claims = record(Source::Claims, self.claims, progress);
        snapshot.api_services = record(Source::ApiServices, self.api_services, progress);
        snapshot.webhooks = record(Source::Webhooks, self.webhooks, progress);
        snapshot.events = record(Source::Events, self.events, progress);
        if let Some(outcome) = self.synthetic {
            progress
                .event(GatherEvent::Done { source: Source::Synthetic, outcome: Ok(outcome.nodes) });
            snapshot.synthetic = Gathered::Ok(outcome);
        }
        snapshot.removed_apis = match self.removed_apis {
            None => Gathered::NotGathered,
            Some(Ok(uses)) => {
                progress.event(GatherEvent::Done {
                    source: Source::RemovedApis,
                    outcome: Ok(uses.objects.len() + uses.releases.len()),
                });
                Gathered::Ok(uses)
            }
            Some(Err(e)) => {
                let u = crate::gather::unavailable(&e);
                progress.event(GatherEvent::Done {
                    source: Source::RemovedApis,
                    outcome: Err(u.reason.clone()),
                });
                Gathered::Unavailable(u)
            }
        };
    }
}

/// Reads the sources of `sources` this module knows, concurrently.
pub async fn gather(client: &kube::Client, sources: &[Source], progress: &dyn Progress) -> Objects {
    let wants = |s| sources.contains(&s);
    // Boxed: inlined, the lists' futures would make the pass's future too big for a
    // thread's stack in debug builds.
    macro_rules! when {
        ($source:expr, $fut:expr) => {
            async { if wants($source) { Some(Box::pin($fut).await) } else { None } }
        };
    }
    let (workloads, services, claims, api_services, webhooks, removed_apis, events, synthetic) = tokio::join!(
        when!(Source::Workloads, workloads(client, progress)),
        when!(Source::Services, services(client, progress)),
        when!(
            Source::Claims,
            list_all(
                client,
                ListRequest::all::<PersistentVolumeClaim>(),
                Source::Claims,
                progress,
                claim
            )
        ),
        when!(
            Source::ApiServices,
            list_all(
                client,
                ListRequest::all::<APIService>(),
                Source::ApiServices,
                progress,
                api_service
            )
        ),
        when!(Source::Webhooks, webhooks(client, progress)),
        when!(Source::RemovedApis, removed_api_uses(client, progress)),
        when!(Source::Events, events(client, progress)),
        when!(Source::Synthetic, crate::synthetic::run(client)),
    );
    Objects { workloads, services, claims, api_services, webhooks, removed_apis, events, synthetic }
}

async fn workloads(
    client: &kube::Client,
    progress: &dyn Progress,
) -> Result<Vec<Workload>, kube::Error> {
    let (d, s, ds) = tokio::join!(
        list_all(client, ListRequest::all::<Deployment>(), Source::Workloads, progress, deployment),
        list_all(
            client,
            ListRequest::all::<StatefulSet>(),
            Source::Workloads,
            progress,
            stateful_set
        ),
        list_all(client, ListRequest::all::<DaemonSet>(), Source::Workloads, progress, daemon_set),
    );
    Ok([d?, s?, ds?].concat())
}

fn deployment(d: wire::Workload) -> Option<Workload> {
    let (spec, status) = (d.spec, d.status);
    let stuck = status
        .conditions
        .into_iter()
        .find(|c| {
            c.kind == "Progressing" && c.reason.as_deref() == Some("ProgressDeadlineExceeded")
        })
        .map(|c| c.message.unwrap_or_else(|| "ProgressDeadlineExceeded".into()));
    Some(Workload {
        kind: "Deployment".into(),
        namespace: d.metadata.namespace.unwrap_or_default(),
        name: d.metadata.name,
        desired: spec.replicas.unwrap_or(1),
        ready: status.ready_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        updated: Some(status.updated_replicas.unwrap_or(0)),
        stuck,
    })
}

fn on_delete(spec: &wire::WorkloadSpec) -> bool {
    spec.update_strategy.as_ref().and_then(|u| u.kind.as_deref()) == Some("OnDelete")
}

fn stateful_set(s: wire::Workload) -> Option<Workload> {
    let (spec, status) = (s.spec, s.status);
    Some(Workload {
        kind: "StatefulSet".into(),
        namespace: s.metadata.namespace.unwrap_or_default(),
        name: s.metadata.name,
        desired: spec.replicas.unwrap_or(1),
        ready: status.ready_replicas.unwrap_or(0),
        available: status.available_replicas.unwrap_or(0),
        updated: (!on_delete(&spec)).then_some(status.updated_replicas.unwrap_or(0)),
        stuck: None,
    })
}

fn daemon_set(d: wire::Workload) -> Option<Workload> {
    let status = d.status;
    Some(Workload {
        kind: "DaemonSet".into(),
        namespace: d.metadata.namespace.unwrap_or_default(),
        name: d.metadata.name,
        desired: status.desired_number_scheduled,
        ready: status.number_ready,
        available: status.number_available.unwrap_or(0),
        updated: (!on_delete(&d.spec)).then_some(status.updated_number_scheduled.unwrap_or(0)),
        stuck: None,
    })
}

/// One EndpointSlice reduced to its Service and ready endpoint count.
struct Slice {
    namespace: String,
    service: Option<String>,
    ready: u32,
}

async fn services(
    client: &kube::Client,
    progress: &dyn Progress,
) -> Result<Vec<ServiceEndpoints>, kube::Error> {
    let (services, slices) = tokio::join!(
        list_all(client, ListRequest::all::<Service>(), Source::Services, progress, service),
        list_all(client, ListRequest::all::<EndpointSlice>(), Source::Services, progress, slice),
    );
    let mut ready: BTreeMap<(String, String), u32> = BTreeMap::new();
    for s in slices? {
        if let Some(name) = s.service {
            *ready.entry((s.namespace, name)).or_default() += s.ready;
        }
    }
    Ok(services?
        .into_iter()
        .map(|mut s| {
            s.ready = ready.get(&(s.namespace.clone(), s.name.clone())).copied().unwrap_or(0);
            s
        })
        .collect())
}

/// A Service that has endpoints (an ExternalName Service has none and is not kept).
fn service(s: wire::Service) -> Option<ServiceEndpoints> {
    let has_selector = !s.spec.selector.is_empty();
    (s.spec.kind.as_deref() != Some("ExternalName")).then(|| ServiceEndpoints {
        namespace: s.metadata.namespace.unwrap_or_default(),
        name: s.metadata.name,
        has_selector,
        ready: 0,
    })
}

fn slice(mut s: wire::EndpointSlice) -> Option<Slice> {
    let ready = s
        .endpoints
        .iter()
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
        .count();
    Some(Slice {
        namespace: s.metadata.namespace.unwrap_or_default(),
        service: s.metadata.labels.remove("kubernetes.io/service-name"),
        ready: u32::try_from(ready).unwrap_or(u32::MAX),
    })
}

fn claim(c: wire::Claim) -> Option<Claim> {
    Some(Claim {
        namespace: c.metadata.namespace.unwrap_or_default(),
        name: c.metadata.name,
        phase: c.status.phase.unwrap_or_else(|| "Pending".into()),
    })
}

fn service_ref(s: wire::ServiceReference) -> ServiceRef {
    ServiceRef { namespace: s.namespace.unwrap_or_default(), name: s.name.unwrap_or_default() }
}

fn api_service(a: wire::ApiService) -> Option<ApiService> {
    let service = a.spec.service.map(service_ref);
    let available = a.status.conditions.into_iter().find(|c| c.kind == "Available");
    let ok = available.as_ref().is_some_and(|c| c.status == "True");
    let reason = match (&available, ok) {
        (_, true) => None,
        (None, false) => Some("no Available condition yet".into()),
        (Some(c), false) => Some(
            [Some(format!("Available is {}", c.status)), c.reason.clone(), c.message.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": "),
        ),
    };
    Some(ApiService { name: a.metadata.name, service, available: ok, reason })
}

async fn webhooks(
    client: &kube::Client,
    progress: &dyn Progress,
) -> Result<Vec<Webhook>, kube::Error> {
    let (validating, mutating, crds) = tokio::join!(
        list_all(
            client,
            ListRequest::all::<ValidatingWebhookConfiguration>(),
            Source::Webhooks,
            progress,
            |c| { Some(admission_webhooks("ValidatingWebhookConfiguration", c)) }
        ),
        list_all(
            client,
            ListRequest::all::<MutatingWebhookConfiguration>(),
            Source::Webhooks,
            progress,
            |c| { Some(admission_webhooks("MutatingWebhookConfiguration", c)) }
        ),
        list_all(
            client,
            ListRequest::all::<CustomResourceDefinition>(),
            Source::Webhooks,
            progress,
            conversion
        ),
    );
    Ok([validating?, mutating?].into_iter().flatten().flatten().chain(crds?).collect())
}

/// The webhooks of one admission configuration that call a Service; an absent failure
/// policy means `Fail`.
fn admission_webhooks(owner_kind: &str, c: wire::WebhookConfiguration) -> Vec<Webhook> {
    let owner_name = c.metadata.name;
    c.webhooks
        .into_iter()
        .filter_map(|w| {
            Some(Webhook {
                owner_kind: owner_kind.into(),
                owner_name: owner_name.clone(),
                fails_closed: w.failure_policy.as_deref().is_none_or(|p| p == "Fail"),
                service: service_ref(w.client_config.service?),
                name: w.name,
            })
        })
        .collect()
}

/// A CRD's conversion webhook, when it calls a Service.
fn conversion(c: wire::Crd) -> Option<Webhook> {
    let name = c.metadata.name;
    let service = c.spec.conversion?.webhook?.client_config?.service?;
    Some(Webhook {
        owner_kind: "CustomResourceDefinition".into(),
        owner_name: name.clone(),
        name,
        fails_closed: true,
        service: service_ref(service),
    })
}

async fn events(
    client: &kube::Client,
    progress: &dyn Progress,
) -> Result<Vec<WarningEvent>, kube::Error> {
    let warnings = ListRequest::all::<Event>().params(ListParams::default().fields("type=Warning"));
    list_all(client, warnings, Source::Events, progress, event).await
}

fn event(e: wire::Event) -> Option<WarningEvent> {
    let series = e.series.as_ref();
    let last_seen = series
        .and_then(|s| s.last_observed_time)
        .or(e.last_timestamp)
        .or(e.event_time)
        .or(e.first_timestamp)
        .or(e.metadata.creation_timestamp);
    let mut message = e.message.unwrap_or_default();
    if let Some((cut, _)) = message.char_indices().nth(EVENT_MESSAGE_CHARS) {
        message.truncate(cut);
    }
    Some(WarningEvent {
        namespace: e.metadata.namespace.unwrap_or_default(),
        kind: e.involved_object.kind.unwrap_or_default(),
        name: e.involved_object.name.unwrap_or_default(),
        reason: e.reason.unwrap_or_default(),
        message,
        count: series.and_then(|s| s.count).or(e.count).unwrap_or(1),
        last_seen,
    })
}

async fn removed_api_uses(
    client: &kube::Client,
    progress: &dyn Progress,
) -> Result<RemovedApiUses, kube::Error> {
    // Each kind of the rule table, through the version that replaced the removed one.
    let mut kinds: Vec<(String, String)> = removed_apis::rules()
        .iter()
        .filter(|r| !r.replacement.is_empty())
        .map(|r| (r.replacement.clone(), r.kind.clone()))
        .collect();
    kinds.sort();
    kinds.dedup();
    let mut objects = Vec::new();
    for (api_version, kind) in kinds {
        let (group, version) = api_version.split_once('/').unwrap_or(("", api_version.as_str()));
        let gvk = GroupVersionKind::gvk(group, version, &kind);
        let Ok((resource, caps)) = kube::discovery::pinned_kind(client, &gvk).await else {
            continue; // not served here (an aggregated API that is down, a kind gone for good)
        };
        if !caps.supports_operation(kube::discovery::verbs::LIST) {
            continue; // TokenReview and the like: created, never stored
        }
        let list = ListRequest::resource(&resource).metadata_only();
        match list_all(client, list, Source::RemovedApis, progress, |o: wire::MetadataOnly| {
            api_use(&kind, o.metadata)
        })
        .await
        {
            Ok(uses) => objects.extend(uses),
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 405 => {}
            Err(e) => return Err(e),
        }
    }
    let releases = ListRequest::all::<Secret>()
        .params(ListParams::default().labels("owner=helm,status=deployed"))
        .page_size(HELM_PAGE_SIZE);
    let revisions = list_all(client, releases, Source::RemovedApis, progress, helm_release).await?;
    let mut latest: BTreeMap<(String, String), HelmRelease> = BTreeMap::new();
    for r in revisions {
        let key = (r.namespace.clone(), r.name.clone());
        if latest.get(&key).is_none_or(|l| l.version < r.version) {
            latest.insert(key, r);
        }
    }
    let releases = latest.into_values().filter(|r| !r.objects.is_empty()).collect();
    Ok(RemovedApiUses { objects, releases })
}

#[derive(Deserialize)]
struct Head {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
}

/// The object's recorded API versions, kept only when one of them matches a rule.
fn api_use(kind: &str, meta: wire::HistoryMeta) -> Option<ApiUse> {
    let last_applied = meta
        .annotations
        .and_then(|a| a.last_applied)
        .and_then(|text| serde_json::from_str::<Head>(&text).ok())
        .and_then(|h| h.api_version);
    let mut entries: Vec<_> = meta
        .managed_fields
        .into_iter()
        .filter(|e| e.subresource.as_deref().is_none_or(str::is_empty))
        .collect();
    entries.sort_by_key(|e| e.time);
    let managed: Vec<ManagedEntry> = entries
        .into_iter()
        .map(|e| ManagedEntry {
            owns_last_applied: e.fields.as_ref().is_some_and(wire::FieldsV1::owns_last_applied),
            api_version: e.api_version.unwrap_or_default(),
        })
        .collect();
    let matches =
        last_applied.as_deref().is_some_and(|v| removed_apis::rule_for(v, kind).is_some())
            || managed.iter().any(|e| removed_apis::rule_for(&e.api_version, kind).is_some());
    matches.then(|| ApiUse {
        kind: kind.to_owned(),
        namespace: meta.namespace,
        name: meta.name,
        last_applied,
        managed,
    })
}

#[derive(Deserialize)]
struct StoredRelease {
    name: String,
    #[serde(default)]
    namespace: String,
    #[serde(default)]
    version: i64,
    #[serde(default)]
    info: Option<ReleaseInfo>,
    #[serde(default)]
    manifest: String,
}

#[derive(Deserialize)]
struct ReleaseInfo {
    #[serde(default)]
    status: String,
}

#[derive(Deserialize)]
struct ManifestHead {
    #[serde(default, rename = "apiVersion")]
    api_version: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    metadata: Option<ManifestMeta>,
}

#[derive(Deserialize)]
struct ManifestMeta {
    #[serde(default)]
    name: String,
}

fn helm_release(s: wire::Secret) -> Option<HelmRelease> {
    if s.kind.as_deref() != Some("helm.sh/release.v1") {
        return None;
    }
    // The API sends Secret data base64-encoded; Helm's release is base64 once more inside.
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(s.data.release?.as_bytes())
        .map_err(|e| format!("the Secret's data: base64: {e}"))
        .and_then(|data| decode_release(&data));
    match decoded {
        Ok(release) => Some(release),
        Err(why) => {
            tracing::warn!(secret = %s.metadata.name, namespace = ?s.metadata.namespace, "skipping an unreadable Helm release: {why}");
            None
        }
    }
}

/// Decodes Helm's `data.release`: (already once base64-decoded by the API) base64, then
/// gzip when it starts with gzip's magic bytes, then the JSON release; keeps only the
/// manifest documents whose apiVersion and kind match a rule.
pub(crate) fn decode_release(bytes: &[u8]) -> Result<HelmRelease, String> {
    let text: Vec<u8> = bytes.iter().copied().filter(|b| !b.is_ascii_whitespace()).collect();
    let raw = base64::engine::general_purpose::STANDARD
        .decode(&text)
        .map_err(|e| format!("base64: {e}"))?;
    let json = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(raw.as_slice())
            .read_to_end(&mut out)
            .map_err(|e| format!("gzip: {e}"))?;
        out
    } else {
        raw
    };
    let release: StoredRelease = serde_json::from_slice(&json).map_err(|e| format!("JSON: {e}"))?;
    let objects = release
        .manifest
        .split("\n---")
        .filter_map(|doc| serde_yaml_ng::from_str::<ManifestHead>(doc).ok())
        .filter(|h| removed_apis::rule_for(&h.api_version, &h.kind).is_some())
        .map(|h| ManifestObject {
            api_version: h.api_version,
            kind: h.kind,
            name: h.metadata.map(|m| m.name).unwrap_or_default(),
        })
        .collect();
    Ok(HelmRelease {
        namespace: release.namespace,
        name: release.name,
        version: release.version,
        status: release.info.map(|i| i.status).unwrap_or_default(),
        objects,
    })
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn helm_encode(release: &serde_json::Value) -> Vec<u8> {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(&serde_json::to_vec(release).unwrap()).unwrap();
        base64::engine::general_purpose::STANDARD.encode(gz.finish().unwrap()).into_bytes()
    }

    #[test]
    fn decodes_a_helm_release_keeping_only_the_documents_on_removed_apis() {
        let manifest = "---\n# Source: x/pdb.yaml\napiVersion: policy/v1beta1\nkind: PodDisruptionBudget\nmetadata:\n  name: web\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n";
        let release = serde_json::json!({"name": "web", "namespace": "shop", "version": 4, "info": {"status": "deployed"}, "manifest": manifest});
        let decoded = decode_release(&helm_encode(&release)).unwrap();
        assert_eq!(
            (
                decoded.name.as_str(),
                decoded.namespace.as_str(),
                decoded.version,
                decoded.status.as_str()
            ),
            ("web", "shop", 4, "deployed")
        );
        assert_eq!(
            decoded.objects,
            vec![ManifestObject {
                api_version: "policy/v1beta1".into(),
                kind: "PodDisruptionBudget".into(),
                name: "web".into()
            }]
        );
    }

    #[test]
    fn decodes_a_stuck_deployment_and_an_on_delete_daemonset() {
        let d: wire::Workload = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "shop", "name": "api"},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 1, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"api-6f\" has timed out progressing."}]}
        }))
        .unwrap();
        let w = deployment(d).unwrap();
        assert_eq!((w.desired, w.ready, w.available, w.updated), (3, 2, 2, Some(1)));
        assert_eq!(w.stuck.as_deref(), Some("ReplicaSet \"api-6f\" has timed out progressing."));
        let ds: wire::Workload = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "kube-system", "name": "legacy"},
            "spec": {"selector": {}, "template": {}, "updateStrategy": {"type": "OnDelete"}},
            "status": {"desiredNumberScheduled": 3, "numberReady": 3, "numberAvailable": 3, "updatedNumberScheduled": 0,
                "currentNumberScheduled": 3, "numberMisscheduled": 0}
        }))
        .unwrap();
        let w = daemon_set(ds).unwrap();
        assert_eq!((w.desired, w.updated), (3, None));
        assert!(w.is_complete(), "old replicas are expected with OnDelete: {w:?}");
    }

    #[test]
    fn counts_ready_endpoints_unset_ready_meaning_ready() {
        let s: wire::EndpointSlice = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "shop", "name": "checkout-x", "labels": {"kubernetes.io/service-name": "checkout"}},
            "addressType": "IPv4",
            "endpoints": [
                {"addresses": ["10.0.0.1"], "conditions": {"ready": true}},
                {"addresses": ["10.0.0.2"], "conditions": {"ready": false}},
                {"addresses": ["10.0.0.3"]}
            ]
        }))
        .unwrap();
        let slice = slice(s).unwrap();
        assert_eq!((slice.service.as_deref(), slice.ready), (Some("checkout"), 2));
        let external: wire::Service = serde_json::from_value(serde_json::json!({"metadata": {"name": "ext"}, "spec": {"type": "ExternalName", "externalName": "x.example"}})).unwrap();
        assert_eq!(service(external), None);
    }

    #[test]
    fn an_unavailable_apiservice_keeps_its_reason() {
        let a: wire::ApiService = serde_json::from_value(serde_json::json!({
            "metadata": {"name": "v1beta1.metrics.k8s.io"},
            "spec": {"service": {"namespace": "monitoring", "name": "metrics"}, "groupPriorityMinimum": 100, "versionPriority": 100},
            "status": {"conditions": [{"type": "Available", "status": "False", "reason": "MissingEndpoints", "message": "no addresses"}]}
        }))
        .unwrap();
        let a = api_service(a).unwrap();
        assert!(!a.available);
        assert_eq!(a.reason.as_deref(), Some("Available is False: MissingEndpoints: no addresses"));
        assert_eq!(a.service.unwrap().to_string(), "monitoring/metrics");
    }

    #[test]
    fn a_release_that_is_not_base64_is_an_error_not_a_panic() {
        assert!(decode_release(b"%%%").unwrap_err().starts_with("base64"));
    }

    #[test]
    fn keeps_the_version_of_last_applied_and_who_owns_it_but_not_the_annotation() {
        let meta: wire::HistoryMeta = serde_json::from_value(serde_json::json!({
            "name": "legacy",
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{\"apiVersion\":\"flowcontrol.apiserver.k8s.io/v1beta3\",\"kind\":\"FlowSchema\",\"spec\":{}}\n"},
            "managedFields": [
                {"manager": "kube-apiserver", "operation": "Update", "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "time": "2026-11-29T05:00:00Z",
                 "subresource": "status", "fieldsType": "FieldsV1", "fieldsV1": {"f:status": {}}},
                {"manager": "kubectl", "operation": "Update", "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "time": "2026-11-29T04:00:00Z",
                 "fieldsType": "FieldsV1", "fieldsV1": {"f:metadata": {"f:annotations": {".": {}, "f:kubectl.kubernetes.io/last-applied-configuration": {}}}}}
            ]
        }))
        .unwrap();
        let used = api_use("FlowSchema", meta).expect("matches a rule");
        assert_eq!(used.last_applied.as_deref(), Some("flowcontrol.apiserver.k8s.io/v1beta3"));
        assert_eq!(
            used.managed,
            vec![ManagedEntry {
                api_version: "flowcontrol.apiserver.k8s.io/v1".into(),
                owns_last_applied: true
            }]
        );
    }

    #[test]
    fn an_object_on_current_apis_only_is_not_kept() {
        let meta: wire::HistoryMeta = serde_json::from_value(serde_json::json!({
            "name": "fresh",
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "fieldsType": "FieldsV1", "fieldsV1": {}}]
        }))
        .unwrap();
        assert_eq!(api_use("FlowSchema", meta), None);
    }
}
