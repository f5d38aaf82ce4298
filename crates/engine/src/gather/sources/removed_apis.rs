//! Uses of removed API versions: for each kind of the rule table ([`crate::rules`]), through
//! the version that replaced the removed one, the metadata of every object (its
//! last-applied-configuration's apiVersion and its managedFields), and the Helm v3 release
//! Secrets whose latest deployed manifest renders a removed version. Each kind is its own
//! chain of the floor plan (its discovery, then its list), all kinds at once; the Helm
//! list follows them. A forbidden Secret list is not the source's failure: the Helm part
//! is recorded as not run.

use std::collections::BTreeMap;
use std::io::Read as _;

use base64::Engine as _;
use futures::{StreamExt as _, TryStreamExt as _};
use k8s_openapi::api::core::v1::Secret;
use kube::api::ListParams;
use kube::core::GroupVersionKind;
use serde::Deserialize;

use super::super::page::{ListRequest, list_all};
use super::super::{Pass, api, plan};
use crate::rules;
use crate::snapshot::{ApiUse, HelmRelease, ManagedEntry, ManifestObject, RemovedApiUses, Source};

/// Helm release Secrets per page: each can hold up to 1 MiB.
const HELM_PAGE_SIZE: u32 = 20;

pub(super) async fn read(pass: &Pass<'_>) -> Result<RemovedApiUses, kube::Error> {
    plan::in_chain("removed", uses(pass)).await
}

async fn uses(pass: &Pass<'_>) -> Result<RemovedApiUses, kube::Error> {
    // Each kind of the rule table, through the version that replaced the removed one.
    let mut kinds: Vec<(String, String)> = rules::removed_apis::rules()
        .iter()
        .filter(|r| !r.replacement.is_empty())
        .map(|r| (r.replacement.clone(), r.kind.clone()))
        .collect();
    kinds.sort();
    kinds.dedup();
    // Every kind at once, each its own chain (its discovery, then its list): one after the
    // other they were the whole critical path of a check of a small cluster (35 kinds, 70
    // round trips). `buffered` keeps the kinds' order in the result.
    let per_kind = futures::stream::iter(kinds)
        .map(|(api_version, kind)| {
            let chain = format!("removed:{api_version}/{kind}");
            plan::in_chain(&chain, kind_uses(pass, api_version.clone(), kind))
        })
        .buffered(usize::MAX)
        .try_collect::<Vec<Vec<ApiUse>>>()
        .await?;
    let objects: Vec<ApiUse> = per_kind.into_iter().flatten().collect();
    let releases = ListRequest::all::<Secret>()
        .params(ListParams::default().labels("owner=helm,status=deployed"))
        .page_size(HELM_PAGE_SIZE);
    // The releases' Secrets may be forbidden on purpose (Secrets hold credentials): then
    // the objects are still judged and the item says the Helm part could not run.
    let revisions = match list_all(pass, releases, Source::RemovedApis, helm_release).await {
        Ok(revisions) => revisions,
        Err(kube::Error::Api(s)) if s.code == 403 => {
            let helm_unavailable = Some(format!("forbidden: {}", s.message.trim()));
            return Ok(RemovedApiUses { objects, releases: vec![], helm_unavailable });
        }
        Err(e) => return Err(e),
    };
    let mut latest: BTreeMap<(String, String), HelmRelease> = BTreeMap::new();
    for r in revisions {
        let key = (r.namespace.clone(), r.name.clone());
        if latest.get(&key).is_none_or(|l| l.version < r.version) {
            latest.insert(key, r);
        }
    }
    let releases = latest.into_values().filter(|r| !r.objects.is_empty()).collect();
    Ok(RemovedApiUses { objects, releases, helm_unavailable: None })
}

/// The uses of removed versions among the objects of one kind, read through `api_version`
/// (nothing when the kind is not served or cannot be listed).
async fn kind_uses(
    pass: &Pass<'_>,
    api_version: String,
    kind: String,
) -> Result<Vec<ApiUse>, kube::Error> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version.as_str()));
    let gvk = GroupVersionKind::gvk(group, version, &kind);
    let Ok((resource, caps)) = kube::discovery::pinned_kind(pass.client, &gvk).await else {
        return Ok(Vec::new()); // not served here (an aggregated API down, a kind gone for good)
    };
    if !caps.supports_operation(kube::discovery::verbs::LIST) {
        return Ok(Vec::new()); // TokenReview and the like: created, never stored
    }
    let list = ListRequest::resource(&resource).metadata_only();
    match list_all(pass, list, Source::RemovedApis, |o: api::MetadataOnly| {
        api_use(&kind, o.metadata)
    })
    .await
    {
        Ok(uses) => Ok(uses),
        Err(kube::Error::Api(s)) if s.code == 404 || s.code == 405 => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
struct Head {
    #[serde(default, rename = "apiVersion")]
    api_version: Option<String>,
}

/// The object's recorded API versions, kept only when one of them matches a rule.
fn api_use(kind: &str, meta: api::HistoryMeta) -> Option<ApiUse> {
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
            owns_last_applied: e.fields.as_ref().is_some_and(api::FieldsV1::owns_last_applied),
            api_version: e.api_version.unwrap_or_default(),
        })
        .collect();
    let matches =
        last_applied.as_deref().is_some_and(|v| rules::removed_apis::rule_for(v, kind).is_some())
            || managed.iter().any(|e| rules::removed_apis::rule_for(&e.api_version, kind).is_some());
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

fn helm_release(s: api::Secret) -> Option<HelmRelease> {
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
fn decode_release(bytes: &[u8]) -> Result<HelmRelease, String> {
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
        .filter(|h| rules::removed_apis::rule_for(&h.api_version, &h.kind).is_some())
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
    fn a_release_that_is_not_base64_is_an_error_not_a_panic() {
        assert!(decode_release(b"%%%").unwrap_err().starts_with("base64"));
    }

    #[test]
    fn keeps_the_version_of_last_applied_and_who_owns_it_but_not_the_annotation() {
        let meta: api::HistoryMeta = serde_json::from_value(serde_json::json!({
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
        let meta: api::HistoryMeta = serde_json::from_value(serde_json::json!({
            "name": "fresh",
            "managedFields": [{"manager": "kubectl", "operation": "Apply", "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "fieldsType": "FieldsV1", "fieldsV1": {}}]
        }))
        .unwrap();
        assert_eq!(api_use("FlowSchema", meta), None);
    }
}
