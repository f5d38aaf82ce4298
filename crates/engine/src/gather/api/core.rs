//! Views of the core/v1, coordination and discovery objects: nodes, pods, Leases,
//! Services, EndpointSlices, claims, events, Secrets.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::{Condition, Meta, PhaseOnly, null_default};

/// A Node.
#[derive(Debug, Deserialize)]
pub(crate) struct Node {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: NodeSpec,
    /// Status.
    #[serde(default)]
    pub(crate) status: NodeStatus,
}

/// A Node's spec.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct NodeSpec {
    /// Taints.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) taints: Vec<Taint>,
    /// Cordoned.
    #[serde(default)]
    pub(crate) unschedulable: Option<bool>,
}

/// A taint.
#[derive(Debug, Deserialize)]
pub(crate) struct Taint {
    /// Key.
    #[serde(default)]
    pub(crate) key: String,
    /// Value.
    #[serde(default)]
    pub(crate) value: Option<String>,
    /// Effect.
    #[serde(default)]
    pub(crate) effect: String,
}

/// A Node's status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeStatus {
    /// Conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) conditions: Vec<Condition>,
    /// Versions the node reports.
    #[serde(default)]
    pub(crate) node_info: NodeInfo,
}

/// The versions a node reports.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct NodeInfo {
    /// The kubelet's version.
    #[serde(default)]
    pub(crate) kubelet_version: String,
    /// kube-proxy's version (deprecated, often empty).
    #[serde(default)]
    pub(crate) kube_proxy_version: String,
}

/// A Pod.
#[derive(Debug, Deserialize)]
pub(crate) struct Pod {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: PodSpec,
    /// Status.
    #[serde(default)]
    pub(crate) status: PodStatus,
}

/// A Pod's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodSpec {
    /// The node it is bound to.
    #[serde(default)]
    pub(crate) node_name: Option<String>,
    /// Its priority class.
    #[serde(default)]
    pub(crate) priority_class_name: Option<String>,
    /// Its containers.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) containers: Vec<ContainerSpec>,
}

/// A container of a pod's spec.
#[derive(Debug, Deserialize)]
pub(crate) struct ContainerSpec {
    /// Name.
    #[serde(default)]
    pub(crate) name: String,
    /// Image.
    #[serde(default)]
    pub(crate) image: Option<String>,
}

/// A Pod's status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct PodStatus {
    /// Phase.
    #[serde(default)]
    pub(crate) phase: Option<String>,
    /// Conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) conditions: Vec<Condition>,
    /// The containers' statuses.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) container_statuses: Vec<ContainerStatus>,
}

/// A container's status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ContainerStatus {
    /// Name.
    #[serde(default)]
    pub(crate) name: String,
    /// Ready.
    #[serde(default)]
    pub(crate) ready: bool,
    /// Restarts.
    #[serde(default)]
    pub(crate) restart_count: i32,
    /// The current state.
    #[serde(default)]
    pub(crate) state: Option<ContainerState>,
    /// The previous state.
    #[serde(default)]
    pub(crate) last_state: Option<ContainerState>,
}

/// A container's state, as far as a check reads it.
#[derive(Debug, Deserialize)]
pub(crate) struct ContainerState {
    /// Waiting, and why.
    #[serde(default)]
    pub(crate) waiting: Option<Reason>,
    /// Terminated, and why.
    #[serde(default)]
    pub(crate) terminated: Option<Reason>,
}

/// Something with a reason.
#[derive(Debug, Deserialize)]
pub(crate) struct Reason {
    /// The reason.
    #[serde(default)]
    pub(crate) reason: Option<String>,
}

/// A Lease.
#[derive(Debug, Deserialize)]
pub(crate) struct Lease {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: LeaseSpec,
}

/// A Lease's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct LeaseSpec {
    /// The holder.
    #[serde(default)]
    pub(crate) holder_identity: Option<String>,
    /// The last renewal.
    #[serde(default)]
    pub(crate) renew_time: Option<DateTime<Utc>>,
    /// How long a renewal holds.
    #[serde(default)]
    pub(crate) lease_duration_seconds: Option<i32>,
}

/// A Service.
#[derive(Debug, Deserialize)]
pub(crate) struct Service {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: ServiceSpec,
}

/// A Service's spec.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ServiceSpec {
    /// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    /// The pod selector.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) selector: BTreeMap<String, String>,
}

/// An EndpointSlice.
#[derive(Debug, Deserialize)]
pub(crate) struct EndpointSlice {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Endpoints.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) endpoints: Vec<Endpoint>,
}

/// One endpoint of a slice.
#[derive(Debug, Deserialize)]
pub(crate) struct Endpoint {
    /// Its conditions.
    #[serde(default)]
    pub(crate) conditions: Option<EndpointConditions>,
}

/// An endpoint's conditions.
#[derive(Debug, Deserialize)]
pub(crate) struct EndpointConditions {
    /// Ready (unset means ready).
    #[serde(default)]
    pub(crate) ready: Option<bool>,
}

/// A PersistentVolumeClaim.
#[derive(Debug, Deserialize)]
pub(crate) struct Claim {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: ClaimSpec,
    /// Status.
    #[serde(default)]
    pub(crate) status: PhaseOnly,
}

/// A PersistentVolumeClaim's spec, as far as its class.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ClaimSpec {
    /// `storageClassName`.
    #[serde(default)]
    pub(crate) storage_class_name: Option<String>,
}

/// A core/v1 Event.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Event {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// What it is about.
    #[serde(default)]
    pub(crate) involved_object: InvolvedObject,
    /// Reason.
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// Message.
    #[serde(default)]
    pub(crate) message: Option<String>,
    /// Count (old-style events).
    #[serde(default)]
    pub(crate) count: Option<i32>,
    /// The series (new-style events).
    #[serde(default)]
    pub(crate) series: Option<EventSeries>,
    /// Times, newest first in the order they are looked at.
    #[serde(default)]
    pub(crate) last_timestamp: Option<DateTime<Utc>>,
    /// The event time (new-style events).
    #[serde(default)]
    pub(crate) event_time: Option<DateTime<Utc>>,
    /// The first time (old-style events).
    #[serde(default)]
    pub(crate) first_timestamp: Option<DateTime<Utc>>,
}

/// What an event is about.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct InvolvedObject {
    /// Kind.
    #[serde(default)]
    pub(crate) kind: Option<String>,
    /// Name.
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// An event series.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventSeries {
    /// Occurrences.
    #[serde(default)]
    pub(crate) count: Option<i32>,
    /// The last one.
    #[serde(default)]
    pub(crate) last_observed_time: Option<DateTime<Utc>>,
}

/// A Secret, as far as a Helm release in it.
#[derive(Debug, Deserialize)]
pub(crate) struct Secret {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Its type (`helm.sh/release.v1`).
    #[serde(default, rename = "type")]
    pub(crate) kind: Option<String>,
    /// Its data, base64 on the wire.
    #[serde(default)]
    pub(crate) data: SecretData,
}

/// The one data key read from a Secret.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct SecretData {
    /// `release`, still base64 as the API sends it.
    #[serde(default)]
    pub(crate) release: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::gather::api::ListPage;

    #[test]
    fn nulls_and_absences_read_as_empty() {
        let page: ListPage<Pod> = serde_json::from_str(
            r#"{"metadata":{"continue":""},"items":[{"metadata":{"name":"p","labels":null,"ownerReferences":null},
                "spec":{"containers":null},"status":{"conditions":null}}]}"#,
        )
        .unwrap();
        assert_eq!(page.metadata.continue_.as_deref(), Some(""));
        let pod = &page.items[0];
        assert!(pod.metadata.labels.is_empty() && pod.metadata.owner_references.is_empty());
        assert!(pod.spec.containers.is_empty() && pod.status.conditions.is_empty());
        let empty: ListPage<Pod> =
            serde_json::from_str(r#"{"kind":"PodList","items":null}"#).unwrap();
        assert!(empty.items.is_empty());
    }

    #[test]
    fn a_lease_renew_time_in_microseconds_is_read() {
        let lease: Lease = serde_json::from_str(
            r#"{"metadata":{"name":"n1","namespace":"kube-node-lease"},"spec":{"holderIdentity":"n1",
                "renewTime":"2026-11-29T07:46:47.724569Z","leaseDurationSeconds":40}}"#,
        )
        .unwrap();
        assert_eq!(lease.spec.renew_time.unwrap().timestamp_subsec_micros(), 724_569);
    }
}
