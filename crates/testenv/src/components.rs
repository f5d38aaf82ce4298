//! The control plane's components and their command lines: etcd, kube-apiserver,
//! kube-controller-manager, kube-scheduler and kwok, every one bound to 127.0.0.1 on the
//! ports chosen for this cluster, with its files in the cluster's state folder.

use std::path::PathBuf;

use crate::pki::PkiFiles;
use crate::state::{Layout, Ports};

/// etcd's component name.
pub(crate) const ETCD: &str = "etcd";
/// kube-apiserver's component name.
pub(crate) const APISERVER: &str = "kube-apiserver";
/// kube-controller-manager's component name.
pub(crate) const CONTROLLER_MANAGER: &str = "kube-controller-manager";
/// kube-scheduler's component name.
pub(crate) const SCHEDULER: &str = "kube-scheduler";
/// kwok's component name.
pub(crate) const KWOK: &str = "kwok";

/// The Kubernetes user each component authenticates as (static tokens), with its groups.
pub(crate) fn identity(component: &str) -> (&'static str, &'static str) {
    match component {
        CONTROLLER_MANAGER => ("system:kube-controller-manager", ""),
        SCHEDULER => ("system:kube-scheduler", ""),
        // kwok plays every kubelet and needs to write any node's and pod's status.
        KWOK => ("kwok-controller", "system:masters"),
        _ => ("postcheck-admin", "system:masters"),
    }
}

/// The annotation kwok selects its nodes by (`--manage-nodes-with-annotation-selector`).
pub(crate) const KWOK_NODE_ANNOTATION: (&str, &str) = ("kwok.x-k8s.io/node", "fake");

/// How the kwok "kubelets" heartbeat and how long the node-lifecycle controller waits for a
/// heartbeat before it marks a node's Ready condition Unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Heartbeat {
    /// The node lease duration kwok uses; it renews every quarter of it, like a kubelet.
    pub lease_seconds: u64,
    /// `--node-monitor-grace-period` of the controller-manager.
    pub grace_seconds: u64,
}

impl Default for Heartbeat {
    fn default() -> Heartbeat {
        Heartbeat::for_nodes(0)
    }
}

impl Heartbeat {
    /// Short on small clusters, so a NodeNotReady fault shows within ~20s (the defaults are
    /// 40s/50s); longer on big ones, where renewing a lease every 4s per node would keep two
    /// cores busy with lease writes alone (1,000 nodes: 250 writes/s).
    pub fn for_nodes(nodes: usize) -> Heartbeat {
        if nodes <= 50 {
            Heartbeat { lease_seconds: 16, grace_seconds: 16 }
        } else {
            Heartbeat { lease_seconds: 120, grace_seconds: 150 }
        }
    }
}

/// Leader election timings of the controller-manager and the scheduler. Both release their
/// Lease when they stop (the controller-manager through the
/// `ControllerManagerReleaseLeaderElectionLockOnExit` gate), so an upgrade's new process
/// takes it over at its next retry, one second later, whatever the lease duration. The
/// renew deadline is long (the default is 10s): a leader that cannot renew within it exits,
/// and while `testcluster populate` saturates the API server a renewal can take longer
/// than the default allows (both components exited so on a 1,000-node cluster).
const LEADER_ELECTION: [&str; 3] = [
    "--leader-elect-lease-duration=60s",
    "--leader-elect-renew-deadline=45s",
    "--leader-elect-retry-period=1s",
];

fn path(p: PathBuf) -> String {
    p.to_string_lossy().into_owned()
}

/// etcd's arguments.
pub(crate) fn etcd_args(layout: &Layout, ports: &Ports) -> Vec<String> {
    let client = format!("http://127.0.0.1:{}", ports.etcd_client);
    let peer = format!("http://127.0.0.1:{}", ports.etcd_peer);
    vec![
        "--name=default".into(),
        format!("--data-dir={}", path(layout.etcd_data())),
        format!("--listen-client-urls={client}"),
        format!("--advertise-client-urls={client}"),
        format!("--listen-peer-urls={peer}"),
        format!("--initial-advertise-peer-urls={peer}"),
        format!("--initial-cluster=default={peer}"),
        "--initial-cluster-state=new".into(),
        // A throwaway test cluster: durability is not worth the fsync latency.
        "--unsafe-no-fsync=true".into(),
        "--quota-backend-bytes=4294967296".into(),
        "--log-level=warn".into(),
    ]
}

/// kube-apiserver's arguments.
pub(crate) fn apiserver_args(layout: &Layout, ports: &Ports, pki: &PkiFiles) -> Vec<String> {
    vec![
        format!("--etcd-servers=http://127.0.0.1:{}", ports.etcd_client),
        "--bind-address=127.0.0.1".into(),
        "--advertise-address=127.0.0.1".into(),
        format!("--secure-port={}", ports.apiserver),
        format!("--tls-cert-file={}", path(pki.apiserver_cert.clone())),
        format!("--tls-private-key-file={}", path(pki.apiserver_key.clone())),
        format!("--client-ca-file={}", path(pki.ca_cert.clone())),
        format!("--token-auth-file={}", path(layout.token_file())),
        "--authorization-mode=Node,RBAC".into(),
        "--service-account-issuer=https://kubernetes.default.svc.cluster.local".into(),
        format!("--service-account-key-file={}", path(pki.sa_pub.clone())),
        format!("--service-account-signing-key-file={}", path(pki.sa_key.clone())),
        "--service-cluster-ip-range=10.96.0.0/16".into(),
        "--allow-privileged=true".into(),
        format!("--cert-dir={}", path(layout.scratch(APISERVER))),
        "--profiling=false".into(),
        // Endpoints may not hold a loopback address, so the `kubernetes` Service (which has
        // no selector) cannot list 127.0.0.1; without this the API server retries every 10s.
        "--endpoint-reconciler-type=none".into(),
        // Resolve webhook and APIService Services to their endpoints, never to a ClusterIP:
        // nothing on this machine routes ClusterIPs, and the faults' Services have no
        // endpoints, so the API server answers "no endpoints" without dialling anything.
        "--enable-aggregator-routing=true".into(),
        "--max-requests-inflight=800".into(),
        "--max-mutating-requests-inflight=400".into(),
    ]
}

/// kube-controller-manager's arguments.
pub(crate) fn controller_manager_args(
    layout: &Layout,
    ports: &Ports,
    pki: &PkiFiles,
    heartbeat: Heartbeat,
) -> Vec<String> {
    let kubeconfig = path(layout.kubeconfig(CONTROLLER_MANAGER));
    let mut args = vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={}", ports.controller_manager),
        format!("--cert-dir={}", path(layout.scratch(CONTROLLER_MANAGER))),
        "--leader-elect=true".into(),
        "--use-service-account-credentials=true".into(),
        format!("--service-account-private-key-file={}", path(pki.sa_key.clone())),
        format!("--root-ca-file={}", path(pki.ca_cert.clone())),
        // The CSR signer (kubelet client and serving certificates, as kubeadm configures it):
        // without these files the controller-manager skips it and no CSR is ever issued.
        format!("--cluster-signing-cert-file={}", path(pki.ca_cert.clone())),
        format!("--cluster-signing-key-file={}", path(pki.ca_key.clone())),
        "--cluster-name=postcheck-testcluster".into(),
        // Release the leader Lease on SIGTERM (alpha since 1.36), as the scheduler does, so an
        // upgrade's new controller-manager leads at once instead of after the lease expires.
        "--feature-gates=ControllerManagerReleaseLeaderElectionLockOnExit=true".into(),
        format!("--node-monitor-grace-period={}s", heartbeat.grace_seconds),
        "--node-monitor-period=2s".into(),
        // A claim created before the PV controller started is otherwise looked at again only
        // after 15s; `up` waits for the shop's claim to be Bound.
        "--pvclaimbinder-sync-period=2s".into(),
        "--kube-api-qps=200".into(),
        "--kube-api-burst=400".into(),
        "--concurrent-deployment-syncs=10".into(),
        "--concurrent-replicaset-syncs=10".into(),
        "--concurrent-daemonset-syncs=4".into(),
        "--profiling=false".into(),
    ];
    args.extend(LEADER_ELECTION.iter().map(|s| s.to_string()));
    args
}

/// kube-scheduler's arguments.
pub(crate) fn scheduler_args(layout: &Layout, ports: &Ports) -> Vec<String> {
    let kubeconfig = path(layout.kubeconfig(SCHEDULER));
    let mut args = vec![
        format!("--kubeconfig={kubeconfig}"),
        format!("--authentication-kubeconfig={kubeconfig}"),
        format!("--authorization-kubeconfig={kubeconfig}"),
        "--bind-address=127.0.0.1".into(),
        format!("--secure-port={}", ports.scheduler),
        format!("--cert-dir={}", path(layout.scratch(SCHEDULER))),
        "--leader-elect=true".into(),
        "--kube-api-qps=200".into(),
        "--kube-api-burst=400".into(),
        "--profiling=false".into(),
    ];
    args.extend(LEADER_ELECTION.iter().map(|s| s.to_string()));
    args
}

/// kwok's arguments: it manages only the nodes annotated `kwok.x-k8s.io/node=fake`, with the
/// stage files given.
pub(crate) fn kwok_args(
    layout: &Layout,
    ports: &Ports,
    stage_files: &[PathBuf],
    heartbeat: Heartbeat,
) -> Vec<String> {
    let mut args = vec![
        format!("--kubeconfig={}", path(layout.kubeconfig(KWOK))),
        "--manage-all-nodes=false".into(),
        format!(
            "--manage-nodes-with-annotation-selector={}={}",
            KWOK_NODE_ANNOTATION.0, KWOK_NODE_ANNOTATION.1
        ),
        format!("--server-address=127.0.0.1:{}", ports.kwok),
        format!("--node-lease-duration-seconds={}", heartbeat.lease_seconds),
        "--cidr=10.244.0.1/16".into(),
    ];
    args.extend(stage_files.iter().map(|f| format!("--config={}", f.display())));
    args
}
