//! The synthetic pod: CCE's "can a new pod start on every node" check, as an action.
//!
//! Opt-in (`--synthetic`, or `synthetic.enabled` in the policy) because it needs write
//! permission. It creates a dedicated namespace and in it a DaemonSet with tiny requests
//! that tolerates every taint, then waits until every schedulable (not cordoned) node runs
//! a Ready pod of it, or a deadline passes. Whatever happens, everything it made is deleted
//! afterwards: normally before it returns; when the run is interrupted (its future dropped)
//! a cleanup task is spawned; and every run first sweeps leftovers of earlier runs, found by
//! their label. Given a namespace of its own (`synthetic.namespace` in the policy,
//! `--synthetic-namespace`; the Helm chart makes one and grants writes there only), it
//! creates no namespace: the DaemonSet is made, swept and deleted in that one, so its
//! credentials need no cluster-wide write. It runs beside the gathering pass, never inside it (the pass only reads);
//! its outcome is recorded into the Snapshot, and the catalogue's `synthetic-pod` item
//! judges it like any other source.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use k8s_openapi::api::apps::v1::DaemonSet;
use k8s_openapi::api::core::v1::{Namespace, Node, Pod};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use serde_json::json;

use super::CleanupGuard;
use crate::error_chain::chain;
use crate::snapshot::{FailedNode, SyntheticOutcome};

/// The label on everything the synthetic check creates; its value is the run's id.
pub const LABEL: &str = "postcheck.io/synthetic";
/// The prefix of the namespaces it creates.
pub const NAMESPACE_PREFIX: &str = "postcheck-synthetic-";
/// How long every node has to run a Ready pod.
pub const DEADLINE: Duration = Duration::from_secs(60);
/// How long cleanup waits for the namespace to be gone.
const CLEANUP_WAIT: Duration = Duration::from_secs(60);
const POLL: Duration = Duration::from_millis(500);
/// The image the pods run (the smallest there is; never pulled on KWOK nodes).
pub const IMAGE: &str = "registry.k8s.io/pause:3.10";

/// Where a run puts its DaemonSet.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Place {
    /// A namespace of its own, created for the run and deleted after it.
    Dedicated,
    /// This existing namespace: only the DaemonSet is created and deleted.
    Existing(String),
}

/// Runs the synthetic check with [`DEADLINE`] in a namespace of its own.
pub async fn run(client: &kube::Client) -> SyntheticOutcome {
    run_with_deadline(client, DEADLINE).await
}

/// Runs the synthetic check with [`DEADLINE`] in the existing `namespace` (or, `None`, in a
/// namespace of its own).
pub async fn run_in(client: &kube::Client, namespace: Option<&str>) -> SyntheticOutcome {
    let place = namespace.map_or(Place::Dedicated, |ns| Place::Existing(ns.to_owned()));
    run_at(client, place, DEADLINE).await
}

/// Runs the synthetic check: sweep, create, wait up to `deadline`, clean up.
pub async fn run_with_deadline(client: &kube::Client, deadline: Duration) -> SyntheticOutcome {
    run_at(client, Place::Dedicated, deadline).await
}

async fn run_at(client: &kube::Client, place: Place, deadline: Duration) -> SyntheticOutcome {
    let started = Instant::now();
    let id = format!("{:x}", chrono::Utc::now().timestamp_millis());
    let (namespace, daemon_set) = match &place {
        Place::Dedicated => (format!("{NAMESPACE_PREFIX}{id}"), DAEMON_SET.to_owned()),
        Place::Existing(ns) => (ns.clone(), format!("{DAEMON_SET}-{id}")),
    };
    let mut outcome = SyntheticOutcome {
        namespace: namespace.clone(),
        nodes: 0,
        failed_nodes: vec![],
        setup_error: None,
        cleanup_error: None,
        elapsed_ms: 0,
    };
    let swept = match &place {
        Place::Dedicated => sweep(client).await,
        Place::Existing(ns) => sweep_daemon_sets(client, ns).await,
    };
    if let Err(e) = swept {
        outcome.setup_error =
            Some(format!("sweeping the leftovers of earlier runs: {}", chain(&e)));
        return outcome;
    }
    let mut guard = CleanupGuard::new({
        let (client, namespace) = (client.clone(), namespace.clone());
        let (place, daemon_set) = (place.clone(), daemon_set.clone());
        async move {
            let _ = match place {
                Place::Dedicated => Api::<Namespace>::all(client)
                    .delete(&namespace, &DeleteParams::background())
                    .await
                    .map(|_| ()),
                Place::Existing(_) => Api::<DaemonSet>::namespaced(client, &namespace)
                    .delete(&daemon_set, &DeleteParams::background())
                    .await
                    .map(|_| ()),
            };
        }
    });
    let create_namespace = place == Place::Dedicated;
    match exercise(client, &namespace, &daemon_set, create_namespace, &id, deadline).await {
        Ok((nodes, failed)) => {
            outcome.nodes = nodes;
            outcome.failed_nodes = failed;
        }
        Err(why) => outcome.setup_error = Some(why),
    }
    outcome.elapsed_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    outcome.cleanup_error = match &place {
        Place::Dedicated => clean_up(client, &namespace).await.err(),
        Place::Existing(_) => clean_up_daemon_set(client, &namespace, &daemon_set, &id).await.err(),
    };
    if outcome.cleanup_error.is_none() {
        guard.disarm();
    }
    drop(guard);
    outcome
}

/// Deletes every namespace an earlier run left behind.
pub async fn sweep(client: &kube::Client) -> Result<(), kube::Error> {
    sweep_labelled(Api::<Namespace>::all(client.clone())).await
}

/// Deletes the DaemonSets earlier runs left in `namespace`.
async fn sweep_daemon_sets(client: &kube::Client, namespace: &str) -> Result<(), kube::Error> {
    sweep_labelled(Api::<DaemonSet>::namespaced(client.clone(), namespace)).await
}

/// Deletes what `api` lists with the synthetic label and is not already going.
async fn sweep_labelled<K>(api: Api<K>) -> Result<(), kube::Error>
where
    K: kube::Resource + Clone + serde::de::DeserializeOwned + std::fmt::Debug,
{
    for object in api.list_metadata(&ListParams::default().labels(LABEL)).await?.items {
        let Some(name) = object.metadata.name else { continue };
        if object.metadata.deletion_timestamp.is_none() {
            match api.delete(&name, &DeleteParams::background()).await {
                Ok(_) | Err(kube::Error::Api(_)) => {}
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Creates the namespace (when `create_namespace`) and the DaemonSet and waits for a Ready
/// pod on every schedulable node; the number of nodes and those that failed.
async fn exercise(
    client: &kube::Client,
    namespace: &str,
    daemon_set_name: &str,
    create_namespace: bool,
    id: &str,
    deadline: Duration,
) -> Result<(usize, Vec<FailedNode>), String> {
    let nodes: Vec<String> = Api::<Node>::all(client.clone())
        .list(&ListParams::default())
        .await
        .map_err(|e| format!("listing the nodes: {}", chain(&e)))?
        .items
        .into_iter()
        .filter(|n| !n.spec.as_ref().and_then(|s| s.unschedulable).unwrap_or(false))
        .filter_map(|n| n.metadata.name)
        .collect();
    if create_namespace {
        let ns: Namespace = serde_json::from_value(json!({
            "metadata": { "name": namespace, "labels": { LABEL: id, "app.kubernetes.io/managed-by": "postcheck" } }
        }))
        .map_err(|e| format!("building the namespace: {e}"))?;
        Api::<Namespace>::all(client.clone())
            .create(&PostParams::default(), &ns)
            .await
            .map_err(|e| format!("creating the namespace {namespace}: {}", chain(&e)))?;
    }
    let ds: DaemonSet = serde_json::from_value(daemon_set(daemon_set_name, id))
        .map_err(|e| format!("building the DaemonSet: {e}"))?;
    Api::<DaemonSet>::namespaced(client.clone(), namespace)
        .create(&PostParams::default(), &ds)
        .await
        .map_err(|e| {
            format!("creating the DaemonSet {namespace}/{daemon_set_name}: {}", chain(&e))
        })?;
    let pods = Api::<Pod>::namespaced(client.clone(), namespace);
    let until = Instant::now() + deadline;
    loop {
        let listed = pods
            .list(&ListParams::default().labels(&format!("{LABEL}={id}")))
            .await
            .map_err(|e| format!("listing the synthetic pods: {}", chain(&e)))?;
        let by_node: BTreeMap<String, &Pod> = listed
            .items
            .iter()
            .filter_map(|p| {
                Some((p.spec.as_ref()?.node_name.clone().or_else(|| target_node(p))?, p))
            })
            .collect();
        let failed: Vec<FailedNode> = nodes
            .iter()
            .filter(|n| !by_node.get(*n).is_some_and(|p| is_ready(p)))
            .map(|n| FailedNode {
                node: n.clone(),
                reason: by_node.get(n).map_or_else(
                    || "no synthetic pod was created for it".to_owned(),
                    |p| describe(p),
                ),
            })
            .collect();
        if failed.is_empty() || Instant::now() >= until {
            return Ok((nodes.len(), failed));
        }
        tokio::time::sleep(POLL).await;
    }
}

/// The DaemonSet's name in a namespace of its own (with `-<id>` in an existing one).
const DAEMON_SET: &str = "postcheck-synthetic";

/// The DaemonSet: tiny requests, every taint tolerated, no service account token.
fn daemon_set(name: &str, id: &str) -> serde_json::Value {
    json!({
        "apiVersion": "apps/v1", "kind": "DaemonSet",
        "metadata": { "name": name, "labels": { LABEL: id } },
        "spec": {
            "selector": { "matchLabels": { LABEL: id } },
            "template": {
                "metadata": { "labels": { LABEL: id } },
                "spec": {
                    "tolerations": [{ "operator": "Exists" }],
                    "automountServiceAccountToken": false,
                    "terminationGracePeriodSeconds": 0,
                    "containers": [{
                        "name": "pause", "image": IMAGE,
                        "resources": { "requests": { "cpu": "1m", "memory": "4Mi" }, "limits": { "memory": "16Mi" } }
                    }]
                }
            }
        }
    })
}

/// The node a DaemonSet pod is meant for, before it is bound (its node affinity).
fn target_node(p: &Pod) -> Option<String> {
    let terms = &p
        .spec
        .as_ref()?
        .affinity
        .as_ref()?
        .node_affinity
        .as_ref()?
        .required_during_scheduling_ignored_during_execution
        .as_ref()?
        .node_selector_terms;
    terms
        .iter()
        .flat_map(|t| t.match_fields.iter().flatten())
        .find(|f| f.key == "metadata.name")
        .and_then(|f| f.values.as_ref()?.first().cloned())
}

fn is_ready(p: &Pod) -> bool {
    p.status
        .as_ref()
        .and_then(|s| s.conditions.as_ref())
        .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
}

fn describe(p: &Pod) -> String {
    let status = p.status.clone().unwrap_or_default();
    let phase = status.phase.unwrap_or_else(|| "Unknown".into());
    let conditions = status.conditions.unwrap_or_default();
    if let Some(c) = conditions.iter().find(|c| c.type_ == "PodScheduled" && c.status == "False") {
        return format!(
            "its pod is {phase}, not scheduled: {}",
            [c.reason.clone(), c.message.clone()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        );
    }
    let waiting: Vec<String> = status
        .container_statuses
        .unwrap_or_default()
        .into_iter()
        .filter_map(|c| c.state?.waiting?.reason)
        .collect();
    if waiting.is_empty() {
        format!("its pod is {phase} but not Ready")
    } else {
        format!("its pod is {phase}, waiting: {}", waiting.join(", "))
    }
}

/// Deletes the namespace (and with it the DaemonSet and its pods) and waits until it is gone.
async fn clean_up(client: &kube::Client, namespace: &str) -> Result<(), String> {
    let api = Api::<Namespace>::all(client.clone());
    match api.delete(namespace, &DeleteParams::background()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
        Err(e) => return Err(format!("deleting the namespace {namespace}: {}", chain(&e))),
    }
    let until = Instant::now() + CLEANUP_WAIT;
    loop {
        match api.get_opt(namespace).await {
            Ok(None) => return Ok(()),
            Ok(Some(_)) if Instant::now() < until => tokio::time::sleep(POLL).await,
            Ok(Some(_)) => {
                return Err(format!(
                    "the namespace {namespace} was still terminating after {}s",
                    CLEANUP_WAIT.as_secs()
                ));
            }
            Err(e) => {
                return Err(format!("waiting for the namespace {namespace} to go: {}", chain(&e)));
            }
        }
    }
}

/// Deletes the DaemonSet (its pods with it) and waits until its pods are gone.
async fn clean_up_daemon_set(
    client: &kube::Client,
    namespace: &str,
    name: &str,
    id: &str,
) -> Result<(), String> {
    let api = Api::<DaemonSet>::namespaced(client.clone(), namespace);
    match api.delete(name, &DeleteParams::foreground()).await {
        Ok(_) => {}
        Err(kube::Error::Api(s)) if s.code == 404 => return Ok(()),
        Err(e) => return Err(format!("deleting the DaemonSet {namespace}/{name}: {}", chain(&e))),
    }
    let pods = Api::<Pod>::namespaced(client.clone(), namespace);
    let selector = ListParams::default().labels(&format!("{LABEL}={id}"));
    let until = Instant::now() + CLEANUP_WAIT;
    loop {
        let left = async {
            Ok::<_, kube::Error>(
                api.list_metadata(&selector).await?.items.len()
                    + pods.list_metadata(&selector).await?.items.len(),
            )
        };
        match left.await {
            Ok(0) => return Ok(()),
            Ok(_) if Instant::now() < until => tokio::time::sleep(POLL).await,
            Ok(n) => {
                return Err(format!(
                    "{n} object(s) of the DaemonSet {namespace}/{name} were still there after {}s",
                    CLEANUP_WAIT.as_secs()
                ));
            }
            Err(e) => {
                return Err(format!(
                    "waiting for the DaemonSet {namespace}/{name} to go: {}",
                    chain(&e)
                ));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_daemonset_tolerates_every_taint_and_is_labelled_for_the_sweep() {
        let ds: DaemonSet = serde_json::from_value(daemon_set(DAEMON_SET, "abc")).unwrap();
        let spec = ds.spec.unwrap();
        let pod = spec.template.spec.unwrap();
        let tolerations = pod.tolerations.unwrap();
        assert_eq!(tolerations.len(), 1);
        assert_eq!(
            (tolerations[0].operator.as_deref(), tolerations[0].key.as_deref()),
            (Some("Exists"), None)
        );
        assert_eq!(ds.metadata.labels.unwrap()[LABEL], "abc");
        assert_eq!(spec.template.metadata.unwrap().labels.unwrap()[LABEL], "abc");
    }

    #[test]
    fn a_pending_pod_is_described_with_the_schedulers_reason() {
        let pod: Pod = serde_json::from_value(json!({
            "metadata": {"name": "p"},
            "spec": {"containers": [{"name": "pause"}], "affinity": {"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution":
                {"nodeSelectorTerms": [{"matchFields": [{"key": "metadata.name", "operator": "In", "values": ["node-3"]}]}]}}}},
            "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "Unschedulable", "message": "0/4 nodes are available"}]}
        }))
        .unwrap();
        assert_eq!(target_node(&pod).as_deref(), Some("node-3"));
        assert_eq!(
            describe(&pod),
            "its pod is Pending, not scheduled: Unschedulable: 0/4 nodes are available"
        );
        assert!(!is_ready(&pod));
    }
}
