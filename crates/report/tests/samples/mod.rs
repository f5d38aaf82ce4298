//! Task documents the report tests render: a `Success`, a `Failed` with evidence on several
//! items, an `Error`, and a hostile one whose names and messages are markup.

#![allow(dead_code, unreachable_pub)] // each test binary uses some of these

use chrono::{DateTime, TimeZone, Utc};
use postcheck_model::{
    CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, Level, PostCheckSpec, PostCheckTask,
    TaskMetadata, TaskPhase, TaskStatus,
};

fn started() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 5, 0, 0).unwrap()
}

fn item(name: &str, group: ItemGroup, level: Level, phase: ItemPhase, message: &str) -> CheckItem {
    CheckItem {
        name: name.into(),
        kind: if level == Level::Fatal { ItemKind::Exception } else { ItemKind::Risk },
        group,
        level,
        phase,
        message: message.into(),
        evidence: Vec::new(),
    }
}

fn with(mut item: CheckItem, evidence: Vec<Evidence>) -> CheckItem {
    item.evidence = evidence;
    item
}

fn task(phase: TaskPhase, message: &str, items: Vec<CheckItem>, ms: u64) -> PostCheckTask {
    let finished = started() + chrono::Duration::milliseconds(ms as i64);
    PostCheckTask::new(
        TaskMetadata {
            uid: "0b9f2d8e-5c1a-4e7b-9f3d-2a6c8e1b4d70".into(),
            creation_timestamp: Some(started()),
            update_timestamp: Some(finished),
        },
        PostCheckSpec {
            cluster_id: Some("8978deaa-1743-11ee-8e46-0255ac10004c".into()),
            cluster_version: Some("v1.36.3".into()),
            target_version: Some("v1.37.2".into()),
            synthetic: None,
        },
        TaskStatus {
            phase,
            message: Some(message.into()),
            items_status: items,
            started_at: Some(started()),
            finished_at: Some(finished),
            duration_ms: Some(ms),
            baseline: None,
            blame: None,
            resolved: vec![],
        },
    )
}

use ItemGroup::{AddonCheck, LimitCheck, MasterCheck, NodeCheck};
use ItemPhase::{Error, Failed, Skipped, Success};
use Level::{Fatal, Warning};

/// `cluster-version`, passed.
fn at_target() -> CheckItem {
    item(
        "cluster-version",
        MasterCheck,
        Fatal,
        Success,
        "the API server reports v1.37.2, the target v1.37.2",
    )
}

/// Every item passed but one that does not apply.
pub fn success() -> PostCheckTask {
    task(
        TaskPhase::Success,
        "every check passed (API server v1.37.2)",
        vec![
            at_target(),
            item(
                "apiserver-health",
                MasterCheck,
                Fatal,
                Success,
                "all 42 checks of /readyz and /livez are ok",
            ),
            item(
                "control-plane",
                MasterCheck,
                Fatal,
                Success,
                "kube-controller-manager and kube-scheduler renewed their leases 3s ago",
            ),
            item("node-ready", NodeCheck, Fatal, Success, "3 of 3 node(s) Ready"),
            item("node-version", NodeCheck, Fatal, Success, "every kubelet is at v1.37.2"),
            item("node-inventory", NodeCheck, Fatal, Skipped, "no baseline was given"),
            item("system-pods", AddonCheck, Fatal, Success, "14 system pod(s) Running and Ready"),
            item(
                "workloads",
                LimitCheck,
                Fatal,
                Success,
                "37 workload(s) have every replica ready",
            ),
            item("events", LimitCheck, Warning, Success, "no Warning event worth a look"),
        ],
        2_340,
    )
}

/// Two Fatal items failed, one Warning item failed, one could not run.
pub fn failed() -> PostCheckTask {
    task(
        TaskPhase::Failed,
        "2 fatal item(s) failed: node-ready, workloads (API server v1.37.2); could not run: control-plane",
        vec![
            at_target(),
            item(
                "control-plane",
                MasterCheck,
                Fatal,
                Error,
                "could not run: the kube-system Leases could not be read: leases.coordination.k8s.io is forbidden",
            ),
            with(
                item(
                    "node-ready",
                    NodeCheck,
                    Fatal,
                    Failed,
                    "2 of 5 node(s) not Ready (tolerance 0)",
                ),
                vec![
                    Evidence::cluster(
                        "Node",
                        "worker-pool-a-7f9c4d-2",
                        "Ready is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)",
                    ),
                    Evidence::cluster(
                        "Node",
                        "worker-pool-b-0c81e5-1",
                        "Ready is False (KubeletNotReady: container runtime network not ready: NetworkReady=false reason:NetworkPluginNotReady)",
                    ),
                ],
            ),
            item("node-version", NodeCheck, Fatal, Success, "every kubelet is at v1.37.2"),
            item("system-pods", AddonCheck, Fatal, Success, "14 system pod(s) Running and Ready"),
            with(
                item(
                    "workloads",
                    LimitCheck,
                    Fatal,
                    Failed,
                    "2 of 37 workload(s) short of ready replicas",
                ),
                vec![
                    Evidence::namespaced(
                        "Deployment",
                        "shop",
                        "checkout-api",
                        "1 of 3 replica(s) available; rollout stuck: ProgressDeadlineExceeded",
                    ),
                    Evidence::namespaced(
                        "StatefulSet",
                        "data",
                        "postgres-primary-with-a-rather-long-name-for-wrapping",
                        "0 of 1 replica(s) ready",
                    ),
                ],
            ),
            with(
                item("events", LimitCheck, Warning, Failed, "3 Warning event(s) worth a look"),
                vec![
                    Evidence::namespaced(
                        "Pod",
                        "shop",
                        "checkout-api-6d5f7c9b8-x2k4q",
                        "BackOff (x14): Back-off restarting failed container api in pod checkout-api-6d5f7c9b8-x2k4q_shop",
                    ),
                    Evidence::namespaced(
                        "Pod",
                        "shop",
                        "checkout-api-6d5f7c9b8-p9z7m",
                        "FailedScheduling (x3): 0/5 nodes are available: 2 node(s) had untolerated taint {node.kubernetes.io/unreachable: }",
                    ),
                    Evidence::cluster(
                        "Node",
                        "worker-pool-a-7f9c4d-2",
                        "NodeNotReady (x1): Node worker-pool-a-7f9c4d-2 status is now: NodeNotReady",
                    ),
                ],
            ),
            item("pvc-bound", LimitCheck, Fatal, Success, "12 PersistentVolumeClaim(s) Bound"),
        ],
        4_812,
    )
}

/// The cluster could not be examined: no items.
pub fn error() -> PostCheckTask {
    task(
        TaskPhase::Error,
        "the cluster could not be examined: the API server at https://api.cluster.example:5443 could not be reached within the deadline of 2m",
        Vec::new(),
        120_004,
    )
}

/// What a hostile cluster could put in a report: an object name and an event message that
/// are markup, in every place a value appears.
pub const SCRIPT: &str = "<script>alert(1)</script>";
/// An attribute breakout with an image that runs script when it fails to load.
pub const IMG: &str = "\"><img src=x onerror=alert(2)>";

/// A failed task whose names, messages and versions are markup.
pub fn hostile() -> PostCheckTask {
    let mut task = task(
        TaskPhase::Failed,
        &format!("1 fatal item(s) failed: {SCRIPT}{IMG}"),
        vec![with(
            item(
                &format!("pod-health{IMG}"),
                LimitCheck,
                Fatal,
                Failed,
                &format!("1 pod {SCRIPT}"),
            ),
            vec![
                Evidence::namespaced(
                    "Pod",
                    format!("ns{IMG}"),
                    format!("web{SCRIPT}"),
                    format!("event: {IMG} | *bold* `code` [link](http://x)"),
                ),
                Evidence::cluster(&format!("Node{SCRIPT}"), format!("node{IMG}"), SCRIPT),
            ],
        )],
        10,
    );
    task.spec.target_version = Some(format!("v1.37{SCRIPT}"));
    task.spec.cluster_id = Some(IMG.into());
    task.metadata.uid = format!("uid{SCRIPT}");
    task
}
