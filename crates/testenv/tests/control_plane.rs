//! The control plane's own faults, each on a cluster of its own since it breaks the whole
//! cluster: with the controller-manager stopped, an approved kubelet client
//! CertificateSigningRequest is never issued (it was, a moment before, on the same cluster).

use std::time::Duration;

use k8s_openapi::api::certificates::v1::CertificateSigningRequest;
use kube::Api;
use kube::api::{DeleteParams, PostParams};
use postcheck_testenv::{Fault, TestCluster, UpOptions};
use serde_json::json;

/// Creates and approves a kubelet client CSR for `node` and waits up to `wait` for the
/// signer to issue it; returns whether it did. The CSR is deleted either way.
async fn csr_issued(client: &kube::Client, name: &str, node: &str, wait: Duration) -> bool {
    let key = rcgen::KeyPair::generate().unwrap();
    let mut params = rcgen::CertificateParams::new(Vec::<String>::new()).unwrap();
    params.distinguished_name.push(rcgen::DnType::CommonName, format!("system:node:{node}"));
    params.distinguished_name.push(rcgen::DnType::OrganizationName, "system:nodes");
    let pem = params.serialize_request(&key).unwrap().pem().unwrap();
    use base64::Engine;
    let csr: CertificateSigningRequest = serde_json::from_value(json!({
        "metadata": { "name": name },
        "spec": {
            "request": base64::engine::general_purpose::STANDARD.encode(pem),
            "signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "usages": ["digital signature", "client auth"],
            "expirationSeconds": 3600,
        },
    }))
    .unwrap();
    let api: Api<CertificateSigningRequest> = Api::all(client.clone());
    api.create(&PostParams::default(), &csr).await.unwrap();
    // Approve as kubectl certificate approve does: on the latest version, again on a conflict
    // (the API server's own controllers may touch the new CSR meanwhile).
    loop {
        let mut latest = api.get(name).await.unwrap();
        latest.status.get_or_insert_with(Default::default).conditions = Some(vec![
            serde_json::from_value(json!({
                "type": "Approved", "status": "True", "reason": "TestApproved", "message": "approved by the test",
            }))
            .unwrap(),
        ]);
        match api.replace_subresource("approval", name, &PostParams::default(), &latest).await {
            Ok(_) => break,
            Err(kube::Error::Api(e)) if e.code == 409 => continue,
            Err(e) => panic!("approving the CSR {name}: {e}"),
        }
    }
    let started = std::time::Instant::now();
    let issued = loop {
        let got = api.get(name).await.unwrap();
        if got.status.and_then(|s| s.certificate).is_some_and(|c| !c.0.is_empty()) {
            break true;
        }
        if started.elapsed() > wait {
            break false;
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    api.delete(name, &DeleteParams::default()).await.unwrap();
    issued
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn with_the_controller_manager_stopped_an_approved_csr_is_never_issued() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cluster = TestCluster::up(UpOptions { version: "1.36".into(), nodes: 1, state_dir: None })
        .await
        .unwrap_or_else(|e| panic!("the control plane must start: {e}"));
    let client = cluster.client().await.unwrap();
    assert!(
        csr_issued(&client, "before", "kwok-node-0", Duration::from_secs(30)).await,
        "the controller-manager's signer issues an approved kubelet client certificate"
    );
    let target = cluster.fault(Fault::ControllerManagerStopped).await.unwrap();
    assert_eq!(target.to_string(), "Lease kube-system/kube-controller-manager");
    assert!(
        !csr_issued(&client, "after", "kwok-node-0", Duration::from_secs(15)).await,
        "no signer runs any more"
    );
    let status = cluster.status().await.unwrap();
    let manager =
        status.processes.iter().find(|p| p.component == "kube-controller-manager").unwrap();
    assert!(!manager.running, "status shows it stopped");
    assert!(
        status.processes.iter().filter(|p| p.component != manager.component).all(|p| p.running)
    );
    cluster.down().await.unwrap();
}
