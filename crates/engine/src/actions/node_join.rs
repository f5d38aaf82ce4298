//! Node join: CCE's "a new node can still join" (its post-upgrade item 7), as an action.
//!
//! Opt-in (`--node-join`, or `nodeJoin.enabled` in the policy) because it writes. It walks
//! the path a new node's kubelet takes once it has authenticated: a private key and a
//! certificate request made here (rcgen, on the workspace's aws-lc-rs provider) for
//! `CN=system:node:<name>, O=system:nodes`, sent as a CertificateSigningRequest to the
//! signer `kubernetes.io/kube-apiserver-client-kubelet` with the usages digital signature
//! and client auth; approved (the `approval` subresource, condition Approved, as the CSR
//! approving controller does for a bootstrapping node); then a bounded wait, inside the
//! check's deadline, for the controller-manager's signer to issue `status.certificate`,
//! which is read back ([`inspect`]) for the `node-join` item to judge. The private key never
//! leaves this process and the certificate is short-lived (`expirationSeconds`: 10 min).
//!
//! Whatever happens the CSR is deleted: before it returns (failure and timeout included);
//! when the run is interrupted (its future dropped) a cleanup task is spawned; and every
//! run first sweeps the CSRs earlier runs left, found by their label ([`LABEL`]; their
//! names start with [`NAME_PREFIX`]).
//!
//! Least privilege, exactly: `create`, `get`, `list` and `delete` on
//! `certificatesigningrequests`, `update` on `certificatesigningrequests/approval`, and
//! `approve` on `signers` with resourceName `kubernetes.io/kube-apiserver-client-kubelet`
//! (group `certificates.k8s.io`).

use std::time::{Duration, Instant};

use base64::Engine as _;
use chrono::{DateTime, Utc};
use k8s_openapi::api::certificates::v1::{
    CertificateSigningRequest, CertificateSigningRequestCondition,
};
use kube::api::{Api, DeleteParams, ListParams, PostParams};
use rcgen::{CertificateParams, DistinguishedName, DnType, KeyPair, PublicKeyData};
use serde_json::json;

use super::CleanupGuard;
use crate::error_chain::chain;
use crate::snapshot::{IssuedCertificate, NodeJoinOutcome};

/// The label on every CSR it creates; its value is the run's id.
pub const LABEL: &str = "postcheck.io/node-join";
/// The prefix of the CSRs' names (and of the node names they ask for).
pub const NAME_PREFIX: &str = "postcheck-node-join-";
/// The signer of kubelet client certificates.
pub const SIGNER: &str = "kubernetes.io/kube-apiserver-client-kubelet";
/// The group every node's client certificate names.
pub const NODES_GROUP: &str = "system:nodes";
/// The longest the signer is waited for (less when the check's deadline is short).
pub const ISSUE_WAIT: Duration = Duration::from_secs(30);
/// The issued certificate's lifetime asked for (the API's minimum).
const EXPIRATION_SECONDS: i32 = 600;
const POLL: Duration = Duration::from_millis(250);
/// How many times an approval that met a concurrent write (409) is retried.
const APPROVAL_ATTEMPTS: u32 = 5;

/// How long a run within a check of `deadline` waits for the signer: [`ISSUE_WAIT`], or
/// half the deadline when that is shorter, so that the item fails in time rather than the
/// whole check running out.
pub fn issue_wait_within(deadline: Duration) -> Duration {
    ISSUE_WAIT.min(deadline / 2)
}

/// Runs the node-join check, waiting at most `wait` for the signer: sweep, request,
/// approve, wait, read back, delete.
pub async fn run(client: &kube::Client, wait: Duration) -> NodeJoinOutcome {
    let started = Instant::now();
    let id = format!("{:x}", Utc::now().timestamp_millis());
    let name = format!("{NAME_PREFIX}{id}");
    let mut outcome = NodeJoinOutcome {
        csr: name.clone(),
        node: name.clone(),
        certificate: None,
        failure: None,
        setup_error: None,
        cleanup_error: None,
        wait_ms: millis(wait),
        elapsed_ms: 0,
    };
    if let Err(e) = sweep(client).await {
        outcome.setup_error = Some(format!("sweeping the CSRs of earlier runs: {}", chain(&e)));
        return outcome;
    }
    let mut guard = CleanupGuard::new({
        let (client, name) = (client.clone(), name.clone());
        async move {
            let _ = Api::<CertificateSigningRequest>::all(client)
                .delete(&name, &DeleteParams::default())
                .await;
        }
    });
    match exercise(client, &name, &id, wait).await {
        Ok(Ok(certificate)) => outcome.certificate = Some(certificate),
        Ok(Err(failure)) => outcome.failure = Some(failure),
        Err(setup) => outcome.setup_error = Some(setup),
    }
    outcome.elapsed_ms = millis(started.elapsed());
    outcome.cleanup_error = clean_up(client, &name).await.err();
    if outcome.cleanup_error.is_none() {
        guard.disarm();
    }
    drop(guard);
    outcome
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

/// Deletes every CSR an earlier run left behind.
pub async fn sweep(client: &kube::Client) -> Result<(), kube::Error> {
    let api = Api::<CertificateSigningRequest>::all(client.clone());
    for csr in api.list_metadata(&ListParams::default().labels(LABEL)).await?.items {
        let Some(name) = csr.metadata.name else { continue };
        match api.delete(&name, &DeleteParams::default()).await {
            Ok(_) | Err(kube::Error::Api(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

/// A fresh key and its certificate request for the node `node`, as PEM; the key's
/// SubjectPublicKeyInfo (DER) to recognise the certificate by.
fn request(node: &str) -> Result<(String, Vec<u8>), rcgen::Error> {
    let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)?;
    let mut params = CertificateParams::new(Vec::<String>::new())?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, format!("system:node:{node}"));
    subject.push(DnType::OrganizationName, NODES_GROUP);
    params.distinguished_name = subject;
    let csr = params.serialize_request(&key)?;
    Ok((csr.pem()?, key.subject_public_key_info()))
}

/// The CertificateSigningRequest object for `pem`.
fn csr_object(name: &str, id: &str, pem: &str) -> serde_json::Value {
    json!({
        "apiVersion": "certificates.k8s.io/v1", "kind": "CertificateSigningRequest",
        "metadata": { "name": name, "labels": { LABEL: id, "app.kubernetes.io/managed-by": "postcheck" } },
        "spec": {
            "request": base64::engine::general_purpose::STANDARD.encode(pem),
            "signerName": SIGNER,
            "usages": ["digital signature", "client auth"],
            "expirationSeconds": EXPIRATION_SECONDS
        }
    })
}

/// Creates, approves and waits for the CSR `name`: `Err` when it could not be set up,
/// `Ok(Err)` when the path failed, `Ok(Ok)` with what the issued certificate says.
async fn exercise(
    client: &kube::Client,
    name: &str,
    id: &str,
    wait: Duration,
) -> Result<Result<IssuedCertificate, String>, String> {
    let (pem, public_key) =
        request(name).map_err(|e| format!("making the key and certificate request: {e}"))?;
    let object: CertificateSigningRequest = serde_json::from_value(csr_object(name, id, &pem))
        .map_err(|e| format!("building the CertificateSigningRequest: {e}"))?;
    let api = Api::<CertificateSigningRequest>::all(client.clone());
    api.create(&PostParams::default(), &object)
        .await
        .map_err(|e| format!("creating the CertificateSigningRequest {name}: {}", chain(&e)))?;
    approve(&api, name)
        .await
        .map_err(|e| format!("approving the CertificateSigningRequest {name}: {}", chain(&e)))?;
    let approved = Instant::now();
    let until = approved + wait;
    loop {
        let csr = api
            .get(name)
            .await
            .map_err(|e| format!("reading the CertificateSigningRequest {name}: {}", chain(&e)))?;
        let status = csr.status.unwrap_or_default();
        if let Some(c) = status
            .conditions
            .iter()
            .flatten()
            .find(|c| (c.type_ == "Denied" || c.type_ == "Failed") && c.status == "True")
        {
            let why =
                [c.reason.clone(), c.message.clone()].into_iter().flatten().collect::<Vec<_>>();
            return Ok(Err(format!(
                "the CertificateSigningRequest {name} was {} instead of issued{}",
                c.type_.to_lowercase(),
                if why.is_empty() { String::new() } else { format!(": {}", why.join(": ")) }
            )));
        }
        if let Some(cert) = status.certificate.filter(|c| !c.0.is_empty()) {
            return Ok(inspect(&cert.0, &public_key));
        }
        if Instant::now() >= until {
            return Ok(Err(format!(
                "no certificate was issued within {}s of approving the CertificateSigningRequest {name}: the signer {SIGNER} (kube-controller-manager's csrsigning controller) did not sign it; is kube-controller-manager running with a signing CA?",
                wait.as_secs_f64()
            )));
        }
        tokio::time::sleep(POLL.min(until.saturating_duration_since(Instant::now()))).await;
    }
}

/// Approves the CSR `name` through its `approval` subresource (an update, as `kubectl
/// certificate approve` does). The CSR approving controller may have decided first (it
/// auto-approves a node client CSR whose requester may create `nodeclient` requests, an
/// admin's included): a decided CSR is left as it is, and one written meanwhile (409
/// Conflict) is read again and the approval retried, a few times.
async fn approve(api: &Api<CertificateSigningRequest>, name: &str) -> Result<(), kube::Error> {
    let mut attempt = 0;
    loop {
        let mut csr = api.get(name).await?;
        let mut status = csr.status.take().unwrap_or_default();
        let decided = status.conditions.iter().flatten().any(|c| {
            matches!(c.type_.as_str(), "Approved" | "Denied" | "Failed") && c.status == "True"
        });
        if decided {
            return Ok(());
        }
        status.conditions.get_or_insert_with(Vec::new).push(CertificateSigningRequestCondition {
            type_: "Approved".into(),
            status: "True".into(),
            reason: Some("PostcheckNodeJoin".into()),
            message: Some("approved by postcheck's node-join check".into()),
            ..Default::default()
        });
        csr.status = Some(status);
        match api.replace_subresource("approval", name, &PostParams::default(), &csr).await {
            Err(kube::Error::Api(s)) if s.code == 409 && attempt < APPROVAL_ATTEMPTS => {
                attempt += 1;
            }
            other => return other.map(|_| ()),
        }
    }
}

/// What the certificate `pem` (as the signer issued it) says, for the item to judge;
/// `requested_key` is the request's SubjectPublicKeyInfo (DER). `Err` when it is not a
/// readable X.509 certificate.
pub(crate) fn inspect(pem: &[u8], requested_key: &[u8]) -> Result<IssuedCertificate, String> {
    let (_, pem) = x509_parser::pem::parse_x509_pem(pem)
        .map_err(|e| format!("the issued certificate is not PEM: {e}"))?;
    let cert = pem
        .parse_x509()
        .map_err(|e| format!("the issued certificate is not a readable X.509 certificate: {e}"))?;
    let time = |t: &x509_parser::time::ASN1Time| {
        DateTime::<Utc>::from_timestamp(t.timestamp(), 0)
            .ok_or_else(|| format!("the issued certificate's validity {t} is out of range"))
    };
    let strings = |it: &mut dyn Iterator<Item = &x509_parser::x509::AttributeTypeAndValue<'_>>| {
        it.filter_map(|a| a.as_str().ok()).map(str::to_owned).collect::<Vec<_>>()
    };
    Ok(IssuedCertificate {
        common_names: strings(&mut cert.subject().iter_common_name()),
        organizations: strings(&mut cert.subject().iter_organization()),
        issuer: cert.issuer().to_string(),
        not_before: time(&cert.validity().not_before)?,
        not_after: time(&cert.validity().not_after)?,
        client_auth: cert
            .extended_key_usage()
            .ok()
            .flatten()
            .is_some_and(|e| e.value.client_auth || e.value.any),
        key_matches: cert.public_key().raw == requested_key,
    })
}

/// Deletes the CSR (it has no finalizers: it is gone when the API answers).
async fn clean_up(client: &kube::Client, name: &str) -> Result<(), String> {
    match Api::<CertificateSigningRequest>::all(client.clone())
        .delete(name, &DeleteParams::default())
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(format!("deleting the CertificateSigningRequest {name}: {}", chain(&e))),
    }
}

#[cfg(test)]
mod tests {
    use rcgen::{BasicConstraints, ExtendedKeyUsagePurpose, IsCa, Issuer, KeyUsagePurpose};

    use super::*;

    /// A CA, and a certificate it signs for `key` with `cn` and `o`.
    fn issued(key: &KeyPair, cn: &str, o: &str, client_auth: bool) -> String {
        let ca_key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
        ca.distinguished_name.push(DnType::CommonName, "kubernetes");
        ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
        ca.key_usages = vec![KeyUsagePurpose::KeyCertSign];
        let issuer = Issuer::new(ca, ca_key);
        let mut leaf = CertificateParams::new(Vec::<String>::new()).unwrap();
        leaf.distinguished_name = DistinguishedName::new();
        leaf.distinguished_name.push(DnType::CommonName, cn);
        leaf.distinguished_name.push(DnType::OrganizationName, o);
        if client_auth {
            leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        }
        leaf.signed_by(key, &issuer).unwrap().pem()
    }

    #[test]
    fn the_request_names_the_node_in_system_nodes_and_the_object_asks_the_kubelet_signer() {
        let (pem, key) = request("postcheck-node-join-1").unwrap();
        assert!(pem.starts_with("-----BEGIN CERTIFICATE REQUEST-----"), "{pem}");
        assert!(!key.is_empty());
        let (_, parsed) = x509_parser::pem::parse_x509_pem(pem.as_bytes()).unwrap();
        let (_, csr) = <x509_parser::certification_request::X509CertificationRequest as x509_parser::prelude::FromDer<_>>::from_der(&parsed.contents).unwrap();
        let subject = csr.certification_request_info.subject.to_string();
        assert_eq!(subject, "CN=system:node:postcheck-node-join-1, O=system:nodes");
        assert_eq!(csr.certification_request_info.subject_pki.raw, key.as_slice());
        let object: CertificateSigningRequest =
            serde_json::from_value(csr_object("postcheck-node-join-1", "1", &pem)).unwrap();
        let spec = object.spec;
        assert_eq!(spec.signer_name, SIGNER);
        assert_eq!(spec.usages.unwrap(), ["digital signature", "client auth"]);
        assert_eq!(spec.request.0, pem.as_bytes());
        assert_eq!(object.metadata.labels.unwrap()[LABEL], "1");
    }

    #[test]
    fn an_issued_certificate_is_read_back_with_its_subject_issuer_validity_and_key() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let pem = issued(&key, "system:node:n1", "system:nodes", true);
        let c = inspect(pem.as_bytes(), &key.subject_public_key_info()).unwrap();
        assert_eq!(c.common_names, ["system:node:n1"]);
        assert_eq!(c.organizations, ["system:nodes"]);
        assert_eq!(c.issuer, "CN=kubernetes");
        assert!(c.not_before < c.not_after);
        assert!(c.client_auth && c.key_matches);
    }

    #[test]
    fn a_certificate_for_another_key_or_without_client_auth_says_so() {
        let key = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let other = KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256).unwrap();
        let pem = issued(&other, "system:node:n1", "system:nodes", false);
        let c = inspect(pem.as_bytes(), &key.subject_public_key_info()).unwrap();
        assert!(!c.key_matches && !c.client_auth);
    }

    #[test]
    fn what_is_not_a_certificate_is_an_error() {
        assert!(inspect(b"hello", b"").unwrap_err().contains("not PEM"));
        let junk = "-----BEGIN CERTIFICATE-----\naGVsbG8=\n-----END CERTIFICATE-----\n";
        assert!(inspect(junk.as_bytes(), b"").unwrap_err().contains("not a readable X.509"));
    }

    #[test]
    fn the_wait_fits_in_the_checks_deadline() {
        assert_eq!(issue_wait_within(Duration::from_secs(120)), ISSUE_WAIT);
        assert_eq!(issue_wait_within(Duration::from_secs(20)), Duration::from_secs(10));
    }
}
