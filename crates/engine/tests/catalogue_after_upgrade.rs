//! The second half of the catalogue against the real test control plane, after a clean
//! 1.36 to 1.37 upgrade with a baseline: a healthy cluster passes with every check on
//! (synthetic pod included, which leaves nothing behind), then each fault fails its item,
//! naming the object, and no other item fails at Fatal level. Each namespaced fault gets its
//! own namespace, ignored by the policy once proven; cluster-scoped faults are deleted.
//! `scripts/test` runs this with `--include-ignored`; it panics when the control plane
//! cannot start.

mod common;

use common::*;
use k8s_openapi::api::admissionregistration::v1::ValidatingWebhookConfiguration;
use k8s_openapi::api::core::v1::{Namespace, Node};
use k8s_openapi::api::flowcontrol::v1::FlowSchema;
use k8s_openapi::kube_aggregator::pkg::apis::apiregistration::v1::APIService;
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use postcheck_engine::synthetic;
use postcheck_model::{ItemPhase, TaskPhase};
use postcheck_testenv::{Fault, NodesToMove, TestCluster};
use serde_json::json;

/// The synthetic check's namespaces still there (terminating ones included).
async fn synthetic_leftovers(cluster: &TestCluster) -> Vec<String> {
    let client = cluster.client().await.unwrap();
    Api::<Namespace>::all(client)
        .list(&ListParams::default().labels(synthetic::LABEL))
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|n| n.metadata.name)
        .collect()
}

/// Waits (up to a minute) until the synthetic check's namespaces are all gone.
async fn assert_no_synthetic_leftovers(cluster: &TestCluster, after: &str) {
    let until = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        let left = synthetic_leftovers(cluster).await;
        if left.is_empty() {
            return;
        }
        assert!(
            std::time::Instant::now() < until,
            "{after}: the synthetic check left {left:?} behind"
        );
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

fn ns(name: &str) -> Option<String> {
    Some(format!("f-{name}"))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn after_a_clean_upgrade_every_check_passes_and_each_fault_fails_only_its_item() {
    let mut cluster = up_on_1_36(4).await;
    let before = baseline(&cluster).await;
    cluster
        .upgrade("1.37", NodesToMove::All)
        .await
        .unwrap_or_else(|e| panic!("upgrading the test cluster to 1.37: {e}"));

    // A leftover of an interrupted earlier run, which the next run sweeps.
    let client = cluster.client().await.unwrap();
    let leftover = json!({ "metadata": { "name": "postcheck-synthetic-leftover", "labels": { synthetic::LABEL: "old" } } });
    Api::<Namespace>::all(client.clone())
        .create(&PostParams::default(), &serde_json::from_value(leftover).unwrap())
        .await
        .unwrap();

    // A healthy cluster with every check on, the synthetic pod included.
    let mut all = policy(&[]);
    all.synthetic.enabled = true;
    let status = judge(&cluster, &before, all).await;
    assert_eq!(status.phase, TaskPhase::Success, "{status:#?}");
    assert!(fatal_failures(&status).is_empty(), "{status:#?}");
    assert_all_ran(&status);
    let synthetic_item = item(&status, "synthetic-pod");
    assert_eq!(synthetic_item.phase, ItemPhase::Success, "{synthetic_item:#?}");
    assert!(
        synthetic_item.message.contains("each of 4 schedulable node(s)"),
        "{}",
        synthetic_item.message
    );
    assert_no_synthetic_leftovers(&cluster, "a passing run and the sweep of an earlier leftover")
        .await;

    let mut proven: Vec<String> = Vec::new();
    let namespaced = [
        (Fault::PodCrashLoop { namespace: ns("crash"), name: None }, "pod-health"),
        (Fault::PodImagePull { namespace: ns("pull"), name: None }, "pod-health"),
        (Fault::PodPending { namespace: ns("pending"), name: None }, "pod-health"),
        (Fault::DeploymentUnavailable { namespace: ns("unavailable"), name: None }, "workloads"),
        (Fault::DaemonSetMissingPod { namespace: ns("daemonset"), name: None }, "workloads"),
        (Fault::ServiceNoEndpoints { namespace: ns("service"), name: None }, "service-endpoints"),
        (Fault::PvcPending { namespace: ns("pvc"), name: None }, "pvc-bound"),
    ];
    for (fault, expected) in namespaced {
        let fault_name = fault.name();
        let target =
            cluster.fault(fault).await.unwrap_or_else(|e| panic!("injecting {fault_name}: {e}"));
        tokio::time::sleep(GRACE + std::time::Duration::from_secs(1)).await;
        let status = judge(&cluster, &before, policy(&proven)).await;
        let (kind, name) = named(&target);
        assert_only_fatal(&status, expected, kind, name);
        proven
            .push(target.namespace.clone().unwrap_or_else(|| panic!("{fault_name} is namespaced")));
    }

    // A Helm release rendering a policy/v1beta1 PodDisruptionBudget.
    let target = cluster
        .fault(Fault::HelmReleaseRemovedApi {
            namespace: ns("helm"),
            name: Some("legacy-pdb".into()),
        })
        .await
        .unwrap();
    let status = judge(&cluster, &before, policy(&proven)).await;
    assert_only_fatal(&status, "removed-apis", "HelmRelease", "legacy-pdb");
    proven.push(target.namespace.clone().unwrap());

    // A FlowSchema last applied as v1beta3 is found; one applied through v1 is not.
    let flow_schemas: Api<FlowSchema> = Api::all(client.clone());
    let spec = json!({ "priorityLevelConfiguration": { "name": "workload-low" }, "matchingPrecedence": 9001 });
    let modern = json!({ "apiVersion": "flowcontrol.apiserver.k8s.io/v1", "kind": "FlowSchema", "metadata": { "name": "modern-batch-jobs" }, "spec": spec });
    let mut created = modern.clone();
    created["metadata"]["annotations"] =
        json!({ "kubectl.kubernetes.io/last-applied-configuration": modern.to_string() });
    flow_schemas
        .create(&PostParams::default(), &serde_json::from_value(created).unwrap())
        .await
        .unwrap();
    let target =
        cluster.fault(Fault::RemovedApiLastApplied { namespace: None, name: None }).await.unwrap();
    let status = judge(&cluster, &before, policy(&proven)).await;
    assert_only_fatal(&status, "removed-apis", "FlowSchema", &target.name);
    let removed = item(&status, "removed-apis");
    assert_eq!(removed.evidence.len(), 1, "only the v1beta3 FlowSchema: {removed:#?}");
    assert!(
        removed.evidence[0].reason.contains("flowcontrol.apiserver.k8s.io/v1beta3")
            && removed.evidence[0].reason.contains("1.32"),
        "{removed:#?}"
    );
    flow_schemas.delete(&target.name, &DeleteParams::default()).await.unwrap();

    // An APIService whose Service has no endpoint.
    let target = cluster
        .fault(Fault::ApiServiceUnavailable { namespace: ns("apiservice"), name: None })
        .await
        .unwrap();
    let status = judge(&cluster, &before, policy(&proven)).await;
    assert_only_fatal(&status, "apiservices", "APIService", &target.name);
    Api::<APIService>::all(client.clone())
        .delete(&target.name, &DeleteParams::default())
        .await
        .unwrap();
    proven.push("f-apiservice".into());

    // A failurePolicy: Fail webhook whose Service has no endpoint.
    let target = cluster
        .fault(Fault::WebhookNoEndpoints { namespace: ns("webhook"), name: None })
        .await
        .unwrap();
    let status = judge(&cluster, &before, policy(&proven)).await;
    let (kind, name) = named(&target);
    assert_only_fatal(&status, "webhooks", kind, name);
    Api::<ValidatingWebhookConfiguration>::all(client.clone())
        .delete(&target.name, &DeleteParams::default())
        .await
        .unwrap();

    // A node nothing runs pods on (kwok does not manage it): the synthetic pod fails naming it.
    let nodes: Api<Node> = Api::all(client.clone());
    nodes
        .create(
            &PostParams::default(),
            &serde_json::from_value(json!({ "metadata": { "name": "orphan-node" } })).unwrap(),
        )
        .await
        .unwrap();
    let mut only_synthetic = policy(&proven);
    only_synthetic.synthetic.enabled = true;
    only_synthetic.checks.only = vec!["synthetic-pod".into()];
    let status = judge(&cluster, &before, only_synthetic).await;
    assert_eq!(status.phase, TaskPhase::Failed, "{status:#?}");
    let synthetic_item = item(&status, "synthetic-pod");
    assert_eq!(
        synthetic_item.evidence.iter().map(|e| e.name.as_str()).collect::<Vec<_>>(),
        ["orphan-node"],
        "{synthetic_item:#?}"
    );
    assert_eq!(
        synthetic_leftovers(&cluster).await,
        Vec::<String>::new(),
        "the failed synthetic check left something behind"
    );

    // Interrupted while waiting for the orphan node: what it made is deleted all the same.
    let interrupted =
        tokio::time::timeout(std::time::Duration::from_secs(5), synthetic::run(&client)).await;
    assert!(
        interrupted.is_err(),
        "the run should still be waiting for orphan-node: {interrupted:?}"
    );
    assert_no_synthetic_leftovers(&cluster, "an interrupted run").await;
    nodes.delete("orphan-node", &DeleteParams::default()).await.unwrap();

    cluster.down().await.unwrap();
}
