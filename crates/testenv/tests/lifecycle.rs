//! A cluster's life: up on 1.36 with three Ready nodes and the starting workloads, a real
//! upgrade to 1.37 that keeps every object, and a down that leaves no process behind.

use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Node, Service};
use kube::Api;
use kube::api::ListParams;
use postcheck_testenv::{NodesToMove, TestCluster, UpOptions};

fn alive(pid: u32) -> bool {
    // A zombie (state Z) is dead too.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

fn node_versions(nodes: &[Node]) -> Vec<(String, String)> {
    let mut v: Vec<(String, String)> = nodes
        .iter()
        .map(|n| {
            (
                n.metadata.name.clone().unwrap(),
                n.status.as_ref().unwrap().node_info.as_ref().unwrap().kubelet_version.clone(),
            )
        })
        .collect();
    v.sort();
    v
}

#[tokio::test]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn up_on_1_36_then_upgrade_to_1_37_keeps_everything_and_down_leaves_nothing() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let started = std::time::Instant::now();
    let mut cluster = TestCluster::up(UpOptions {
        version: "1.36".into(),
        nodes: 3,
        state_dir: None,
    })
    .await
    .unwrap_or_else(|e| {
        panic!(
            "the 1.36 control plane must start (are the binaries built? scripts/k8s-binaries): {e}"
        )
    });
    eprintln!("up (3 nodes) took {:.1}s", started.elapsed().as_secs_f64());

    // /version says 1.36, and three nodes are Ready.
    let client = cluster.client().await.unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert!(version.git_version.starts_with("v1.36."), "/version says {}", version.git_version);
    assert_eq!(format!("v{}", cluster.version()), version.git_version);
    let nodes: Api<Node> = Api::all(client.clone());
    let listed = nodes.list(&ListParams::default()).await.unwrap().items;
    assert_eq!(listed.len(), 3);
    for node in &listed {
        let ready = node
            .status
            .as_ref()
            .unwrap()
            .conditions
            .as_ref()
            .unwrap()
            .iter()
            .find(|c| c.type_ == "Ready")
            .unwrap();
        assert_eq!(ready.status, "True", "node {:?} is not Ready", node.metadata.name);
    }
    let before_deployments = Api::<Deployment>::all(client.clone())
        .list(&ListParams::default())
        .await
        .unwrap()
        .items
        .len();
    let before_services =
        Api::<Service>::all(client.clone()).list(&ListParams::default()).await.unwrap().items.len();
    assert!(
        before_deployments >= 4,
        "CoreDNS, web, api and worker at least; got {before_deployments}"
    );

    // A real upgrade: the control plane restarts on 1.37 over the same etcd; two of three
    // kubelets move.
    let old_apiserver =
        cluster.processes().into_iter().find(|p| p.component == "kube-apiserver").unwrap().pid;
    let started = std::time::Instant::now();
    cluster
        .upgrade("1.37", NodesToMove::Count(2))
        .await
        .unwrap_or_else(|e| panic!("the upgrade to 1.37 failed: {e}"));
    eprintln!("upgrade took {:.1}s", started.elapsed().as_secs_f64());
    assert!(!alive(old_apiserver), "the 1.36 kube-apiserver (pid {old_apiserver}) still runs");
    let client = cluster.client().await.unwrap();
    let version = client.apiserver_version().await.unwrap();
    assert!(
        version.git_version.starts_with("v1.37."),
        "/version says {} after the upgrade",
        version.git_version
    );
    assert_eq!(cluster.previous_version().as_deref().map(|v| v.starts_with("1.36.")), Some(true));
    let nodes: Api<Node> = Api::all(client.clone());
    let versions = node_versions(&nodes.list(&ListParams::default()).await.unwrap().items);
    let new = format!("v{}", cluster.version());
    let old = format!("v{}", cluster.previous_version().unwrap());
    assert_eq!(
        versions,
        vec![
            ("kwok-node-0".into(), new.clone()),
            ("kwok-node-1".into(), new),
            ("kwok-node-2".into(), old)
        ],
        "the first two kubelets moved, the third did not"
    );
    assert_eq!(
        Api::<Deployment>::all(client.clone())
            .list(&ListParams::default())
            .await
            .unwrap()
            .items
            .len(),
        before_deployments
    );
    assert_eq!(
        Api::<Service>::all(client.clone()).list(&ListParams::default()).await.unwrap().items.len(),
        before_services
    );
    let pending = cluster.unavailable().await.unwrap();
    assert!(pending.is_empty(), "after the upgrade: {pending:?}");

    // The state file says 1.37 too, for a later `attach`.
    let attached = TestCluster::attach(&cluster.state_dir()).unwrap();
    assert_eq!(attached.version(), cluster.version());
    drop(attached);

    // Down: every recorded pid is gone.
    let pids: Vec<u32> = cluster.processes().iter().map(|p| p.pid).collect();
    assert_eq!(pids.len(), 5, "etcd, apiserver, controller-manager, scheduler, kwok");
    assert!(pids.iter().all(|p| alive(*p)));
    let dir = cluster.state_dir();
    cluster.down().await.unwrap();
    let left: Vec<u32> = pids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "still running after down: {left:?}");
    assert!(!dir.exists(), "the state folder {} was not removed", dir.display());
}
