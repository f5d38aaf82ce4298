//! The pod list, all namespaces, each pod compacted to its phase, readiness, owner and
//! containers' states.

use k8s_openapi::api::core::v1::Pod as K8sPod;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Container, Interner, Owner, Pod, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Pod>, kube::Error> {
    let interner = &pass.interner;
    list_all(pass, ListRequest::all::<K8sPod>(), Source::Pods, |p| pod(p, interner)).await
}

fn pod(mut p: api::Pod, interner: &Interner) -> Option<Pod> {
    let conditions = &p.status.conditions;
    let ready = conditions.iter().any(|c| c.kind == "Ready" && c.status == "True");
    let unschedulable =
        conditions.iter().find(|c| c.kind == "PodScheduled" && c.status == "False").map(|c| {
            [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        });
    let statuses = &mut p.status.container_statuses;
    let containers = p
        .spec
        .containers
        .into_iter()
        .map(|c| {
            let st = statuses.iter_mut().find(|s| s.name == c.name);
            let (ready, restart_count, waiting_reason, last_terminated_reason) = match st {
                Some(s) => (
                    s.ready,
                    s.restart_count,
                    interner.atom_opt(
                        s.state.as_mut().and_then(|st| st.waiting.as_mut()?.reason.take()),
                    ),
                    interner.atom_opt(
                        s.last_state.as_mut().and_then(|st| st.terminated.as_mut()?.reason.take()),
                    ),
                ),
                None => (false, 0, None, None),
            };
            Container {
                image: interner.atom(c.image.as_deref().unwrap_or_default()),
                ready,
                restart_count,
                waiting_reason,
                last_terminated_reason,
                name: interner.atom(&c.name),
            }
        })
        .collect();
    let owner = p
        .metadata
        .owner_references
        .into_iter()
        .find(|o| o.controller == Some(true))
        .map(|o| Owner { kind: interner.atom(&o.kind), name: interner.atom(&o.name) });
    Some(Pod {
        namespace: interner.atom(p.metadata.namespace.as_deref().unwrap_or_default()),
        name: p.metadata.name,
        labels: interner.labels(p.metadata.labels),
        owner,
        created: p.metadata.creation_timestamp,
        deleting: p.metadata.deletion_timestamp,
        node_name: interner.atom_opt(p.spec.node_name),
        priority_class: interner.atom_opt(p.spec.priority_class_name),
        phase: interner.atom(p.status.phase.as_deref().unwrap_or("Unknown")),
        ready,
        unschedulable,
        containers,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_a_crashlooping_pod() {
        let raw = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "kube-system", "name": "coredns-1", "creationTimestamp": "2026-11-29T04:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "coredns-5d", "uid": "u", "controller": true}]},
            "spec": {"nodeName": "n1", "priorityClassName": "system-cluster-critical",
                "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "coredns", "image": "x", "imageID": "", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
        });
        let p = pod(serde_json::from_value(raw).unwrap(), &Interner::default()).unwrap();
        assert_eq!(p.owner.as_ref().map(|o| o.kind.as_str()), Some("ReplicaSet"));
        assert!(!p.ready);
        assert_eq!(p.containers[0].waiting_reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(p.containers[0].last_terminated_reason.as_deref(), Some("Error"));
        assert_eq!(p.containers[0].restart_count, 4);
        assert_eq!(p.created.unwrap().to_rfc3339(), "2026-11-29T04:00:00+00:00");
    }
}
