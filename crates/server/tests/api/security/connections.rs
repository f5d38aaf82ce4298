//! Connections: a slow or idle client holds nothing for long. Slowloris sockets are closed
//! within the header timeout while other clients are still answered; an idle keep-alive
//! socket is closed within the idle timeout; past the caps, clients wait (connections) or
//! get 503 at once (requests in flight).

use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::helpers::*;

const HEADER_TIMEOUT: Duration = Duration::from_secs(2);
const IDLE_TIMEOUT: Duration = Duration::from_secs(1);
/// How much later than its timeout a socket may be closed (scheduling, watchdog ticks).
const SLACK: Duration = Duration::from_millis(1500);

async fn app_with_timeouts() -> TestApp {
    spawn_app_with(|c| {
        c.connections.header_read_timeout = HEADER_TIMEOUT;
        c.connections.idle_timeout = IDLE_TIMEOUT;
    })
    .await
}

/// Reads until the peer closes; how long that took from `since`.
async fn closed_after(socket: &mut TcpStream, since: Instant, within: Duration) -> Duration {
    let mut buf = [0u8; 4096];
    let until = since + within;
    loop {
        let left = until.saturating_duration_since(Instant::now());
        match tokio::time::timeout(left, socket.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => return since.elapsed(),
            Ok(Ok(_)) => {}
            Err(_) => panic!("the socket is still open after {within:?}"),
        }
    }
}

#[tokio::test]
async fn fifty_slowloris_sockets_are_closed_in_time_and_a_51st_client_is_answered() {
    let app = app_with_timeouts().await;
    let mut slow = Vec::new();
    for _ in 0..50 {
        let mut socket = TcpStream::connect(app.addr).await.unwrap();
        socket.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n").await.unwrap();
        slow.push((socket, Instant::now()));
    }
    // Drip one header byte a socket every 200ms while another client asks.
    let answered = {
        let http = app.http.clone();
        let url = app.url("/healthz");
        tokio::spawn(async move {
            tokio::time::sleep(Duration::from_millis(500)).await;
            let started = Instant::now();
            let status = http.get(url).send().await.unwrap().status();
            (status, started.elapsed())
        })
    };
    for _ in 0..5 {
        for (socket, _) in slow.iter_mut() {
            let _ = socket.write_all(b"X").await;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let (status, took) = answered.await.unwrap();
    assert_eq!(status, 200);
    assert!(took < Duration::from_secs(1), "the 51st client waited {took:?}");
    for (socket, since) in slow.iter_mut() {
        let took = closed_after(socket, *since, HEADER_TIMEOUT + SLACK).await;
        assert!(took >= HEADER_TIMEOUT - Duration::from_millis(200), "closed early: {took:?}");
    }
}

#[tokio::test]
async fn a_socket_that_sends_nothing_is_closed_within_the_header_timeout() {
    let app = app_with_timeouts().await;
    let mut socket = TcpStream::connect(app.addr).await.unwrap();
    closed_after(&mut socket, Instant::now(), HEADER_TIMEOUT + SLACK).await;
}

#[tokio::test]
async fn an_idle_keep_alive_socket_is_closed_within_the_idle_timeout() {
    let app = app_with_timeouts().await;
    let mut socket = TcpStream::connect(app.addr).await.unwrap();
    socket.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut buf = [0u8; 4096];
    let n = socket.read(&mut buf).await.unwrap();
    assert!(String::from_utf8_lossy(&buf[..n]).starts_with("HTTP/1.1 200"));
    let answered = Instant::now();
    let took = closed_after(&mut socket, answered, IDLE_TIMEOUT + SLACK).await;
    assert!(took >= IDLE_TIMEOUT - Duration::from_millis(200), "closed early: {took:?}");
}

#[tokio::test]
async fn past_the_connection_cap_a_client_waits_for_a_free_slot() {
    let app = spawn_app_with(|c| {
        c.connections.max_connections = 2;
        c.connections.header_read_timeout = HEADER_TIMEOUT;
    })
    .await;
    let _held: Vec<TcpStream> = vec![
        TcpStream::connect(app.addr).await.unwrap(),
        TcpStream::connect(app.addr).await.unwrap(),
    ];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let started = Instant::now();
    let status = app.http.get(app.url("/healthz")).send().await.unwrap().status();
    assert_eq!(status, 200);
    assert!(
        started.elapsed() >= HEADER_TIMEOUT - Duration::from_millis(500),
        "served before a slot was freed: {:?}",
        started.elapsed()
    );
}

#[tokio::test]
async fn past_the_in_flight_cap_a_request_gets_503_in_cce_form_at_once() {
    let app = spawn_app_with(|c| {
        c.connections.max_in_flight = 1;
        c.check_deadline = Duration::from_secs(3);
    })
    .await;
    let (endpoint, _hole) = black_hole_endpoint().await;
    app.register_endpoint(CLUSTER, &endpoint).await;
    let holding = {
        let (http, url, token) = (
            app.http.clone(),
            app.url(&TestApp::postcheck_path(PROJECT, CLUSTER)),
            app.token.clone(),
        );
        tokio::spawn(async move {
            http.post(url).header("X-Auth-Token", token).json(&seed_request()).send().await.unwrap()
        })
    };
    tokio::time::sleep(Duration::from_millis(500)).await;
    let started = Instant::now();
    let refused = app.get(&format!("/api/v3/projects/{PROJECT}/clusters")).await;
    assert!(started.elapsed() < Duration::from_secs(1));
    let body = assert_cce_error(refused, 503, "CCE.01503002").await;
    assert!(body["errorMessage"].as_str().unwrap().contains("capacity"), "{body}");
    assert_eq!(holding.await.unwrap().status(), 200);
}
