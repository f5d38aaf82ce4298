//! Builder-style fixtures for hand-built snapshots, so a check's tests read like the
//! cluster they describe:
//!
//! ```
//! use postcheck_engine::fixture::NodeFixture;
//! use postcheck_engine::snapshot::Snapshot;
//! let snapshot = Snapshot::test().node(NodeFixture::ready("n1").kubelet("v1.37.2"));
//! assert_eq!(snapshot.node_list().len(), 1);
//! ```
//!
//! `Snapshot::test()` is a healthy control plane at v1.37.2 (health checks ok, both
//! leader-election Leases just renewed) with no nodes and no pods; every list is gathered.
//! Public (not test-only) so the service's tests can build snapshots too.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::snapshot::{
    Condition, Container, Gathered, HealthCheck, Lease, Node, Owner, Pod, Snapshot, Source, Taint,
    Unavailable,
};

/// The instant every fixture snapshot is taken at.
pub fn fixture_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 5, 0, 0).single().expect("a valid fixture time")
}

impl Snapshot {
    /// A healthy v1.37.2 control plane with no nodes and no pods.
    pub fn test() -> Self {
        let at = fixture_time();
        let mut s = Snapshot::empty(at);
        s.server_time = Some(at);
        s.server_version = Gathered::Ok("v1.37.2".into());
        s.health = Gathered::Ok(
            ["readyz", "livez"]
                .iter()
                .flat_map(|e| {
                    ["ping", "etcd", "log"].map(|n| HealthCheck {
                        endpoint: (*e).into(),
                        name: n.into(),
                        ok: true,
                        detail: "ok".into(),
                    })
                })
                .collect(),
        );
        s.nodes = Gathered::Ok(vec![]);
        s.pods = Gathered::Ok(vec![]);
        s.leases = Gathered::Ok(vec![
            lease("kube-controller-manager", at - Duration::seconds(1)),
            lease("kube-scheduler", at - Duration::seconds(1)),
        ]);
        s.with_empty_object_lists()
    }

    /// Sets the API server's version.
    pub fn version(mut self, git_version: &str) -> Self {
        self.server_version = Gathered::Ok(git_version.into());
        self
    }

    /// Adds a node.
    pub fn node(mut self, node: NodeFixture) -> Self {
        if let Gathered::Ok(nodes) = &mut self.nodes {
            nodes.push(node.0);
        }
        self
    }

    /// Adds several nodes.
    pub fn nodes(self, nodes: impl IntoIterator<Item = NodeFixture>) -> Self {
        nodes.into_iter().fold(self, Snapshot::node)
    }

    /// Adds a pod.
    pub fn pod(mut self, pod: PodFixture) -> Self {
        if let Gathered::Ok(pods) = &mut self.pods {
            pods.push(pod.0);
        }
        self
    }

    /// Replaces the kube-system Lease `name` with one last renewed `age` before the snapshot.
    pub fn lease_renewed(mut self, name: &str, age: Duration) -> Self {
        let at = self.now();
        if let Gathered::Ok(leases) = &mut self.leases {
            leases.retain(|l| l.name != name);
            leases.push(lease(name, at - age));
        }
        self
    }

    /// Removes the kube-system Lease `name`.
    pub fn without_lease(mut self, name: &str) -> Self {
        if let Gathered::Ok(leases) = &mut self.leases {
            leases.retain(|l| l.name != name);
        }
        self
    }

    /// Marks the health check `endpoint/name` (`readyz/etcd`) failed with `detail`.
    pub fn health_failed(mut self, endpoint: &str, name: &str, detail: &str) -> Self {
        if let Gathered::Ok(checks) = &mut self.health {
            for c in checks.iter_mut().filter(|c| c.endpoint == endpoint && c.name == name) {
                c.ok = false;
                c.detail = detail.into();
            }
        }
        self
    }

    /// Makes `source` unreadable with HTTP `code` and `reason`.
    pub fn unavailable(mut self, source: Source, code: u16, reason: &str) -> Self {
        let u = Unavailable { code: Some(code), reason: reason.into() };
        match source {
            Source::Version => self.server_version = Gathered::Unavailable(u),
            Source::Health => self.health = Gathered::Unavailable(u),
            Source::Nodes => self.nodes = Gathered::Unavailable(u),
            Source::Pods => self.pods = Gathered::Unavailable(u),
            Source::Leases => self.leases = Gathered::Unavailable(u),
            other => self.unavailable_object_source(other, u),
        }
        self
    }
}

fn lease(name: &str, renewed: DateTime<Utc>) -> Lease {
    Lease {
        namespace: "kube-system".into(),
        name: name.into(),
        holder: Some(format!("{name}-holder_0f9a")),
        renew_time: Some(renewed),
        duration_seconds: Some(15),
    }
}

/// A node under construction.
#[derive(Debug, Clone)]
pub struct NodeFixture(pub Node);

impl NodeFixture {
    /// A Ready, schedulable node on v1.37.2 with the usual labels and no pressure.
    pub fn ready(name: &str) -> Self {
        let labels = BTreeMap::from([
            ("kubernetes.io/hostname".to_owned(), name.to_owned()),
            ("kubernetes.io/os".to_owned(), "linux".to_owned()),
            ("topology.kubernetes.io/zone".to_owned(), "zone-a".to_owned()),
        ]);
        let mut conditions = vec![cond("Ready", "True", "KubeletReady")];
        for kind in ["MemoryPressure", "DiskPressure", "PIDPressure"] {
            conditions.push(cond(kind, "False", "KubeletHasSufficientResources"));
        }
        conditions.push(cond("NetworkUnavailable", "False", "RouteCreated"));
        Self(Node {
            name: name.into(),
            labels,
            taints: vec![],
            unschedulable: false,
            conditions,
            kubelet_version: "v1.37.2".into(),
            kube_proxy_version: "v1.37.2".into(),
        })
    }

    /// Sets the kubelet's and kube-proxy's version.
    pub fn kubelet(mut self, version: &str) -> Self {
        self.0.kubelet_version = version.into();
        self.0.kube_proxy_version = version.into();
        self
    }

    /// Sets only kube-proxy's version (empty: not reported).
    pub fn kube_proxy(mut self, version: &str) -> Self {
        self.0.kube_proxy_version = version.into();
        self
    }

    /// Sets a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.labels.insert(key.into(), value.into());
        self
    }

    /// Removes a label.
    pub fn without_label(mut self, key: &str) -> Self {
        self.0.labels.remove(key);
        self
    }

    /// Adds a taint without a value.
    pub fn taint(mut self, key: &str, effect: &str) -> Self {
        self.0.taints.push(Taint { key: key.into(), value: None, effect: effect.into() });
        self
    }

    /// Cordons the node, as `kubectl cordon` and the node controller's taint do.
    pub fn cordoned(mut self) -> Self {
        self.0.unschedulable = true;
        self.taint("node.kubernetes.io/unschedulable", "NoSchedule")
    }

    /// Sets condition `kind` to `status` with `reason`.
    pub fn condition(mut self, kind: &str, status: &str, reason: &str) -> Self {
        self.0.conditions.retain(|c| c.kind != kind);
        self.0.conditions.push(cond(kind, status, reason));
        self
    }

    /// The node stopped reporting: Ready Unknown and the node controller's taints.
    pub fn unreachable(self) -> Self {
        self.condition("Ready", "Unknown", "NodeStatusUnknown")
            .taint("node.kubernetes.io/unreachable", "NoSchedule")
            .taint("node.kubernetes.io/unreachable", "NoExecute")
    }
}

fn cond(kind: &str, status: &str, reason: &str) -> Condition {
    Condition {
        kind: kind.into(),
        status: status.into(),
        reason: Some(reason.into()),
        message: None,
    }
}

/// A pod under construction.
#[derive(Debug, Clone)]
pub struct PodFixture(pub Pod);

impl PodFixture {
    /// A Running, Ready pod with one container `main`, created an hour before the snapshot.
    pub fn running(namespace: &str, name: &str) -> Self {
        Self(Pod {
            namespace: namespace.into(),
            name: name.into(),
            labels: BTreeMap::new(),
            owner: None,
            created: Some(fixture_time() - Duration::hours(1)),
            deleting: None,
            node_name: Some("n1".into()),
            priority_class: None,
            phase: "Running".into(),
            ready: true,
            unschedulable: None,
            containers: vec![Container {
                name: "main".into(),
                image: "registry.example/main:1".into(),
                ready: true,
                restart_count: 0,
                waiting_reason: None,
                last_terminated_reason: None,
            }],
        })
    }

    /// Sets a label.
    pub fn label(mut self, key: &str, value: &str) -> Self {
        self.0.labels.insert(key.into(), value.into());
        self
    }

    /// Sets the node the pod runs on.
    pub fn on(mut self, node: &str) -> Self {
        self.0.node_name = Some(node.into());
        self
    }

    /// Sets the controlling owner.
    pub fn owned_by(mut self, kind: &str, name: &str) -> Self {
        self.0.owner = Some(Owner { kind: kind.into(), name: name.into() });
        self
    }

    /// Sets the priority class.
    pub fn priority(mut self, class: &str) -> Self {
        self.0.priority_class = Some(class.into());
        self
    }

    /// Sets the image of the first container.
    pub fn image(mut self, image: &str) -> Self {
        if let Some(c) = self.0.containers.first_mut() {
            c.image = image.into();
        }
        self
    }

    /// The container waits with `reason` (`CrashLoopBackOff`) after `restarts` restarts;
    /// the pod is Running but not Ready.
    pub fn waiting(mut self, reason: &str, restarts: i32) -> Self {
        self.0.ready = false;
        if let Some(c) = self.0.containers.first_mut() {
            c.ready = false;
            c.waiting_reason = Some(reason.into());
            c.restart_count = restarts;
        }
        self
    }

    /// Running but not Ready (a failing readiness probe).
    pub fn not_ready(mut self) -> Self {
        self.0.ready = false;
        if let Some(c) = self.0.containers.first_mut() {
            c.ready = false;
        }
        self
    }

    /// Pending and unschedulable, created `age` before the snapshot.
    pub fn pending(mut self, age: Duration) -> Self {
        self.0.phase = "Pending".into();
        self.0.ready = false;
        self.0.node_name = None;
        self.0.created = Some(fixture_time() - age);
        self.0.unschedulable = Some("Unschedulable: 0/3 nodes are available".into());
        for c in &mut self.0.containers {
            c.ready = false;
        }
        self
    }

    /// Completed (a Job's pod).
    pub fn succeeded(mut self) -> Self {
        self.0.phase = "Succeeded".into();
        self.0.ready = false;
        self
    }
}
