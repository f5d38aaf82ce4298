//! Deployments, StatefulSets and DaemonSets, all namespaces, listed concurrently, each
//! compacted to its desired replicas against its ready, available and updated ones.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Source, Workload};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Workload>, kube::Error> {
    let (d, s, ds) = tokio::join!(
        list_all(pass, ListRequest::all::<Deployment>(), Source::Workloads, deployment),
        list_all(pass, ListRequest::all::<StatefulSet>(), Source::Workloads, stateful_set),
        list_all(pass, ListRequest::all::<DaemonSet>(), Source::Workloads, daemon_set),
    );
    Ok([d?, s?, ds?].concat())
}

fn deployment(d: api::Workload) -> Option<Workload> {
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

fn on_delete(spec: &api::WorkloadSpec) -> bool {
    spec.update_strategy.as_ref().and_then(|u| u.kind.as_deref()) == Some("OnDelete")
}

fn stateful_set(s: api::Workload) -> Option<Workload> {
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

fn daemon_set(d: api::Workload) -> Option<Workload> {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_stuck_deployment_and_an_on_delete_daemonset() {
        let d: api::Workload = serde_json::from_value(serde_json::json!({
            "metadata": {"namespace": "shop", "name": "api"},
            "spec": {"replicas": 3, "selector": {}, "template": {}},
            "status": {"readyReplicas": 2, "availableReplicas": 2, "updatedReplicas": 1, "conditions": [
                {"type": "Progressing", "status": "False", "reason": "ProgressDeadlineExceeded", "message": "ReplicaSet \"api-6f\" has timed out progressing."}]}
        }))
        .unwrap();
        let w = deployment(d).unwrap();
        assert_eq!((w.desired, w.ready, w.available, w.updated), (3, 2, 2, Some(1)));
        assert_eq!(w.stuck.as_deref(), Some("ReplicaSet \"api-6f\" has timed out progressing."));
        let ds: api::Workload = serde_json::from_value(serde_json::json!({
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
}
