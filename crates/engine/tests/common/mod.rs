//! What the engine's real-cluster tests share: starting the test control plane (panicking
//! loudly when it cannot), judging it with the library, and asserting on items.

#![allow(dead_code, unreachable_pub)] // shared by several test binaries, each using a part

use std::time::Duration;

use postcheck_engine::{CheckRequest, CheckSpec, Policy, Snapshot};
use postcheck_model::{CheckItem, ItemPhase, Level, TaskPhase, TaskStatus};
use postcheck_testenv::{FaultTarget, TestCluster, UpOptions};

/// How long a pod may stay Pending in these tests (the faults make pods Pending at once).
pub const GRACE: Duration = Duration::from_secs(3);

/// A 1.36 cluster with `nodes` kwok nodes.
pub async fn up_on_1_36(nodes: usize) -> TestCluster {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    TestCluster::up(UpOptions { version: "1.36".into(), nodes, state_dir: None })
        .await
        .unwrap_or_else(|e| panic!("the test control plane could not start (are the binaries built? scripts/k8s-binaries): {e}"))
}

/// Upgrades the cluster, every node with it, to 1.37.
pub async fn upgrade_to_1_37(cluster: &mut TestCluster) {
    cluster
        .upgrade("1.37", postcheck_testenv::NodesToMove::All)
        .await
        .unwrap_or_else(|e| panic!("upgrading the test cluster to 1.37: {e}"));
}

/// The upgrade under test.
pub fn spec() -> CheckSpec {
    CheckSpec { source: Some("v1.36".parse().unwrap()), target: Some("v1.37".parse().unwrap()) }
}

/// A policy with a short pending grace that ignores `namespaces`.
pub fn policy(namespaces: &[String]) -> Policy {
    let mut p = Policy::default();
    p.tolerances.pending_grace = GRACE;
    p.exclude.namespaces = namespaces.to_vec();
    p
}

/// Records a baseline of the cluster.
pub async fn baseline(cluster: &TestCluster) -> Snapshot {
    let client = cluster.client().await.unwrap();
    postcheck_engine::take_baseline(&client, Duration::from_secs(120), &())
        .await
        .unwrap_or_else(|e| panic!("taking the baseline: {e}"))
}

/// Runs every check of `policy` against the cluster, with the baseline.
pub async fn judge(cluster: &TestCluster, baseline: &Snapshot, policy: Policy) -> TaskStatus {
    let client = cluster.client().await.unwrap();
    let mut request = CheckRequest::new(spec(), Duration::from_secs(240));
    request.baseline = Some(baseline.clone());
    request.policy = policy;
    postcheck_engine::check(client, &request).await
}

/// The item called `name`.
pub fn item<'a>(status: &'a TaskStatus, name: &str) -> &'a CheckItem {
    status
        .items_status
        .iter()
        .find(|i| i.name == name)
        .unwrap_or_else(|| panic!("no item {name}: {status:#?}"))
}

/// The names of the items that failed at Fatal level.
pub fn fatal_failures(status: &TaskStatus) -> Vec<&str> {
    status.items_status.iter().filter(|i| i.is_fatal_failure()).map(|i| i.name.as_str()).collect()
}

/// No item could not run.
pub fn assert_all_ran(status: &TaskStatus) {
    let errors: Vec<_> =
        status.items_status.iter().filter(|i| i.phase == ItemPhase::Error).collect();
    assert!(errors.is_empty(), "every item should have run: {errors:#?}");
}

/// The task failed, `name` is the only item failed at Fatal level, and its evidence names
/// `kind name`.
pub fn assert_only_fatal(status: &TaskStatus, name: &str, kind: &str, object: &str) {
    assert_eq!(status.phase, TaskPhase::Failed, "{name}: {status:#?}");
    assert_eq!(fatal_failures(status), [name], "only {name} should fail: {status:#?}");
    assert_all_ran(status);
    assert_names(item(status, name), kind, object);
}

/// The item's evidence names `kind object`.
pub fn assert_names(item: &CheckItem, kind: &str, object: &str) {
    assert!(
        item.evidence.iter().any(|e| e.kind == kind && e.name == object),
        "{}'s evidence should name {kind} {object}: {:#?}",
        item.name,
        item.evidence
    );
}

/// The item failed at Warning level naming `kind object`.
pub fn assert_warning(status: &TaskStatus, name: &str, kind: &str, object: &str) {
    let item = item(status, name);
    assert_eq!((item.phase, item.level), (ItemPhase::Failed, Level::Warning), "{item:#?}");
    assert_names(item, kind, object);
}

/// The object a fault made faulty, as the item names it.
pub fn named(target: &FaultTarget) -> (&str, &str) {
    (target.kind.as_str(), target.name.as_str())
}
