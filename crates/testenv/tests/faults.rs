//! Every fault, each shown in its faulty state as read back from the API. The faults share
//! one cluster (they create their own objects, and node faults target different nodes), so
//! this binary starts the control plane once.

use std::io::Read;

use base64::Engine;
use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::core::v1::{ConfigMap, Node, PersistentVolumeClaim, Pod, Secret, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use k8s_openapi::api::policy::v1::PodDisruptionBudget;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::Api;
use kube::api::{ListParams, PostParams};
use postcheck_testenv::{Fault, FaultTarget, TestCluster, UpOptions};
use tokio::sync::OnceCell;

/// Eight nodes: kwok-node-0 for the DaemonSet fault, 0 and 1 for the CNI one, 2..=7 for one
/// node fault each.
const NODES: usize = 8;

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
    // The aggregator says EndpointsNotFound until the endpoints controller has written the
    // Service's (empty) Endpoints, then MissingEndpoints: the settled reason is awaited.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    let available = loop {
        let api = Api::<APIService>::all(client.clone()).get(&target.name).await.unwrap();
        let available = api
            .status
            .unwrap()
            .conditions
            .unwrap()
            .into_iter()
            .find(|c| c.type_ == "Available")
            .unwrap();
        if available.reason.as_deref() == Some("MissingEndpoints")
            || std::time::Instant::now() > deadline
        {
            break available;
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    };
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

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn dns_scaled_to_zero_leaves_kube_dns_without_endpoints() {
    let (client, target) = inject(Fault::DnsScaledToZero { namespace: None, name: None }).await;
    assert_eq!(target.to_string(), "Deployment kube-system/coredns");
    let d =
        Api::<Deployment>::namespaced(client.clone(), "kube-system").get("coredns").await.unwrap();
    assert_eq!(d.spec.unwrap().replicas, Some(0));
    assert_eq!(d.status.unwrap().replicas.unwrap_or(0), 0);
    let pods = Api::<Pod>::namespaced(client.clone(), "kube-system")
        .list(&ListParams::default().labels("k8s-app=kube-dns"))
        .await
        .unwrap();
    assert!(pods.items.is_empty(), "DNS pods left: {}", pods.items.len());
    // The Service stays, still selecting the DNS pods, with no endpoint.
    let svc =
        Api::<Service>::namespaced(client.clone(), "kube-system").get("kube-dns").await.unwrap();
    assert!(svc.spec.unwrap().selector.unwrap().contains_key("k8s-app"));
    let slices = Api::<EndpointSlice>::namespaced(client.clone(), "kube-system")
        .list(&ListParams::default().labels("kubernetes.io/service-name=kube-dns"))
        .await
        .unwrap();
    assert!(!slices.items.is_empty());
    assert!(slices.items.iter().all(|s| s.endpoints.as_ref().is_none_or(Vec::is_empty)));
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn cni_daemonset_misses_its_pods_on_some_of_the_nodes_it_selects() {
    let (client, target) =
        inject(Fault::CniDaemonSetMissingPods { namespace: None, name: None }).await;
    assert_eq!(target.to_string(), "DaemonSet kube-system/calico-node");
    let missing = postcheck_testenv::cni_missing_nodes(NODES);
    assert_eq!(missing, vec!["kwok-node-0".to_string(), "kwok-node-1".to_string()]);
    let ds = Api::<DaemonSet>::namespaced(client.clone(), "kube-system")
        .get("calico-node")
        .await
        .unwrap();
    let selector = ds.spec.as_ref().unwrap().template.spec.as_ref().unwrap().node_selector.clone();
    assert_eq!(selector.unwrap()["kubernetes.io/os"], "linux", "it selects every Linux node");
    let status = ds.status.unwrap();
    assert_eq!(status.desired_number_scheduled, NODES as i32, "{status:?}");
    assert!(status.current_number_scheduled <= NODES as i32 - 2, "{status:?}");
    assert!(status.number_unavailable.unwrap_or(0) >= 2, "{status:?}");
    let pods = Api::<Pod>::namespaced(client.clone(), "kube-system")
        .list(&ListParams::default().labels("k8s-app=calico-node"))
        .await
        .unwrap();
    let on = |node: &str| {
        pods.items.iter().any(|p| {
            p.spec.as_ref().unwrap().node_name.as_deref() == Some(node)
                || serde_json::to_string(&p.spec).unwrap().contains(&format!("\"{node}\""))
        })
    };
    assert!(!on("kwok-node-0") && !on("kwok-node-1"), "no CNI pod on the first two nodes");
    assert!(on("kwok-node-3"), "the other nodes keep theirs");
    // The DaemonSet controller tried and was refused, as it says in its events.
    let events =
        Api::<k8s_openapi::api::core::v1::Event>::namespaced(client.clone(), "kube-system")
            .list(
                &ListParams::default()
                    .fields("involvedObject.name=calico-node,reason=FailedCreate"),
            )
            .await
            .unwrap();
    assert!(!events.items.is_empty());
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn node_kubelet_skew_at_target_reports_three_minors_behind() {
    let (client, _) = inject(Fault::NodeKubeletSkewAtTarget { node: node_fault(7) }).await;
    let info = get_node(&client, "kwok-node-7").await.status.unwrap().node_info.unwrap();
    assert_eq!(info.kubelet_version, "v1.33.0", "1.36 - 3: allowed today, not by 1.37");
    assert_eq!(info.kube_proxy_version, "v1.33.0");
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let info = get_node(&client, "kwok-node-7").await.status.unwrap().node_info.unwrap();
    assert_eq!(info.kubelet_version, "v1.33.0", "kwok leaves it as set");
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn pdb_allowing_no_disruption_refuses_an_eviction() {
    let (client, target) = inject(Fault::PdbNoDisruption { namespace: None, name: None }).await;
    assert_eq!(target.to_string(), "PodDisruptionBudget faults/ledger");
    let pdb = Api::<PodDisruptionBudget>::namespaced(client.clone(), "faults")
        .get("ledger")
        .await
        .unwrap();
    let status = pdb.status.unwrap();
    assert_eq!((status.disruptions_allowed, status.current_healthy), (Some(0), Some(2)));
    // kube's client retries a 429 for minutes by default (RetryPolicy::server_retry); an
    // eviction refused by a PDB answers 429, so ask once.
    let kubeconfig =
        kube::config::Kubeconfig::read_from(cluster().await.kubeconfig_path()).unwrap();
    let mut config =
        kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await.unwrap();
    config.default_retry = false;
    let once = kube::Client::try_from(config).unwrap();
    let pods = Api::<Pod>::namespaced(once, "faults");
    let pod = pods.list(&ListParams::default().labels("app=ledger")).await.unwrap().items[0]
        .metadata
        .name
        .clone()
        .unwrap();
    match pods.evict(&pod, &Default::default()).await {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 429, "{}", e.message),
        other => panic!("the eviction of {pod} was not refused: {other:?}"),
    }
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn crd_stores_a_version_it_no_longer_serves() {
    let (client, target) = inject(Fault::CrdStoredVersionNotServed { name: None }).await;
    assert_eq!(target.to_string(), "CustomResourceDefinition snapshots.faults.postcheck.dev");
    let crd = Api::<CustomResourceDefinition>::all(client.clone()).get(&target.name).await.unwrap();
    let stored = crd.status.unwrap().stored_versions.unwrap();
    assert!(stored.contains(&"v1alpha1".to_string()), "{stored:?}");
    let v1alpha1 = crd.spec.versions.iter().find(|v| v.name == "v1alpha1").unwrap();
    assert!(!v1alpha1.served && !v1alpha1.storage);
    // The API server no longer answers on it; v1 reads the object stored through it.
    let get = |version: &str| {
        http::Request::get(format!(
            "/apis/faults.postcheck.dev/{version}/namespaces/faults/snapshots/nightly"
        ))
        .body(Vec::new())
        .unwrap()
    };
    match client.request_text(get("v1alpha1")).await {
        Err(kube::Error::Api(e)) => assert_eq!(e.code, 404),
        other => panic!("v1alpha1 still served: {other:?}"),
    }
    assert!(client.request_text(get("v1")).await.unwrap().contains("\"nightly\""));
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn deprecated_api_client_shows_in_the_api_servers_metrics() {
    let cluster = cluster().await;
    let client = cluster.client().await.unwrap();
    let metrics = || async {
        let request = http::Request::get("/metrics").body(Vec::new()).unwrap();
        client.request_text(request).await.unwrap()
    };
    let want = postcheck_testenv::deprecated_metric_line("widgets");
    let counted = |text: &str| text.lines().any(|l| want.iter().all(|p| l.contains(p)));
    assert!(!counted(&metrics().await), "counted before any client called it");
    let target = cluster.fault(Fault::DeprecatedApiClient { name: None }).await.unwrap();
    assert_eq!(target.to_string(), "CustomResourceDefinition widgets.faults.postcheck.dev");
    let text = metrics().await;
    let line = text.lines().find(|l| want.iter().all(|p| l.contains(p))).unwrap();
    assert!(line.ends_with(" 1"), "{line}");
    assert!(line.contains("removed_release=\"\""), "{line}");
    let crd = Api::<CustomResourceDefinition>::all(client.clone()).get(&target.name).await.unwrap();
    let v1beta1 = crd.spec.versions.iter().find(|v| v.name == "v1beta1").unwrap();
    assert_eq!(v1beta1.deprecated, Some(true));
    // Also seen: does the API server count core/v1 Endpoints (deprecated in 1.33) here?
    let request =
        http::Request::get("/api/v1/namespaces/default/endpoints").body(Vec::new()).unwrap();
    client.request_text(request).await.unwrap();
    let endpoints = metrics()
        .await
        .lines()
        .filter(|l| l.starts_with("apiserver_requested_deprecated_apis{"))
        .map(str::to_string)
        .collect::<Vec<_>>();
    eprintln!("apiserver_requested_deprecated_apis after listing v1 Endpoints: {endpoints:#?}");
}
