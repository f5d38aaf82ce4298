//! The "healthy but unusual" set: each object shows the state it is there for, read back
//! from the API, and still does after a real upgrade to 1.37.

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment};
use k8s_openapi::api::batch::v1::{CronJob, Job};
use k8s_openapi::api::core::v1::{PersistentVolumeClaim, Pod, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use kube::Api;
use kube::api::ListParams;
use postcheck_testenv::{NodesToMove, ObjectSet, TestCluster, UpOptions};

async fn assert_unusual_states(client: &kube::Client) {
    let ns = "unusual";
    let pvc = Api::<PersistentVolumeClaim>::namespaced(client.clone(), ns)
        .get("awaiting-first-consumer")
        .await
        .unwrap();
    assert_eq!(pvc.status.unwrap().phase.as_deref(), Some("Pending"));
    let job = Api::<Job>::namespaced(client.clone(), ns).get("nightly-report").await.unwrap();
    assert_eq!(job.status.as_ref().unwrap().succeeded, Some(1));
    let pods = Api::<Pod>::namespaced(client.clone(), ns)
        .list(&ListParams::default().labels("job-name=nightly-report"))
        .await
        .unwrap();
    assert!(
        pods.items.iter().all(|p| p.status.as_ref().unwrap().phase.as_deref() == Some("Succeeded"))
    );
    assert_eq!(pods.items.len(), 1);
    let standby =
        Api::<Deployment>::namespaced(client.clone(), ns).get("standby-worker").await.unwrap();
    assert_eq!(standby.spec.unwrap().replicas, Some(0));
    let services =
        Api::<Service>::namespaced(client.clone(), ns).list(&Default::default()).await.unwrap();
    assert!(
        services.items.iter().all(|s| s
            .spec
            .as_ref()
            .and_then(|s| s.selector.as_ref())
            .is_none_or(|sel| sel.get("app").map(String::as_str) != Some("standby-worker"))),
        "no Service selects the standby Deployment"
    );
    let gpu =
        Api::<DaemonSet>::namespaced(client.clone(), ns).get("gpu-device-plugin").await.unwrap();
    assert_eq!(gpu.status.unwrap().desired_number_scheduled, 0);
    let legacy = Api::<Service>::namespaced(client.clone(), ns).get("legacy-db").await.unwrap();
    assert_eq!(legacy.spec.unwrap().type_.as_deref(), Some("ExternalName"));
    let metrics =
        Api::<Service>::namespaced(client.clone(), ns).get("external-metrics").await.unwrap();
    assert!(metrics.spec.unwrap().selector.is_none());
    let slice = Api::<EndpointSlice>::namespaced(client.clone(), ns)
        .get("external-metrics-1")
        .await
        .unwrap();
    assert_eq!(slice.endpoints.unwrap()[0].addresses, vec!["10.250.0.10".to_string()]);
    let cron =
        Api::<CronJob>::namespaced(client.clone(), ns).get("quarterly-cleanup").await.unwrap();
    assert_eq!(cron.spec.suspend, Some(true));
    assert!(cron.status.and_then(|s| s.last_schedule_time).is_none());
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn the_unusual_set_holds_its_states_before_and_after_an_upgrade() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut cluster =
        TestCluster::up(UpOptions { version: "1.36".into(), nodes: 3, state_dir: None })
            .await
            .unwrap_or_else(|e| panic!("the control plane must start: {e}"));
    let started = std::time::Instant::now();
    let objects = cluster.apply(ObjectSet::Unusual).await.unwrap();
    eprintln!("the unusual set took {:.1}s", started.elapsed().as_secs_f64());
    let names: Vec<String> = objects.iter().map(ToString::to_string).collect();
    for expected in [
        "PersistentVolumeClaim unusual/awaiting-first-consumer",
        "Job unusual/nightly-report",
        "Deployment unusual/standby-worker",
        "DaemonSet unusual/gpu-device-plugin",
        "Service unusual/legacy-db",
        "Service unusual/external-metrics",
        "EndpointSlice unusual/external-metrics-1",
        "ValidatingWebhookConfiguration unusual-optional-audit",
        "CronJob unusual/quarterly-cleanup",
    ] {
        assert!(names.iter().any(|n| n == expected), "{expected} missing from {names:?}");
    }
    let client = cluster.client().await.unwrap();
    assert_unusual_states(&client).await;
    // The Ignore webhook was called and failed open (it has no endpoint).
    let request = http::Request::get("/metrics").body(Vec::new()).unwrap();
    let text = client.request_text(request).await.unwrap();
    assert!(
        text.lines().any(|l| l.starts_with("apiserver_admission_webhook_fail_open_count{")
            && l.contains("audit.unusual.postcheck.dev")),
        "the API server counted no fail-open call of the Ignore webhook"
    );
    // The starting set is untouched by it.
    assert!(cluster.unavailable().await.unwrap().is_empty());

    cluster.upgrade("1.37", NodesToMove::All).await.unwrap();
    let client = cluster.client().await.unwrap();
    assert_unusual_states(&client).await;
    assert!(cluster.unavailable().await.unwrap().is_empty());
    cluster.down().await.unwrap();
}
