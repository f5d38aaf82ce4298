//! Every error is CCE's JSON with `X-Request-Id`, whoever answers it (a handler or the
//! framework), and `/metrics` stays bounded whatever methods and paths clients send.

use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

#[tokio::test]
async fn framework_errors_answer_in_cce_form() {
    let app = spawn_app_with(|c| c.max_body_bytes = 1024).await;
    // Unknown routes, with and without credentials.
    assert_cce_error(app.http.get(app.url("/nope")).send().await.unwrap(), 404, "CCE.01404001")
        .await;
    assert_cce_error(app.get("/api/v3/nope").await, 404, "CCE.01404001").await;
    // A known route with a method it does not take.
    let postcheck = app.url(&TestApp::postcheck_path(PROJECT, CLUSTER));
    let response =
        app.http.delete(&postcheck).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_cce_error(response, 405, "CCE.01405001").await;
    let response = app.http.put(app.url("/healthz")).send().await.unwrap();
    assert_cce_error(response, 405, "CCE.01405001").await;
    // Too large, declared and streamed.
    let big = vec![b' '; 4096];
    let response = app
        .post_raw(&TestApp::postcheck_path(PROJECT, CLUSTER), "application/json", big, &[])
        .await;
    assert_cce_error(response, 413, "CCE.01413001").await;
    // Not JSON.
    let response = app
        .post_raw(&TestApp::postcheck_path(PROJECT, CLUSTER), "text/plain", b"{}".to_vec(), &[])
        .await;
    assert_cce_error(response, 400, "CCE.01400006").await;
}

#[tokio::test]
async fn a_body_that_does_not_arrive_in_time_is_408_in_cce_form() {
    let app = spawn_app_with(|c| c.connections.body_read_timeout = Duration::from_secs(1)).await;
    let mut socket = TcpStream::connect(app.addr).await.unwrap();
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: x\r\nX-Auth-Token: {}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{{",
        TestApp::postcheck_path(PROJECT, CLUSTER),
        app.token
    );
    socket.write_all(head.as_bytes()).await.unwrap();
    let mut answer = Vec::new();
    let read = tokio::time::timeout(Duration::from_secs(5), async {
        let mut buf = [0u8; 4096];
        loop {
            let n = socket.read(&mut buf).await.unwrap_or(0);
            answer.extend_from_slice(&buf[..n]);
            if n == 0 || String::from_utf8_lossy(&answer).contains("}") {
                break;
            }
        }
    })
    .await;
    assert!(read.is_ok(), "no answer within 5s");
    let text = String::from_utf8_lossy(&answer).to_ascii_lowercase();
    assert!(text.starts_with("http/1.1 408"), "{text}");
    assert!(text.contains("x-request-id:"), "{text}");
    assert!(text.contains("\"errorcode\":\"cce.01408001\""), "{text}");
}

#[tokio::test]
async fn metrics_stay_bounded_under_a_thousand_unknown_methods_and_paths() {
    let app = spawn_app().await;
    let before = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    let mut sent = Vec::new();
    for i in 0..1000 {
        let method = reqwest::Method::from_bytes(format!("X{i:04}").as_bytes()).unwrap();
        let path = format!("/random/{i}/{}", uuid::Uuid::new_v4());
        sent.push(app.http.request(method, app.url(&path)).send());
        if sent.len() == 50 {
            for r in futures::future::join_all(sent.drain(..)).await {
                let status = r.unwrap().status().as_u16();
                assert!(status == 404 || status == 405, "{status}");
            }
        }
    }
    let after = app.http.get(app.url("/metrics")).send().await.unwrap().text().await.unwrap();
    assert!(
        after.len() < before.len() + 8 * 1024,
        "/metrics grew from {} to {} bytes",
        before.len(),
        after.len()
    );
    assert!(!after.contains("X0999") && !after.contains("/random/"), "raw input became a label");
    assert!(after.contains(r#"method="other",route="unmatched""#), "{after}");
}
