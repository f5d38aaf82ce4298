//! StorageClasses, each compacted to its name and whether it binds volumes only for a
//! first consumer (`volumeBindingMode: WaitForFirstConsumer`).

use k8s_openapi::api::storage::v1::StorageClass as ApiStorageClass;
use serde::Deserialize;

use super::super::Pass;
use super::super::api::Meta;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Source, StorageClass};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<StorageClass>, kube::Error> {
    list_all(pass, ListRequest::all::<ApiStorageClass>(), Source::StorageClasses, class).await
}

/// A StorageClass as far as its binding mode.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct View {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    volume_binding_mode: Option<String>,
}

fn class(c: View) -> Option<StorageClass> {
    Some(StorageClass {
        name: c.metadata.name,
        wait_for_first_consumer: c.volume_binding_mode.as_deref() == Some("WaitForFirstConsumer"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_whether_it_waits_for_a_first_consumer() {
        let raw = serde_json::json!({
            "metadata": {"name": "local"}, "provisioner": "kubernetes.io/no-provisioner",
            "volumeBindingMode": "WaitForFirstConsumer"
        });
        let c = class(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!((c.name.as_str(), c.wait_for_first_consumer), ("local", true));
        let bare: View = serde_json::from_value(serde_json::json!({"metadata": {"name": "x"}})).unwrap();
        assert!(!class(bare).unwrap().wait_for_first_consumer);
    }
}
