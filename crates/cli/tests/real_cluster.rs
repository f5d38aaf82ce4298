//! `postcheck` against the real test control plane (kube-apiserver, etcd, controller-manager,
//! scheduler, kwok nodes): a clean upgrade, each node and system-pod fault after it, kubelets
//! left behind, rejected credentials. `scripts/test` runs these with `--include-ignored`;
//! they panic when the control plane cannot start.

use std::path::{Path, PathBuf};

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding};
use kube::api::{Api, DeleteParams, Patch, PatchParams, PostParams};
use postcheck_engine::Snapshot;
use postcheck_model::{ItemPhase, PostCheckTask, TaskPhase};
use postcheck_testenv::{Fault, FaultTarget, NodesToMove, TestCluster, UpOptions};
use serde_json::json;

async fn up_on_1_36() -> TestCluster {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    TestCluster::up(UpOptions { version: "1.36".into(), nodes: 3, state_dir: None })
        .await
        .unwrap_or_else(|e| panic!("the test control plane could not start: {e}"))
}

/// What one run of the binary did.
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn task(&self) -> PostCheckTask {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "postcheck did not print one task document ({e}):\n{}\n{}",
                self.stdout, self.stderr
            )
        })
    }

    fn failed(&self) -> Vec<String> {
        self.task()
            .status
            .items_status
            .iter()
            .filter(|i| i.phase == ItemPhase::Failed)
            .map(|i| i.name.clone())
            .collect()
    }
}

async fn postcheck(args: &[&str]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_postcheck"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("running postcheck");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// The items of the issue these tests prove (cluster, control plane, nodes, system pods).
/// Workload, service, storage and API checks have their own real-cluster tests; running
/// only these keeps "no other item failed" about the items under test.
const CHECKS: [&str; 10] = [
    "cluster-version",
    "apiserver-health",
    "control-plane",
    "node-ready",
    "node-conditions",
    "node-schedulable",
    "node-version",
    "node-skipped",
    "system-pods",
    "node-inventory",
];

/// `postcheck check` after the 1.36 to 1.37 upgrade, as JSON, with extra flags.
async fn check(kubeconfig: &Path, baseline: Option<&Path>, extra: &[&str]) -> Run {
    let kubeconfig = kubeconfig.to_str().unwrap();
    let mut args = vec![
        "check",
        "--kubeconfig",
        kubeconfig,
        "--source",
        "v1.36",
        "--target",
        "v1.37",
        "-o",
        "json",
    ];
    for name in CHECKS {
        args.extend(["--only", name]);
    }
    if let Some(b) = baseline {
        args.extend(["--baseline", b.to_str().unwrap()]);
    }
    args.extend(extra);
    postcheck(&args).await
}

fn assert_passes(run: &Run, after: &str) {
    let task = run.task();
    assert_eq!(
        (run.code, task.status.phase),
        (0, TaskPhase::Success),
        "{after}: {}\n{}",
        run.stdout,
        run.stderr
    );
    let bad: Vec<_> = task
        .status
        .items_status
        .iter()
        .filter(|i| !matches!(i.phase, ItemPhase::Success | ItemPhase::Skipped))
        .collect();
    assert!(bad.is_empty(), "{after}: items neither passed nor not applicable: {bad:#?}");
    let ran: Vec<&str> = task
        .status
        .items_status
        .iter()
        .filter(|i| i.phase != ItemPhase::Skipped)
        .map(|i| i.name.as_str())
        .collect();
    assert!(
        CHECKS.iter().all(|c| ran.contains(c) || *c == "node-inventory"),
        "{after}: every item under test ran: {ran:?}"
    );
}

/// The run failed (exit 1), `item` is the only failed item, and its evidence names `target`.
fn assert_only_failure(run: &Run, item: &str, target: &FaultTarget) {
    let task = run.task();
    assert_eq!(
        (run.code, task.status.phase),
        (1, TaskPhase::Failed),
        "{}\n{}",
        run.stdout,
        run.stderr
    );
    assert_eq!(run.failed(), [item], "only {item} should fail: {}", run.stdout);
    let failed = task.status.items_status.iter().find(|i| i.name == item).unwrap();
    assert!(
        failed.evidence.iter().any(|e| e.name == target.name && e.kind == target.kind),
        "{item}'s evidence should name {} {}: {:#?}",
        target.kind,
        target.name,
        failed.evidence
    );
    let errors: Vec<_> =
        task.status.items_status.iter().filter(|i| i.phase == ItemPhase::Error).collect();
    assert!(errors.is_empty(), "no item should have failed to run: {errors:#?}");
}

/// After repairing a fault, wait (exercising `--wait`) until the cluster passes again.
async fn assert_repaired(kubeconfig: &Path, baseline: &Path, fault: &str) {
    let run =
        check(kubeconfig, Some(baseline), &["--wait", "90s", "--interval", "1s", "--count", "2"])
            .await;
    assert_passes(&run, &format!("after repairing {fault}"));
}

async fn patch_node(nodes: &Api<Node>, name: &str, patch: serde_json::Value) {
    nodes
        .patch(name, &PatchParams::default(), &Patch::Merge(patch))
        .await
        .unwrap_or_else(|e| panic!("repairing node {name}: {e}"));
}

/// A copy of the admin kubeconfig `text` that impersonates `user` (kubectl's `as:`).
fn impersonating(cluster: &TestCluster, text: &str, user: &str, dir: &Path) -> PathBuf {
    let token = cluster.admin_token();
    let path = dir.join(format!("{user}.kubeconfig"));
    std::fs::write(
        &path,
        text.replace(&format!("token: {token}"), &format!("token: {token}\n    as: {user}")),
    )
    .unwrap();
    path
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_clean_upgrade_passes_and_each_fault_fails_only_its_item() {
    let mut cluster = up_on_1_36().await;
    let dir = tempfile::tempdir().unwrap();
    let baseline: PathBuf = dir.path().join("baseline.json");
    let kubeconfig = cluster.kubeconfig_path();

    let run = postcheck(&[
        "baseline",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "-o",
        baseline.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 0, "baseline: {}", run.stderr);
    let before: Snapshot =
        serde_json::from_str(&std::fs::read_to_string(&baseline).unwrap()).unwrap();
    assert_eq!(before.node_list().len(), 3);
    assert!(
        before.server_version.ok().is_some_and(|v| v.starts_with("v1.36.")),
        "{:?}",
        before.server_version
    );

    // Before the upgrade, the same check fails on the version.
    let run = check(&kubeconfig, Some(&baseline), &[]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert!(run.failed().contains(&"cluster-version".to_owned()), "{}", run.stdout);

    cluster
        .upgrade("1.37", NodesToMove::All)
        .await
        .unwrap_or_else(|e| panic!("upgrading the test cluster to 1.37: {e}"));
    let run = check(&kubeconfig, Some(&baseline), &[]).await;
    assert_passes(&run, "a clean upgrade");
    let task = run.task();
    let inventory = task.status.items_status.iter().find(|i| i.name == "node-inventory").unwrap();
    assert_eq!(
        inventory.phase,
        ItemPhase::Success,
        "with a baseline the inventory is compared: {inventory:?}"
    );
    // The table is the default output and says the verdict first.
    let mut args = vec!["check", "--kubeconfig", kubeconfig.to_str().unwrap(), "--target", "v1.37"];
    for name in CHECKS {
        args.extend(["--only", name]);
    }
    let table = postcheck(&args).await;
    assert_eq!(table.code, 0);
    assert!(table.stdout.starts_with("Verdict: Success"), "{}", table.stdout);

    let client = cluster.client().await.unwrap();
    let nodes: Api<Node> = Api::all(client.clone());

    // Cordoned: node-schedulable, against the baseline.
    let target = cluster.fault(Fault::NodeCordoned { node: None }).await.unwrap();
    assert_only_failure(
        &check(&kubeconfig, Some(&baseline), &[]).await,
        "node-schedulable",
        &target,
    );
    patch_node(&nodes, &target.name, json!({"spec": {"unschedulable": false}})).await;
    assert_repaired(&kubeconfig, &baseline, "NodeCordoned").await;

    // A label lost: node-inventory.
    let target = cluster.fault(Fault::NodeLostLabel { node: None }).await.unwrap();
    assert_only_failure(&check(&kubeconfig, Some(&baseline), &[]).await, "node-inventory", &target);
    let zone = before
        .find_node(&target.name)
        .unwrap()
        .labels
        .get("topology.kubernetes.io/zone")
        .unwrap()
        .to_owned();
    patch_node(
        &nodes,
        &target.name,
        json!({"metadata": {"labels": {"topology.kubernetes.io/zone": zone}}}),
    )
    .await;
    assert_repaired(&kubeconfig, &baseline, "NodeLostLabel").await;

    // A new taint: node-inventory.
    let target = cluster.fault(Fault::NodeNewTaint { node: None }).await.unwrap();
    let run = check(&kubeconfig, Some(&baseline), &[]).await;
    assert_only_failure(&run, "node-inventory", &target);
    let node = nodes.get(&target.name).await.unwrap();
    let kept: Vec<_> = node
        .spec
        .unwrap()
        .taints
        .unwrap_or_default()
        .into_iter()
        .filter(|t| !t.key.starts_with("faults.postcheck.dev"))
        .collect();
    patch_node(&nodes, &target.name, json!({"metadata": {"resourceVersion": node.metadata.resource_version}, "spec": {"taints": kept}})).await;
    assert_repaired(&kubeconfig, &baseline, "NodeNewTaint").await;

    // A kubelet left on 1.36: node-version.
    let target = cluster.fault(Fault::NodeOldKubelet { node: None }).await.unwrap();
    assert_only_failure(&check(&kubeconfig, Some(&baseline), &[]).await, "node-version", &target);
    postcheck_testenv::nodes::set_versions(
        &client,
        std::slice::from_ref(&target.name),
        &cluster.version(),
    )
    .await
    .unwrap();
    assert_repaired(&kubeconfig, &baseline, "NodeOldKubelet").await;

    // A crash-looping system pod: system-pods.
    let deployments: Api<Deployment> = Api::namespaced(client.clone(), "kube-system");
    let target = cluster
        .fault(Fault::PodCrashLoop {
            namespace: Some("kube-system".into()),
            name: Some("crash-loop".into()),
        })
        .await
        .unwrap();
    let run = check(&kubeconfig, Some(&baseline), &[]).await;
    assert_only_failure(&run, "system-pods", &target);
    deployments.delete("crash-loop", &DeleteParams::foreground()).await.unwrap();
    assert_repaired(&kubeconfig, &baseline, "PodCrashLoop").await;

    // An unschedulable system pod past the pending grace: system-pods.
    let target = cluster
        .fault(Fault::PodPending {
            namespace: Some("kube-system".into()),
            name: Some("unschedulable".into()),
        })
        .await
        .unwrap();
    assert_only_failure(
        &check(&kubeconfig, Some(&baseline), &["--pending-grace", "0s"]).await,
        "system-pods",
        &target,
    );
    // Within the grace it is not (yet) a failure.
    assert_passes(
        &check(&kubeconfig, Some(&baseline), &["--pending-grace", "10m"]).await,
        "a young Pending pod",
    );
    deployments.delete("unschedulable", &DeleteParams::foreground()).await.unwrap();
    assert_repaired(&kubeconfig, &baseline, "PodPending").await;

    // A node that stops reporting (last: it does not come back): node-ready alone.
    let target = cluster.fault(Fault::NodeNotReady { node: None }).await.unwrap();
    assert_only_failure(&check(&kubeconfig, Some(&baseline), &[]).await, "node-ready", &target);
    // Tolerated by the policy, the cluster passes.
    assert_passes(
        &check(&kubeconfig, Some(&baseline), &["--max-unready-nodes", "1"]).await,
        "one unready node tolerated",
    );
    // --wait on a reachable, unhealthy cluster ends Failed (exit 1), one document.
    let run = check(&kubeconfig, Some(&baseline), &["--wait", "3s", "--interval", "1s"]).await;
    assert_eq!((run.code, run.task().status.phase), (1, TaskPhase::Failed), "{}", run.stdout);

    cluster.down().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn kubelets_left_behind_fail_the_exact_policy_and_pass_the_skew_policy() {
    let mut cluster = up_on_1_36().await;
    cluster
        .upgrade("1.37", NodesToMove::Count(1))
        .await
        .unwrap_or_else(|e| panic!("upgrading the control plane to 1.37: {e}"));
    let kubeconfig = cluster.kubeconfig_path();

    let run = check(&kubeconfig, None, &[]).await;
    assert_eq!(run.code, 1, "{}", run.stdout);
    assert_eq!(run.failed(), ["node-version"], "{}", run.stdout);
    let task = run.task();
    let item = task.status.items_status.iter().find(|i| i.name == "node-version").unwrap();
    let mut named: Vec<&str> = item.evidence.iter().map(|e| e.name.as_str()).collect();
    named.sort();
    assert_eq!(named, ["kwok-node-1", "kwok-node-2"], "{item:#?}");
    assert!(item.evidence.iter().all(|e| e.reason.contains("kubelet v1.36")), "{item:#?}");

    let run = check(&kubeconfig, None, &["--node-version", "skew"]).await;
    assert_passes(&run, "kubelets one minor behind under the skew policy");

    // The same cluster with a token it does not know: Error, exit 2.
    let dir = tempfile::tempdir().unwrap();
    let rejected = dir.path().join("rejected.kubeconfig");
    let text = std::fs::read_to_string(&kubeconfig).unwrap();
    assert!(text.contains(&cluster.admin_token()), "the admin kubeconfig carries the admin token");
    std::fs::write(
        &rejected,
        text.replace(&cluster.admin_token(), "not-a-token-this-cluster-knows"),
    )
    .unwrap();
    let run = check(&rejected, None, &[]).await;
    let task = run.task();
    assert_eq!((run.code, task.status.phase), (2, TaskPhase::Error), "{}", run.stdout);
    assert!(
        task.status.message.as_deref().unwrap_or("").contains("rejected the credentials"),
        "{:?}",
        task.status.message
    );

    // And the baseline command refuses, rather than writing a useless file.
    let out = dir.path().join("baseline.json");
    let run = postcheck(&[
        "baseline",
        "--kubeconfig",
        rejected.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ])
    .await;
    assert_eq!(run.code, 2, "{}", run.stderr);
    assert!(!out.exists());

    // A user RBAC lets list nodes and pods but not Leases: only control-plane cannot run.
    let client = cluster.client().await.unwrap();
    let role: ClusterRole = serde_json::from_value(json!({
        "metadata": {"name": "postcheck-no-leases"},
        "rules": [{"apiGroups": [""], "resources": ["nodes", "pods"], "verbs": ["get", "list"]}]
    }))
    .unwrap();
    Api::<ClusterRole>::all(client.clone()).create(&PostParams::default(), &role).await.unwrap();
    let binding: ClusterRoleBinding = serde_json::from_value(json!({
        "metadata": {"name": "postcheck-no-leases"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "postcheck-no-leases"},
        "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "postcheck-limited"}]
    }))
    .unwrap();
    Api::<ClusterRoleBinding>::all(client.clone())
        .create(&PostParams::default(), &binding)
        .await
        .unwrap();
    let limited = impersonating(&cluster, &text, "postcheck-limited", dir.path());
    let run = check(&limited, None, &["--node-version", "skew"]).await;
    let task = run.task();
    assert_eq!((run.code, task.status.phase), (0, TaskPhase::Success), "{}", run.stdout);
    let not_run: Vec<_> =
        task.status.items_status.iter().filter(|i| i.phase == ItemPhase::Error).collect();
    assert_eq!(not_run.len(), 1, "{not_run:#?}");
    assert_eq!(not_run[0].name, "control-plane");
    assert!(not_run[0].message.contains("forbidden"), "{}", not_run[0].message);

    // A user who may not even list nodes cannot examine the cluster: Error, exit 2.
    let nobody = impersonating(&cluster, &text, "postcheck-nobody", dir.path());
    let run = check(&nobody, None, &[]).await;
    let task = run.task();
    assert_eq!((run.code, task.status.phase), (2, TaskPhase::Error), "{}", run.stdout);
    assert!(
        task.status.message.as_deref().unwrap_or("").contains("403 Forbidden while listing nodes"),
        "{:?}",
        task.status.message
    );

    cluster.down().await.unwrap();
}
