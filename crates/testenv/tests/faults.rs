//! Every fault, each shown in its faulty state as read back from the API. The faults share
//! one cluster (they create their own objects, and node faults target different nodes), so
//! this binary starts the control plane once.

use std::io::Read;

use base64::Engine;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Node, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use kube::api::{ListParams, PostParams};
use postcheck_testenv::{Fault, FaultTarget, TestCluster, UpOptions};
use tokio::sync::OnceCell;

/// Seven nodes: kwok-node-0 for the DaemonSet fault, 2..=6 for one node fault each.
const NODES: usize = 7;

static CLUSTER: OnceCell<TestCluster> = OnceCell::const_new();

async fn cluster() -> &'static TestCluster {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    CLUSTER
        .get_or_init(|| async {
            TestCluster::up(UpOptions { version: "1.36".into(), nodes: NODES, state_dir: None })
                .await
                .unwrap_or_else(|e| panic!("the control plane must start (are the binaries built? scripts/k8s-binaries): {e}"))
        })
        .await
}

async fn inject(fault: Fault) -> (kube::Client, FaultTarget) {
    let cluster = cluster().await;
    let name = fault.name();
    let target = cluster.fault(fault).await.unwrap_or_else(|e| panic!("injecting {name}: {e}"));
    (cluster.client().await.unwrap(), target)
}

fn node_fault(node: usize) -> Option<String> {
    Some(format!("kwok-node-{node}"))
}

async fn get_node(client: &kube::Client, name: &str) -> Node {
    Api::<Node>::all(client.clone()).get(name).await.unwrap()
}

fn condition(node: &Node, kind: &str) -> (String, Option<String>) {
    let c = node
        .status
        .as_ref()
        .unwrap()
        .conditions
        .as_ref()
        .unwrap()
        .iter()
        .find(|c| c.type_ == kind)
        .unwrap();
    (c.status.clone(), c.reason.clone())
}

async fn pod(client: &kube::Client, target: &FaultTarget) -> Pod {
    assert_eq!(target.kind, "Pod");
    Api::<Pod>::namespaced(client.clone(), target.namespace.as_deref().unwrap())
        .get(&target.name)
        .await
        .unwrap()
}

fn waiting_reason(pod: &Pod) -> Option<String> {
    pod.status
        .as_ref()?
        .container_statuses
        .as_ref()?
        .first()?
        .state
        .as_ref()?
        .waiting
        .as_ref()?
        .reason
        .clone()
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn node_not_ready_when_its_kubelet_stops_renewing_the_lease() {
    let (client, target) = inject(Fault::NodeNotReady { node: node_fault(6) }).await;
    assert_eq!((target.kind.as_str(), target.name.as_str()), ("Node", "kwok-node-6"));
    let node = get_node(&client, "kwok-node-6").await;
    let (status, reason) = condition(&node, "Ready");
    assert_eq!(status, "Unknown", "the node-lifecycle controller marks a silent node Unknown");
    assert_eq!(reason.as_deref(), Some("NodeStatusUnknown"));
    // The other nodes keep their heartbeats.
    assert_eq!(condition(&get_node(&client, "kwok-node-1").await, "Ready").0, "True");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn node_cordoned_is_unschedulable_and_tainted_by_the_controller() {
    let (client, _) = inject(Fault::NodeCordoned { node: node_fault(5) }).await;
    let node = get_node(&client, "kwok-node-5").await;
    let spec = node.spec.unwrap();
    assert_eq!(spec.unschedulable, Some(true));
    assert!(
        spec.taints
            .unwrap()
            .iter()
            .any(|t| t.key == "node.kubernetes.io/unschedulable" && t.effect == "NoSchedule")
    );
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn node_old_kubelet_reports_the_previous_minor() {
    let (client, _) = inject(Fault::NodeOldKubelet { node: node_fault(4) }).await;
    let info = |n: Node| n.status.unwrap().node_info.unwrap();
    let old = info(get_node(&client, "kwok-node-4").await);
    assert_eq!(old.kubelet_version, "v1.35.0");
    assert_eq!(old.kube_proxy_version, "v1.35.0");
    // Still so a few seconds later: kwok does not write nodeInfo back.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    assert_eq!(info(get_node(&client, "kwok-node-4").await).kubelet_version, "v1.35.0");
    assert!(info(get_node(&client, "kwok-node-1").await).kubelet_version.starts_with("v1.36."));
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn node_lost_label_has_no_zone_any_more() {
    let (client, _) = inject(Fault::NodeLostLabel { node: node_fault(3) }).await;
    let labels = get_node(&client, "kwok-node-3").await.metadata.labels.unwrap();
    assert!(!labels.contains_key("topology.kubernetes.io/zone"), "labels: {labels:?}");
    assert!(labels.contains_key("kubernetes.io/hostname"), "only the one label went");
    assert!(
        get_node(&client, "kwok-node-1")
            .await
            .metadata
            .labels
            .unwrap()
            .contains_key("topology.kubernetes.io/zone")
    );
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn node_new_taint_adds_a_no_schedule_taint() {
    let (client, _) = inject(Fault::NodeNewTaint { node: node_fault(2) }).await;
    let taints = get_node(&client, "kwok-node-2").await.spec.unwrap().taints.unwrap();
    assert!(
        taints.iter().any(|t| t.key == "faults.postcheck.dev/injected" && t.effect == "NoSchedule"),
        "taints: {taints:?}"
    );
    assert!(taints.iter().any(|t| t.key == "kwok.x-k8s.io/node"), "the node's own taint stays");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn pod_crash_loop_waits_in_crash_loop_back_off() {
    let (client, target) = inject(Fault::PodCrashLoop { namespace: None, name: None }).await;
    let pod = pod(&client, &target).await;
    assert_eq!(waiting_reason(&pod).as_deref(), Some("CrashLoopBackOff"));
    let status = pod.status.unwrap();
    let container = &status.container_statuses.unwrap()[0];
    assert!(container.restart_count > 0);
    assert_eq!(container.last_state.as_ref().unwrap().terminated.as_ref().unwrap().exit_code, 1);
    assert!(!container.ready);
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn pod_image_pull_waits_in_image_pull_back_off() {
    let (client, target) = inject(Fault::PodImagePull { namespace: None, name: None }).await;
    let pod = pod(&client, &target).await;
    assert_eq!(waiting_reason(&pod).as_deref(), Some("ImagePullBackOff"));
    assert_eq!(pod.status.unwrap().phase.as_deref(), Some("Pending"));
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn pod_pending_is_unschedulable() {
    let (client, target) = inject(Fault::PodPending { namespace: None, name: None }).await;
    let status = pod(&client, &target).await.status.unwrap();
    assert_eq!(status.phase.as_deref(), Some("Pending"));
    let scheduled =
        status.conditions.unwrap().into_iter().find(|c| c.type_ == "PodScheduled").unwrap();
    assert_eq!(
        (scheduled.status.as_str(), scheduled.reason.as_deref()),
        ("False", Some("Unschedulable"))
    );
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn deployment_unavailable_has_no_available_replica() {
    let (client, target) =
        inject(Fault::DeploymentUnavailable { namespace: None, name: None }).await;
    assert_eq!(target.kind, "Deployment");
    let d =
        Api::<Deployment>::namespaced(client.clone(), "faults").get(&target.name).await.unwrap();
    let status = d.status.unwrap();
    assert_eq!(status.unavailable_replicas, Some(2));
    assert_eq!(status.available_replicas.unwrap_or(0), 0);
    let available =
        status.conditions.unwrap().into_iter().find(|c| c.type_ == "Available").unwrap();
    assert_eq!(available.status, "False");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn daemonset_missing_pod_on_the_node_whose_port_is_taken() {
    let (client, target) = inject(Fault::DaemonSetMissingPod { namespace: None, name: None }).await;
    assert_eq!(target.kind, "DaemonSet");
    let ds =
        Api::<DaemonSet>::namespaced(client.clone(), "faults").get(&target.name).await.unwrap();
    let status = ds.status.unwrap();
    assert!(status.number_ready < status.desired_number_scheduled, "{status:?}");
    assert!(status.number_unavailable.unwrap_or(0) >= 1);
    let pods = Api::<Pod>::namespaced(client.clone(), "faults")
        .list(&ListParams::default().labels(&format!("app={}", target.name)))
        .await
        .unwrap();
    let pending: Vec<&Pod> = pods
        .items
        .iter()
        .filter(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Pending"))
        .collect();
    assert!(!pending.is_empty(), "the pod meant for kwok-node-0 stays Pending");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn service_no_endpoints_after_its_pods_went_away() {
    let (client, target) = inject(Fault::ServiceNoEndpoints { namespace: None, name: None }).await;
    assert_eq!(target.kind, "Service");
    let svc = Api::<Service>::namespaced(client.clone(), "faults").get(&target.name).await.unwrap();
    assert!(svc.spec.unwrap().selector.is_some_and(|s| !s.is_empty()), "it still selects pods");
    let slices = Api::<EndpointSlice>::namespaced(client.clone(), "faults")
        .list(&ListParams::default().labels(&format!("kubernetes.io/service-name={}", target.name)))
        .await
        .unwrap();
    let endpoints: usize =
        slices.items.iter().map(|s| s.endpoints.as_ref().map_or(0, Vec::len)).sum();
    assert_eq!(endpoints, 0);
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn pvc_pending_when_no_pv_matches() {
    let (client, target) = inject(Fault::PvcPending { namespace: None, name: None }).await;
    let pvc = Api::<PersistentVolumeClaim>::namespaced(client.clone(), "faults")
        .get(&target.name)
        .await
        .unwrap();
    assert_eq!(pvc.status.unwrap().phase.as_deref(), Some("Pending"));
    assert!(pvc.spec.unwrap().volume_name.is_none());
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn apiservice_unavailable_is_marked_by_the_aggregator() {
    let (client, target) =
        inject(Fault::ApiServiceUnavailable { namespace: None, name: None }).await;
    let api = Api::<APIService>::all(client.clone()).get(&target.name).await.unwrap();
    let available = api
        .status
        .unwrap()
        .conditions
        .unwrap()
        .into_iter()
        .find(|c| c.type_ == "Available")
        .unwrap();
    assert_eq!(available.status, "False");
    assert_eq!(available.reason.as_deref(), Some("MissingEndpoints"));
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn webhook_without_endpoints_blocks_writes_only_in_its_scope() {
    let (client, target) = inject(Fault::WebhookNoEndpoints { namespace: None, name: None }).await;
    assert_eq!(target.kind, "ValidatingWebhookConfiguration");
    let probe: ConfigMap =
        serde_json::from_value(serde_json::json!({ "metadata": { "name": "probe" } })).unwrap();
    let dry_run = PostParams { dry_run: true, ..Default::default() };
    let refused = Api::<ConfigMap>::namespaced(client.clone(), "faults-webhook-target")
        .create(&dry_run, &probe)
        .await;
    match refused {
        Err(kube::Error::Api(e)) => {
            assert!(e.message.contains("failed calling webhook"), "{}", e.message)
        }
        other => panic!("a ConfigMap in the webhook's namespace was not refused: {other:?}"),
    }
    // Out of its scope, writes go through: the cluster itself is not broken.
    Api::<ConfigMap>::namespaced(client.clone(), "shop")
        .create(&dry_run, &probe)
        .await
        .expect("writes elsewhere still work");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn removed_api_in_last_applied_configuration() {
    let (client, target) =
        inject(Fault::RemovedApiLastApplied { namespace: None, name: None }).await;
    assert_eq!(target.kind, "FlowSchema");
    let fs = Api::<FlowSchema>::all(client.clone()).get(&target.name).await.unwrap();
    let applied =
        fs.metadata.annotations.unwrap()["kubectl.kubernetes.io/last-applied-configuration"]
            .clone();
    let applied: serde_json::Value = serde_json::from_str(&applied).unwrap();
    assert_eq!(applied["apiVersion"], "flowcontrol.apiserver.k8s.io/v1beta3");
    assert_eq!(applied["kind"], "FlowSchema");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn helm_release_secret_holds_a_manifest_on_a_removed_api() {
    let (client, target) =
        inject(Fault::HelmReleaseRemovedApi { namespace: None, name: None }).await;
    let secret =
        Api::<Secret>::namespaced(client.clone(), "faults").get(&target.name).await.unwrap();
    assert_eq!(secret.type_.as_deref(), Some("helm.sh/release.v1"));
    assert_eq!(secret.metadata.labels.as_ref().unwrap()["owner"], "helm");
    // data.release is base64(gzip(JSON)), as Helm stores it.
    let stored = &secret.data.unwrap()["release"].0;
    let gz = base64::engine::general_purpose::STANDARD.decode(stored).unwrap();
    let mut json = String::new();
    flate2::read::GzDecoder::new(&gz[..]).read_to_string(&mut json).unwrap();
    let release: serde_json::Value = serde_json::from_str(&json).unwrap();
    let manifest = release["manifest"].as_str().unwrap();
    assert!(
        manifest.contains("apiVersion: policy/v1beta1\nkind: PodDisruptionBudget"),
        "{manifest}"
    );
}
