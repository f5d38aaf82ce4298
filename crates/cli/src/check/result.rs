//! `--write-configmap NAMESPACE/NAME`: the task document also written into a ConfigMap, for
//! an in-cluster Job whose log may be gone by the time someone looks (the Helm chart's
//! `job.resultConfigMap`). A merge patch of one key of an existing ConfigMap: the chart
//! creates it and lets the pod `patch` that one object only.

use anyhow::Context as _;
use k8s_openapi::api::core::v1::ConfigMap;
use kube::api::{Api, Patch, PatchParams};
use postcheck_model::PostCheckTask;

/// The key the document is written under.
pub(crate) const KEY: &str = "task.json";

/// A ConfigMap by namespace and name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ConfigMapRef {
    namespace: String,
    name: String,
}

/// Parses `NAMESPACE/NAME`.
pub(crate) fn parse_target(s: &str) -> Result<ConfigMapRef, String> {
    match s.split_once('/') {
        Some((ns, name)) if !ns.is_empty() && !name.is_empty() && !name.contains('/') => {
            Ok(ConfigMapRef { namespace: ns.to_owned(), name: name.to_owned() })
        }
        _ => Err(format!("{s:?} is not NAMESPACE/NAME")),
    }
}

/// Writes `task` (JSON) into the ConfigMap's `task.json`.
pub(crate) async fn write(
    client: &kube::Client,
    target: &ConfigMapRef,
    task: &PostCheckTask,
) -> anyhow::Result<()> {
    let json = serde_json::to_string_pretty(task)?;
    let patch = serde_json::json!({ "data": { KEY: json } });
    Api::<ConfigMap>::namespaced(client.clone(), &target.namespace)
        .patch(&target.name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
        .with_context(|| {
            format!("writing the task into the ConfigMap {}/{}", target.namespace, target.name)
        })?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_target_is_namespace_slash_name() {
        assert_eq!(
            parse_target("postcheck/result"),
            Ok(ConfigMapRef { namespace: "postcheck".into(), name: "result".into() })
        );
        for bad in ["result", "/result", "postcheck/", "a/b/c"] {
            assert!(parse_target(bad).is_err(), "{bad}");
        }
    }
}
