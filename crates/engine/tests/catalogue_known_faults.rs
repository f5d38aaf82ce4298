//! Faults already present in the baseline: after a clean 1.36 to 1.37 upgrade, the checks
//! compare against the baseline and report them as Warnings, so the task succeeds (no false
//! alarm for what was broken before the upgrade). `scripts/test` runs this with
//! `--include-ignored`; it panics when the control plane cannot start.

mod common;

use common::*;
use postcheck_model::TaskPhase;
use postcheck_testenv::{Fault, NodesToMove};

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn faults_already_in_the_baseline_are_only_warnings_after_the_upgrade() {
    let mut cluster = up_on_1_36(4).await;
    let ns = |n: &str| Some(format!("known-{n}"));
    let faults = [
        (Fault::PodCrashLoop { namespace: ns("crash"), name: None }, "pod-health"),
        (Fault::PodImagePull { namespace: ns("pull"), name: None }, "pod-health"),
        (Fault::PodPending { namespace: ns("pending"), name: None }, "pod-health"),
        (Fault::DeploymentUnavailable { namespace: ns("unavailable"), name: None }, "workloads"),
        (Fault::DaemonSetMissingPod { namespace: ns("daemonset"), name: None }, "workloads"),
        (Fault::ServiceNoEndpoints { namespace: ns("service"), name: None }, "service-endpoints"),
        (Fault::PvcPending { namespace: ns("pvc"), name: None }, "pvc-bound"),
        (Fault::ApiServiceUnavailable { namespace: ns("apiservice"), name: None }, "apiservices"),
        (Fault::WebhookNoEndpoints { namespace: ns("webhook"), name: None }, "webhooks"),
    ];
    let mut targets = Vec::new();
    for (fault, item) in faults {
        let name = fault.name();
        targets.push((
            cluster.fault(fault).await.unwrap_or_else(|e| panic!("injecting {name}: {e}")),
            item,
        ));
    }
    tokio::time::sleep(GRACE + std::time::Duration::from_secs(1)).await;
    let before = baseline(&cluster).await;
    cluster
        .upgrade("1.37", NodesToMove::All)
        .await
        .unwrap_or_else(|e| panic!("upgrading the test cluster to 1.37: {e}"));

    let status = judge(&cluster, &before, policy(&[])).await;
    assert_eq!(status.phase, TaskPhase::Success, "{status:#?}");
    assert!(fatal_failures(&status).is_empty(), "{status:#?}");
    assert_all_ran(&status);
    for (target, item) in &targets {
        let (kind, name) = named(target);
        assert_warning(&status, item, kind, name);
    }
    cluster.down().await.unwrap();
}
