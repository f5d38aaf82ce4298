//! The service's client for a registered cluster speaks HTTP/2 to a real kube-apiserver, so
//! the fifty-odd lists of one check share one connection instead of opening one each.

use futures::future::join_all;
use postcheck_engine::access::ClusterCredentials;
use postcheck_server::cluster_client::transport;

use crate::helpers::control_plane;

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_registered_clusters_client_negotiates_http2_and_multiplexes_a_checks_lists() {
    let cluster = control_plane(1).await;
    let credentials = ClusterCredentials::Token {
        endpoint: cluster.server_url(),
        ca_pem: Some(cluster.ca_pem()),
        token: cluster.admin_token(),
    };
    let config = credentials.config().await.expect("a configuration from the credentials");
    let client = transport::client(&config).expect("a client");

    let version = |path: &'static str| {
        let client = client.clone();
        async move {
            let request = http::Request::get(path).body(kube::client::Body::empty()).unwrap();
            let response = client.send(request).await.expect("the API server answers");
            (response.status(), response.version())
        }
    };
    assert_eq!(version("/version").await, (http::StatusCode::OK, http::Version::HTTP_2));

    // As many requests at once as a check sends: every one answered, over HTTP/2.
    let answers = join_all((0..50).map(|_| version("/api/v1/namespaces?limit=1"))).await;
    assert!(
        answers.iter().all(|a| *a == (http::StatusCode::OK, http::Version::HTTP_2)),
        "{answers:?}"
    );

    // The typed API works through it as through kube's own client.
    let nodes: kube::Api<k8s_openapi::api::core::v1::Node> = kube::Api::all(client);
    assert_eq!(nodes.list(&Default::default()).await.expect("nodes are listed").items.len(), 1);
    cluster.down().await.expect("the control plane stops");
}
