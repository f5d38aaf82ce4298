//! `node-join` on the real test control plane (issue 12, CCE's "new nodes can join"): on a
//! healthy cluster a kubelet client certificate is requested, approved and issued by the
//! real controller-manager's signer, and the item passes, naming the kubeadm-style
//! bootstrap evidence it read (never the token's secret); an interrupted run and a leftover
//! of an earlier one leave nothing behind; with the controller-manager stopped (last: it
//! stays stopped) the signer never issues, and the item fails with the reason within its
//! own bounded wait, the task `Failed`, not `Error`. After each run no CSR with the prefix
//! remains. `scripts/test` runs this with `--include-ignored`; it panics when the control
//! plane cannot start.

mod common;

use std::time::Duration;

use base64::Engine as _;
use common::*;
use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use k8s_openapi::api::core::v1::Secret;
use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use kube::api::{Api, ListParams, PostParams};
use postcheck_engine::{CheckRequest, CheckSpec, Policy, node_join};
use postcheck_model::{ItemPhase, Level, TaskPhase, TaskStatus};
use postcheck_testenv::{Fault, TestCluster};
use serde_json::json;

/// The bootstrap token's secret half: it must never show in a task.
const TOKEN_SECRET: &str = "q7f3k9x2m4p8w1z6";
const TOKEN_GROUP: &str = "system:bootstrappers:kubeadm:default-node-token";

/// The CSRs whose names carry node-join's prefix.
async fn leftovers(cluster: &TestCluster) -> Vec<String> {
    let client = cluster.client().await.unwrap();
    Api::<CertificateSigningRequest>::all(client)
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .into_iter()
        .filter_map(|c| c.metadata.name)
        .filter(|n| n.starts_with(node_join::NAME_PREFIX))
        .collect()
}

/// Waits (up to half a minute: an interrupted run's cleanup is a spawned task) until no CSR
/// with the prefix remains.
async fn assert_no_leftovers(cluster: &TestCluster, after: &str) {
    let until = std::time::Instant::now() + Duration::from_secs(30);
    loop {
        let left = leftovers(cluster).await;
        if left.is_empty() {
            return;
        }
        assert!(std::time::Instant::now() < until, "{after}: node-join left {left:?} behind");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Runs `node-join` alone within `deadline`.
async fn judge_node_join(cluster: &TestCluster, deadline: Duration) -> TaskStatus {
    let client = cluster.client().await.unwrap();
    let on_1_36 = CheckSpec { source: None, target: Some("v1.36".parse().unwrap()) };
    let mut request = CheckRequest::new(on_1_36, deadline);
    request.policy = Policy::default();
    request.policy.node_join.enabled = true;
    request.policy.checks.only = vec!["node-join".into()];
    postcheck_engine::check(client, &request).await
}

/// What kubeadm leaves for joining nodes: a bootstrap token Secret and the two bindings of
/// its group.
async fn bootstrap_like_kubeadm(client: &kube::Client) {
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
    let expiration = (chrono::Utc::now() + chrono::Duration::hours(23)).to_rfc3339();
    let token: Secret = serde_json::from_value(json!({
        "metadata": {"name": "bootstrap-token-abcdef", "namespace": "kube-system"},
        "type": "bootstrap.kubernetes.io/token",
        "data": {
            "token-id": b64("abcdef"), "token-secret": b64(TOKEN_SECRET),
            "expiration": b64(&expiration),
            "usage-bootstrap-authentication": b64("true"), "usage-bootstrap-signing": b64("true"),
            "auth-extra-groups": b64(TOKEN_GROUP)
        }
    }))
    .unwrap();
    Api::<Secret>::namespaced(client.clone(), "kube-system")
        .create(&PostParams::default(), &token)
        .await
        .unwrap_or_else(|e| panic!("creating the bootstrap token: {e}"));
    for (name, role) in [
        ("kubeadm:kubelet-bootstrap", "system:node-bootstrapper"),
        (
            "kubeadm:node-autoapprove-bootstrap",
            "system:certificates.k8s.io:certificatesigningrequests:nodeclient",
        ),
    ] {
        let binding: ClusterRoleBinding = serde_json::from_value(json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": TOKEN_GROUP}]
        }))
        .unwrap();
        Api::<ClusterRoleBinding>::all(client.clone())
            .create(&PostParams::default(), &binding)
            .await
            .unwrap_or_else(|e| panic!("creating the binding {name}: {e}"));
    }
}

/// A CSR an interrupted earlier run would have left (labelled, prefixed, never approved).
async fn leftover_of_an_earlier_run(client: &kube::Client) {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, "system:node:old");
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "system:nodes");
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    let csr: CertificateSigningRequest = serde_json::from_value(json!({
        "metadata": {"name": format!("{}old", node_join::NAME_PREFIX), "labels": {node_join::LABEL: "old"}},
        "spec": {
            "request": base64::engine::general_purpose::STANDARD.encode(pem),
            "signerName": node_join::SIGNER, "usages": ["digital signature", "client auth"]
        }
    }))
    .unwrap();
    Api::<CertificateSigningRequest>::all(client.clone())
        .create(&PostParams::default(), &csr)
        .await
        .unwrap_or_else(|e| panic!("creating the leftover CSR: {e}"));
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_new_node_gets_its_certificate_and_without_the_signer_the_item_fails_in_time() {
    let cluster = up_on_1_36(1).await;
    let client = cluster.client().await.unwrap();
    bootstrap_like_kubeadm(&client).await;
    leftover_of_an_earlier_run(&client).await;

    // Healthy: issued by the real signer, the bootstrap evidence named, the leftover swept.
    let status = judge_node_join(&cluster, Duration::from_secs(120)).await;
    let joined = item(&status, "node-join");
    assert_eq!(joined.phase, ItemPhase::Success, "{status:#?}");
    assert_eq!(status.phase, TaskPhase::Success, "{status:#?}");
    for word in [
        "requested, approved and issued by",
        "1 usable token(s) of 1 (abcdef)",
        "kubeadm:kubelet-bootstrap",
        "kubeadm:node-autoapprove-bootstrap",
    ] {
        assert!(joined.message.contains(word), "{} should say {word}", joined.message);
    }
    let shown = serde_json::to_string(&status).unwrap();
    assert!(!shown.contains(TOKEN_SECRET), "the token's secret is shown: {shown}");
    assert_no_leftovers(&cluster, "a passing run and the sweep of an earlier leftover").await;

    // The signer gone: approved, never issued; the item gives up within its bounded wait
    // (half the check's 20 s deadline) and says why; the task is Failed, not Error.
    cluster
        .fault(Fault::ControllerManagerStopped)
        .await
        .unwrap_or_else(|e| panic!("stopping the controller-manager: {e}"));
    let status = judge_node_join(&cluster, Duration::from_secs(20)).await;
    let joined = item(&status, "node-join");
    assert_eq!((joined.phase, joined.level), (ItemPhase::Failed, Level::Fatal), "{status:#?}");
    assert_eq!(status.phase, TaskPhase::Failed, "{status:#?}");
    assert!(joined.message.contains("no certificate was issued within 10s"), "{}", joined.message);
    assert_names(joined, "CertificateSigningRequest", &joined.evidence[0].name);
    assert!(joined.evidence[0].name.starts_with(node_join::NAME_PREFIX), "{joined:#?}");
    assert_no_leftovers(&cluster, "a run whose certificate was never issued").await;

    // Interrupted while it waits for the signer: its guard deletes the CSR.
    let interrupted = tokio::time::timeout(
        Duration::from_secs(3),
        node_join::run(&client, Duration::from_secs(30)),
    )
    .await;
    assert!(interrupted.is_err(), "the run should still be waiting: {interrupted:?}");
    assert_no_leftovers(&cluster, "an interrupted run").await;
    cluster.down().await.unwrap();
}
