//! `serve` over TLS (rustls, aws-lc-rs) when given a certificate and key.

use std::time::Duration;

use postcheck_server::config::TlsFiles;

use crate::helpers::*;

#[tokio::test]
async fn serves_https_with_the_given_certificate() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let dir = tempfile::tempdir().unwrap();
    let certified =
        rcgen::generate_simple_self_signed(vec!["localhost".into(), "127.0.0.1".into()]).unwrap();
    let (cert, key) = (dir.path().join("tls.crt"), dir.path().join("tls.key"));
    std::fs::write(&cert, certified.cert.pem()).unwrap();
    std::fs::write(&key, certified.signing_key.serialize_pem()).unwrap();

    let app =
        spawn_app_with(|c| c.tls = Some(TlsFiles { cert: cert.clone(), key: key.clone() })).await;
    let https = app.base.replace("http://", "https://");
    let client = reqwest::Client::builder()
        .add_root_certificate(
            reqwest::Certificate::from_pem(certified.cert.pem().as_bytes()).unwrap(),
        )
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    let response = client.get(format!("{https}/healthz")).send().await.expect("an HTTPS answer");
    assert_eq!(response.status(), 200);
    let response = client
        .get(format!("{https}/api/v3/projects/{PROJECT}/clusters"))
        .header("X-Auth-Token", &app.token)
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    // Plain HTTP on the TLS port is not served.
    assert!(
        app.http
            .get(format!("{}/healthz", app.base))
            .send()
            .await
            .map(|r| r.status() != 200)
            .unwrap_or(true)
    );
}
