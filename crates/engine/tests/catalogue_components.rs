//! The cluster's own components judged as components, and the "healthy but unusual"
//! cluster, on the real test control plane (issue 12): after a clean 1.36 to 1.37 upgrade,
//! the cluster DNS Deployment scaled to zero, or a CNI-like DaemonSet in kube-system whose
//! pods are gone from some of its nodes, fails `system-pods` naming the workload; a cluster
//! holding only states Kubernetes documents as normal (testenv's `ObjectSet::Unusual`)
//! passes before and after the upgrade, with and without a baseline. `scripts/test` runs
//! these with `--include-ignored`; they panic when the control plane cannot start.

mod common;

use std::time::Duration;

use common::*;
use postcheck_engine::{CheckRequest, CheckSpec, Policy};
use postcheck_model::{ItemPhase, Level, TaskPhase, TaskStatus};
use postcheck_testenv::{Fault, ObjectSet, TestCluster};

/// Runs every check without a baseline, for `spec`.
async fn judge_alone(cluster: &TestCluster, spec: CheckSpec, policy: Policy) -> TaskStatus {
    let client = cluster.client().await.unwrap();
    let mut request = CheckRequest::new(spec, Duration::from_secs(240));
    request.policy = policy;
    postcheck_engine::check(client, &request).await
}

async fn upgraded_with_baseline() -> (TestCluster, postcheck_engine::Snapshot) {
    let mut cluster = up_on_1_36(4).await;
    let before = baseline(&cluster).await;
    upgrade_to_1_37(&mut cluster).await;
    (cluster, before)
}

fn assert_component_fatal(status: &TaskStatus, kind: &str, name: &str) {
    assert_eq!(status.phase, TaskPhase::Failed, "{status:#?}");
    let item = item(status, "system-pods");
    assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Fatal), "{item:#?}");
    assert_names(item, kind, name);
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn dns_scaled_to_zero_after_the_upgrade_fails_system_pods_naming_it() {
    let (cluster, before) = upgraded_with_baseline().await;
    let target = cluster
        .fault(Fault::DnsScaledToZero { namespace: None, name: None })
        .await
        .unwrap_or_else(|e| panic!("scaling DNS to zero: {e}"));
    let (kind, name) = named(&target);
    let with = judge(&cluster, &before, policy(&[])).await;
    assert_component_fatal(&with, kind, name);
    assert_names(item(&with, "system-pods"), "Service", "kube-dns");
    // The cluster DNS Service without a ready endpoint is Fatal without a baseline too.
    let alone = judge_alone(&cluster, spec(), policy(&[])).await;
    assert_component_fatal(&alone, kind, name);
    assert_names(item(&alone, "system-pods"), "Service", "kube-dns");
    cluster.down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_cni_daemonset_missing_pods_after_the_upgrade_fails_system_pods_naming_it() {
    let (cluster, before) = upgraded_with_baseline().await;
    let target = cluster
        .fault(Fault::CniDaemonSetMissingPods { namespace: None, name: None })
        .await
        .unwrap_or_else(|e| panic!("taking the CNI's pods away: {e}"));
    let (kind, name) = named(&target);
    let status = judge(&cluster, &before, policy(&[])).await;
    assert_component_fatal(&status, kind, name);
    cluster.down().await.unwrap();
}

fn assert_clean(status: &TaskStatus, when: &str) {
    assert!(fatal_failures(status).is_empty(), "{when}: {status:#?}");
    assert_all_ran(status);
    assert_eq!(status.phase, TaskPhase::Success, "{when}: {status:#?}");
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn the_healthy_but_unusual_cluster_passes_before_and_after_a_clean_upgrade() {
    let mut cluster = up_on_1_36(4).await;
    cluster.apply(ObjectSet::Unusual).await.unwrap_or_else(|e| panic!("the unusual set: {e}"));
    let on_1_36 = CheckSpec { source: None, target: Some("v1.36".parse().unwrap()) };
    assert_clean(&judge_alone(&cluster, on_1_36, policy(&[])).await, "before, no baseline");
    let before = baseline(&cluster).await;
    upgrade_to_1_37(&mut cluster).await;
    assert_clean(&judge(&cluster, &before, policy(&[])).await, "after, with a baseline");
    assert_clean(&judge_alone(&cluster, spec(), policy(&[])).await, "after, no baseline");
    cluster.down().await.unwrap();
}
