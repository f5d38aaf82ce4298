//! The pre-upgrade check on the real test control plane, 1.36 targeting 1.37: a clean
//! cluster passes; then each fault that would block or endanger the upgrade is made, one
//! after another on the same cluster, and the pre-check names it (in `riskSource` or the
//! evidence). `scripts/test` runs this with `--include-ignored`; it panics when the control
//! plane cannot start.
//!
//! The live client is `deprecated-api-client`: a client calling a CRD version marked
//! `deprecated: true`, which the API server counts in `apiserver_requested_deprecated_apis`
//! (no removal is planned for it, so the item is a Warning: the upgrade does not break it).

mod common;

use std::time::Duration;

use common::*;
use postcheck_engine::access::{ApiServerAddress, KubeconfigSource};
use postcheck_engine::{CheckSpec, PrecheckOutcome, PrecheckRequest};
use postcheck_model::{
    ItemPhase, Level, PreCheckItemStatus, PrecheckPhase, ResourceSelector, SkippedCheckItem,
};
use postcheck_testenv::{Fault, TestCluster};

fn spec() -> CheckSpec {
    CheckSpec { source: Some("v1.36".parse().unwrap()), target: Some("v1.37".parse().unwrap()) }
}

async fn request(cluster: &TestCluster) -> PrecheckRequest {
    let source = KubeconfigSource { path: Some(cluster.kubeconfig_path()), context: None };
    let config = source.config().await.unwrap();
    let mut request = PrecheckRequest::new(spec(), Duration::from_secs(240));
    request.apiserver = ApiServerAddress::of(&config).await;
    assert!(request.apiserver.is_some(), "the test cluster's address resolves");
    request.policy.tolerances.pending_grace = GRACE;
    request
}

async fn precheck(cluster: &TestCluster, request: &PrecheckRequest) -> PrecheckOutcome {
    let client = cluster.client().await.unwrap();
    postcheck_engine::precheck(&client, request, &()).await
}

/// Every entry of the item `name` (one per node for node items).
fn entries<'a>(outcome: &'a PrecheckOutcome, name: &str) -> Vec<&'a PreCheckItemStatus> {
    let found: Vec<_> = outcome.status.items().filter(|i| i.item.name == name).collect();
    assert!(!found.is_empty(), "no item {name}: {:#?}", outcome.status);
    found
}

/// The item `name` failed (at `level`), naming `kind object` in its evidence.
fn assert_failed(outcome: &PrecheckOutcome, name: &str, level: Level, kind: &str, object: &str) {
    let failed: Vec<_> =
        entries(outcome, name).into_iter().filter(|i| i.item.phase == ItemPhase::Failed).collect();
    assert!(!failed.is_empty(), "{name} should fail: {:#?}", outcome.status);
    assert!(failed.iter().all(|i| i.item.level == level), "{name} at {level:?}: {failed:#?}");
    assert!(
        failed.iter().any(|i| i.item.evidence.iter().any(|e| e.kind == kind && e.name == object)),
        "{name} should name {kind} {object}: {failed:#?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_precheck_fails_for_each_blocking_fault_and_a_clean_cluster_passes() {
    let cluster = up_on_1_36(3).await;
    let request = request(&cluster).await;

    let clean = precheck(&cluster, &request).await;
    assert_eq!(clean.status.phase, PrecheckPhase::Success, "{:#?}", clean.status);
    assert!(clean.snapshot.is_some(), "an examined cluster leaves its Snapshot as the baseline");
    let not_run: Vec<_> =
        clean.status.items().filter(|i| i.item.phase == ItemPhase::Error).collect();
    assert!(not_run.is_empty(), "every item ran: {not_run:#?}");
    let cert = &entries(&clean, "apiserver-certificate")[0].item;
    assert_eq!(cert.phase, ItemPhase::Success, "read from the TLS handshake: {cert:#?}");
    let nodes = clean.status.node_check_status.as_ref().unwrap();
    assert_eq!(nodes.node_stage_status.len(), cluster.node_count());
    assert!(nodes.node_stage_status.iter().all(|n| !n.node_info.uid.is_empty()));

    // A live client on a deprecated CRD version: named by its URL, a Warning (no removal).
    cluster.fault(Fault::DeprecatedApiClient { name: None }).await.unwrap();
    let out = precheck(&cluster, &request).await;
    let url = "/apis/faults.postcheck.dev/v1beta1/widgets";
    assert_failed(&out, "deprecated-api-clients", Level::Warning, "APIResource", url);
    let risks = entries(&out, "deprecated-api-clients")[0].risk_source.clone().unwrap();
    assert!(risks.deprecated_api_risks.iter().any(|r| r.url == url), "{risks:#?}");
    assert_eq!(out.status.phase, PrecheckPhase::Success, "deprecated, not removed: a risk");

    // Each blocking fault fails the pre-check and is named.
    let blocking = [
        (Fault::PdbNoDisruption { namespace: None, name: None }, "pdb-disruption"),
        (Fault::WebhookNoEndpoints { namespace: None, name: None }, "webhooks"),
        (Fault::CrdStoredVersionNotServed { name: None }, "crd-versions"),
        (Fault::NodeKubeletSkewAtTarget { node: None }, "node-skew-at-target"),
    ];
    for (fault, item) in blocking {
        let what = fault.name();
        let target = cluster.fault(fault).await.unwrap_or_else(|e| panic!("injecting {what}: {e}"));
        let out = precheck(&cluster, &request).await;
        assert_eq!(out.status.phase, PrecheckPhase::Failed, "{what}: {:#?}", out.status);
        let (kind, name) = named(&target);
        assert_failed(&out, item, Level::Fatal, kind, name);
        if item == "node-skew-at-target" {
            let stage = out
                .status
                .node_check_status
                .as_ref()
                .unwrap()
                .node_stage_status
                .iter()
                .find(|n| n.node_info.name == name)
                .unwrap();
            let entry = stage.items_status.iter().find(|i| i.item.name == item).unwrap();
            let risks = entry.risk_source.as_ref().unwrap();
            assert_eq!(risks.node_risks[0].node_id, stage.node_info.uid, "{entry:#?}");
            // Skipping the item for exactly that node leaves the other items and nodes judged.
            let mut skipping = request.clone();
            skipping.skipped = vec![SkippedCheckItem {
                name: item.into(),
                resource_selector: Some(ResourceSelector {
                    key: "node.uid".into(),
                    values: vec![stage.node_info.uid.clone()],
                    operator: Some("In".into()),
                }),
            }];
            let skipped = precheck(&cluster, &skipping).await;
            for stage in &skipped.status.node_check_status.as_ref().unwrap().node_stage_status {
                let phase =
                    stage.items_status.iter().find(|i| i.item.name == item).unwrap().item.phase;
                let expected = if stage.node_info.name == name {
                    ItemPhase::Skipped
                } else {
                    ItemPhase::Success
                };
                assert_eq!(phase, expected, "{}: {stage:#?}", stage.node_info.name);
            }
        }
    }
    cluster.down().await.unwrap();
}
