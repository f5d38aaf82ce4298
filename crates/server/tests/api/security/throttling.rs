//! Throttling: token buckets per source address and per credential for failed
//! authentications, per project and per source address for checks started; each refusal
//! is 429 CCE.02429001 with `Retry-After`.

use std::net::IpAddr;
use std::time::Duration;

use crate::helpers::*;

fn client_from(addr: &str) -> reqwest::Client {
    reqwest::Client::builder()
        .local_address(addr.parse::<IpAddr>().unwrap())
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap()
}

async fn assert_throttled(response: reqwest::Response) {
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    assert!(retry_after.is_some_and(|s| s >= 1), "no Retry-After");
    assert_cce_error(response, 429, "CCE.02429001").await;
}

#[tokio::test]
async fn failed_authentications_are_throttled_per_source_address() {
    let app = spawn_app_with(|c| c.throttle.auth_failures_per_minute = 3).await;
    let url = app.url(&format!("/api/v3/projects/{PROJECT}/clusters"));
    let guesser = client_from("127.0.0.2");
    for i in 0..3 {
        let r =
            guesser.get(&url).header("X-Auth-Token", format!("pct_guess{i}")).send().await.unwrap();
        assert_cce_error(r, 401, "CCE.01401001").await;
    }
    let r = guesser.get(&url).header("X-Auth-Token", "pct_guess-again").send().await.unwrap();
    assert_throttled(r).await;
    // The address is throttled whatever it sends; another address is not.
    let r = guesser.get(&url).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_throttled(r).await;
    let r =
        client_from("127.0.0.3").get(&url).header("X-Auth-Token", &app.token).send().await.unwrap();
    assert_eq!(r.status(), 200);
}

#[tokio::test]
async fn failed_signatures_of_one_access_key_are_throttled_across_addresses() {
    let app = spawn_app_with(|c| c.throttle.auth_failures_per_minute = 2).await;
    let url = app.url(&format!("/api/v3/projects/{PROJECT}/clusters"));
    for (i, addr) in ["127.0.0.4", "127.0.0.5"].iter().enumerate() {
        let headers = sdk_signed_headers("AKTHROTTLED000000000", "wrong", "GET", &url, b"");
        let r = client_from(addr).get(&url).headers(headers).send().await.unwrap();
        assert_eq!(r.status(), 401, "attempt {i}");
    }
    let headers = sdk_signed_headers("AKTHROTTLED000000000", "wrong", "GET", &url, b"");
    let r = client_from("127.0.0.6").get(&url).headers(headers).send().await.unwrap();
    assert_throttled(r).await;
}

#[tokio::test]
async fn checks_started_are_throttled_per_project() {
    let app = spawn_app_with(|c| c.throttle.checks_per_minute = 2).await;
    app.register_endpoint(CLUSTER, &refused_endpoint().await).await;
    let path = TestApp::postcheck_path(PROJECT, CLUSTER);
    for _ in 0..2 {
        assert_eq!(app.post_json(&path, &seed_request()).await.status(), 200);
    }
    assert_throttled(app.post_json(&path, &seed_request()).await).await;
}
