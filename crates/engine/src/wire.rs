//! The API objects as the gatherer decodes them: only the fields some check reads.
//!
//! Decoding a list page into k8s-openapi's full types builds every field of every object
//! (a pod's managedFields alone is a tree of maps), only for most of it to be dropped a
//! moment later. These structs name just what the checks need; serde skips the rest of the
//! JSON without building it, which is most of a page's bytes. Every collection may be
//! absent or `null` on the wire, so each is read through [`null_default`].
//!
//! Field names follow the API's JSON (camelCase); the compact Snapshot types are built from
//! these in `gather.rs` and `gather_objects.rs`.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::de::IgnoredAny;
use serde::{Deserialize, Deserializer};

/// An absent or `null` collection as its empty value.
pub fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One page of a list: its items and the token of the next page.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub struct ListPage<T> {
    /// The list's metadata.
    #[serde(default)]
    pub metadata: ListMeta,
    /// The objects of this page.
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub items: Vec<T>,
}

/// A list's metadata.
#[derive(Debug, Default, Deserialize)]
pub struct ListMeta {
    /// The token of the next page; absent or empty on the last.
    #[serde(default, rename = "continue")]
    pub continue_: Option<String>,
}

/// An object's metadata, as far as any check reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Meta {
    /// Namespace (absent for cluster-scoped objects).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Labels.
    #[serde(default, deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
    /// Owner references.
    #[serde(default, deserialize_with = "null_default")]
    pub owner_references: Vec<OwnerReference>,
    /// When the object was created.
    #[serde(default)]
    pub creation_timestamp: Option<DateTime<Utc>>,
    /// When its deletion was asked for.
    #[serde(default)]
    pub deletion_timestamp: Option<DateTime<Utc>>,
}

/// The annotations a check reads: `kubectl apply`'s record of the last applied object.
#[derive(Debug, Default, Deserialize)]
pub struct Annotations {
    /// `kubectl.kubernetes.io/last-applied-configuration`.
    #[serde(default, rename = "kubectl.kubernetes.io/last-applied-configuration")]
    pub last_applied: Option<String>,
}

/// An owner reference.
#[derive(Debug, Deserialize)]
pub struct OwnerReference {
    /// The owner's kind.
    #[serde(default)]
    pub kind: String,
    /// The owner's name.
    #[serde(default)]
    pub name: String,
    /// Whether the owner is the controller.
    #[serde(default)]
    pub controller: Option<bool>,
}

/// One managedFields entry, without the field set itself except for whether it holds the
/// last-applied annotation.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ManagedFields {
    /// The API version the manager wrote through.
    #[serde(default)]
    pub api_version: Option<String>,
    /// When.
    #[serde(default)]
    pub time: Option<DateTime<Utc>>,
    /// The subresource written (`status`, `scale`), empty for the object itself.
    #[serde(default)]
    pub subresource: Option<String>,
    /// The fields written, reduced to the one path a check reads.
    #[serde(default, rename = "fieldsV1")]
    pub fields: Option<FieldsV1>,
}

/// `fieldsV1`, reduced to `f:metadata` / `f:annotations` / `f:<last-applied>`.
#[derive(Debug, Deserialize)]
pub struct FieldsV1 {
    #[serde(default, rename = "f:metadata")]
    metadata: Option<FieldsMetadata>,
}

#[derive(Debug, Deserialize)]
struct FieldsMetadata {
    #[serde(default, rename = "f:annotations")]
    annotations: Option<FieldsAnnotations>,
}

#[derive(Debug, Deserialize)]
struct FieldsAnnotations {
    #[serde(default, rename = "f:kubectl.kubernetes.io/last-applied-configuration")]
    last_applied: Option<IgnoredAny>,
}

impl FieldsV1 {
    /// Whether these fields include the last-applied annotation.
    pub fn owns_last_applied(&self) -> bool {
        self.metadata
            .as_ref()
            .and_then(|m| m.annotations.as_ref())
            .is_some_and(|a| a.last_applied.is_some())
    }
}

/// A metadata-only object (`PartialObjectMetadata`), read for the API versions it was
/// written through.
#[derive(Debug, Deserialize)]
pub struct MetadataOnly {
    /// Its metadata.
    #[serde(default)]
    pub metadata: HistoryMeta,
}

/// The metadata that records how an object was written.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HistoryMeta {
    /// Namespace (absent for cluster-scoped objects).
    #[serde(default)]
    pub namespace: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: String,
    /// The one annotation a check reads.
    #[serde(default)]
    pub annotations: Option<Annotations>,
    /// Who wrote which fields, through which API version.
    #[serde(default, deserialize_with = "null_default")]
    pub managed_fields: Vec<ManagedFields>,
}

/// A status condition (nodes, pods, workloads, APIServices).
#[derive(Debug, Deserialize)]
pub struct Condition {
    /// `type`.
    #[serde(default, rename = "type")]
    pub kind: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub status: String,
    /// Machine-readable reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub message: Option<String>,
}

/// A Node.
#[derive(Debug, Deserialize)]
pub struct Node {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: NodeSpec,
    /// Status.
    #[serde(default)]
    pub status: NodeStatus,
}

/// A Node's spec.
#[derive(Debug, Default, Deserialize)]
pub struct NodeSpec {
    /// Taints.
    #[serde(default, deserialize_with = "null_default")]
    pub taints: Vec<Taint>,
    /// Cordoned.
    #[serde(default)]
    pub unschedulable: Option<bool>,
}

/// A taint.
#[derive(Debug, Deserialize)]
pub struct Taint {
    /// Key.
    #[serde(default)]
    pub key: String,
    /// Value.
    #[serde(default)]
    pub value: Option<String>,
    /// Effect.
    #[serde(default)]
    pub effect: String,
}

/// A Node's status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStatus {
    /// Conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
    /// Versions the node reports.
    #[serde(default)]
    pub node_info: NodeInfo,
}

/// The versions a node reports.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeInfo {
    /// The kubelet's version.
    #[serde(default)]
    pub kubelet_version: String,
    /// kube-proxy's version (deprecated, often empty).
    #[serde(default)]
    pub kube_proxy_version: String,
}

/// A Pod.
#[derive(Debug, Deserialize)]
pub struct Pod {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: PodSpec,
    /// Status.
    #[serde(default)]
    pub status: PodStatus,
}

/// A Pod's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpec {
    /// The node it is bound to.
    #[serde(default)]
    pub node_name: Option<String>,
    /// Its priority class.
    #[serde(default)]
    pub priority_class_name: Option<String>,
    /// Its containers.
    #[serde(default, deserialize_with = "null_default")]
    pub containers: Vec<ContainerSpec>,
}

/// A container of a pod's spec.
#[derive(Debug, Deserialize)]
pub struct ContainerSpec {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Image.
    #[serde(default)]
    pub image: Option<String>,
}

/// A Pod's status.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatus {
    /// Phase.
    #[serde(default)]
    pub phase: Option<String>,
    /// Conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
    /// The containers' statuses.
    #[serde(default, deserialize_with = "null_default")]
    pub container_statuses: Vec<ContainerStatus>,
}

/// A container's status.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStatus {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// Ready.
    #[serde(default)]
    pub ready: bool,
    /// Restarts.
    #[serde(default)]
    pub restart_count: i32,
    /// The current state.
    #[serde(default)]
    pub state: Option<ContainerState>,
    /// The previous state.
    #[serde(default)]
    pub last_state: Option<ContainerState>,
}

/// A container's state, as far as a check reads it.
#[derive(Debug, Deserialize)]
pub struct ContainerState {
    /// Waiting, and why.
    #[serde(default)]
    pub waiting: Option<Reason>,
    /// Terminated, and why.
    #[serde(default)]
    pub terminated: Option<Reason>,
}

/// Something with a reason.
#[derive(Debug, Deserialize)]
pub struct Reason {
    /// The reason.
    #[serde(default)]
    pub reason: Option<String>,
}

/// A Lease.
#[derive(Debug, Deserialize)]
pub struct Lease {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: LeaseSpec,
}

/// A Lease's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaseSpec {
    /// The holder.
    #[serde(default)]
    pub holder_identity: Option<String>,
    /// The last renewal.
    #[serde(default)]
    pub renew_time: Option<DateTime<Utc>>,
    /// How long a renewal holds.
    #[serde(default)]
    pub lease_duration_seconds: Option<i32>,
}

/// A Deployment, StatefulSet or DaemonSet: their specs and statuses share the fields a
/// check reads, by name.
#[derive(Debug, Deserialize)]
pub struct Workload {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: WorkloadSpec,
    /// Status.
    #[serde(default)]
    pub status: WorkloadStatus,
}

/// A workload's spec.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadSpec {
    /// Wanted replicas (Deployment, StatefulSet; default 1).
    #[serde(default)]
    pub replicas: Option<i32>,
    /// The update strategy (StatefulSet, DaemonSet).
    #[serde(default)]
    pub update_strategy: Option<UpdateStrategy>,
}

/// An update strategy.
#[derive(Debug, Deserialize)]
pub struct UpdateStrategy {
    /// `RollingUpdate` or `OnDelete`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

/// A workload's status: Deployment and StatefulSet fields, then DaemonSet's.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WorkloadStatus {
    /// Ready replicas.
    #[serde(default)]
    pub ready_replicas: Option<i32>,
    /// Available replicas.
    #[serde(default)]
    pub available_replicas: Option<i32>,
    /// Replicas on the current template.
    #[serde(default)]
    pub updated_replicas: Option<i32>,
    /// Conditions (Deployment).
    #[serde(default, deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
    /// DaemonSet: nodes that should run it.
    #[serde(default)]
    pub desired_number_scheduled: i32,
    /// DaemonSet: nodes where it is ready.
    #[serde(default)]
    pub number_ready: i32,
    /// DaemonSet: nodes where it is available.
    #[serde(default)]
    pub number_available: Option<i32>,
    /// DaemonSet: nodes on the current template.
    #[serde(default)]
    pub updated_number_scheduled: Option<i32>,
}

/// A Service.
#[derive(Debug, Deserialize)]
pub struct Service {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: ServiceSpec,
}

/// A Service's spec.
#[derive(Debug, Default, Deserialize)]
pub struct ServiceSpec {
    /// `ClusterIP`, `NodePort`, `LoadBalancer` or `ExternalName`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// The pod selector.
    #[serde(default, deserialize_with = "null_default")]
    pub selector: BTreeMap<String, String>,
}

/// An EndpointSlice.
#[derive(Debug, Deserialize)]
pub struct EndpointSlice {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Endpoints.
    #[serde(default, deserialize_with = "null_default")]
    pub endpoints: Vec<Endpoint>,
}

/// One endpoint of a slice.
#[derive(Debug, Deserialize)]
pub struct Endpoint {
    /// Its conditions.
    #[serde(default)]
    pub conditions: Option<EndpointConditions>,
}

/// An endpoint's conditions.
#[derive(Debug, Deserialize)]
pub struct EndpointConditions {
    /// Ready (unset means ready).
    #[serde(default)]
    pub ready: Option<bool>,
}

/// A PersistentVolumeClaim.
#[derive(Debug, Deserialize)]
pub struct Claim {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Status.
    #[serde(default)]
    pub status: PhaseOnly,
}

/// A status with only its phase read.
#[derive(Debug, Default, Deserialize)]
pub struct PhaseOnly {
    /// Phase.
    #[serde(default)]
    pub phase: Option<String>,
}

/// A reference to a Service (APIServices, webhooks).
#[derive(Debug, Deserialize)]
pub struct ServiceReference {
    /// Namespace.
    #[serde(default)]
    pub namespace: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// An APIService.
#[derive(Debug, Deserialize)]
pub struct ApiService {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: ApiServiceSpec,
    /// Status.
    #[serde(default)]
    pub status: ConditionsOnly,
}

/// An APIService's spec.
#[derive(Debug, Default, Deserialize)]
pub struct ApiServiceSpec {
    /// The Service behind it; absent for the API server's own groups.
    #[serde(default)]
    pub service: Option<ServiceReference>,
}

/// A status with only its conditions read.
#[derive(Debug, Default, Deserialize)]
pub struct ConditionsOnly {
    /// Conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub conditions: Vec<Condition>,
}

/// A Validating- or MutatingWebhookConfiguration.
#[derive(Debug, Deserialize)]
pub struct WebhookConfiguration {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Its webhooks.
    #[serde(default, deserialize_with = "null_default")]
    pub webhooks: Vec<AdmissionWebhook>,
}

/// One admission webhook.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AdmissionWebhook {
    /// Name.
    #[serde(default)]
    pub name: String,
    /// `Fail` (the default) or `Ignore`.
    #[serde(default)]
    pub failure_policy: Option<String>,
    /// Where it is called.
    #[serde(default)]
    pub client_config: ClientConfig,
}

/// Where a webhook is called: a Service or a URL.
#[derive(Debug, Default, Deserialize)]
pub struct ClientConfig {
    /// The Service, when it is one.
    #[serde(default)]
    pub service: Option<ServiceReference>,
}

/// A CustomResourceDefinition, as far as its conversion webhook.
#[derive(Debug, Deserialize)]
pub struct Crd {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub spec: CrdSpec,
}

/// A CRD's spec, as far as its conversion webhook.
#[derive(Debug, Default, Deserialize)]
pub struct CrdSpec {
    /// Conversion.
    #[serde(default)]
    pub conversion: Option<CrdConversion>,
}

/// A CRD's conversion.
#[derive(Debug, Deserialize)]
pub struct CrdConversion {
    /// The webhook, when the strategy is `Webhook`.
    #[serde(default)]
    pub webhook: Option<CrdConversionWebhook>,
}

/// A CRD's conversion webhook.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdConversionWebhook {
    /// Where it is called.
    #[serde(default)]
    pub client_config: Option<ClientConfig>,
}

/// A core/v1 Event.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// What it is about.
    #[serde(default)]
    pub involved_object: InvolvedObject,
    /// Reason.
    #[serde(default)]
    pub reason: Option<String>,
    /// Message.
    #[serde(default)]
    pub message: Option<String>,
    /// Count (old-style events).
    #[serde(default)]
    pub count: Option<i32>,
    /// The series (new-style events).
    #[serde(default)]
    pub series: Option<EventSeries>,
    /// Times, newest first in the order they are looked at.
    #[serde(default)]
    pub last_timestamp: Option<DateTime<Utc>>,
    /// The event time (new-style events).
    #[serde(default)]
    pub event_time: Option<DateTime<Utc>>,
    /// The first time (old-style events).
    #[serde(default)]
    pub first_timestamp: Option<DateTime<Utc>>,
}

/// What an event is about.
#[derive(Debug, Default, Deserialize)]
pub struct InvolvedObject {
    /// Kind.
    #[serde(default)]
    pub kind: Option<String>,
    /// Name.
    #[serde(default)]
    pub name: Option<String>,
}

/// An event series.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EventSeries {
    /// Occurrences.
    #[serde(default)]
    pub count: Option<i32>,
    /// The last one.
    #[serde(default)]
    pub last_observed_time: Option<DateTime<Utc>>,
}

/// A Secret, as far as a Helm release in it.
#[derive(Debug, Deserialize)]
pub struct Secret {
    /// Metadata.
    #[serde(default)]
    pub metadata: Meta,
    /// Its type (`helm.sh/release.v1`).
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// Its data, base64 on the wire.
    #[serde(default)]
    pub data: SecretData,
}

/// The one data key read from a Secret.
#[derive(Debug, Default, Deserialize)]
pub struct SecretData {
    /// `release`, still base64 as the API sends it.
    #[serde(default)]
    pub release: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn only_the_last_applied_path_of_managed_fields_is_read() {
        let entry: ManagedFields = serde_json::from_str(
            r#"{"manager":"kubectl","operation":"Update","apiVersion":"apps/v1","time":"2026-11-29T04:00:00Z",
                "fieldsType":"FieldsV1","fieldsV1":{"f:metadata":{"f:annotations":{".":{},
                "f:kubectl.kubernetes.io/last-applied-configuration":{}}},"f:spec":{"f:replicas":{}}}}"#,
        )
        .unwrap();
        assert!(entry.fields.as_ref().is_some_and(FieldsV1::owns_last_applied));
        let other: ManagedFields = serde_json::from_str(
            r#"{"apiVersion":"apps/v1","fieldsV1":{"f:metadata":{"f:labels":{}}}}"#,
        )
        .unwrap();
        assert!(!other.fields.as_ref().is_some_and(FieldsV1::owns_last_applied));
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
