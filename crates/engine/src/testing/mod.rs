//! Builder-style fixtures for hand-built snapshots, so a check's tests read like the
//! cluster they describe:
//!
//! ```
//! use postcheck_engine::Snapshot;
//! use postcheck_engine::testing::NodeFixture;
//! let snapshot = Snapshot::test().node(NodeFixture::ready("n1").kubelet("v1.37.2"));
//! assert_eq!(snapshot.node_list().len(), 1);
//! ```
//!
//! `Snapshot::test()` is a healthy control plane at v1.37.2 (health checks ok, both
//! leader-election Leases just renewed) with no nodes and no pods; every source of the
//! table is gathered (empty), no action run. Test support never ships: this module exists
//! only under the `test-util` feature, which other crates enable in their
//! dev-dependencies. One file per family: [`NodeFixture`], [`PodFixture`], and the
//! builders of the other objects (`objects`), the node-join run and bootstrap evidence
//! (`node_join`).

mod node_join;
mod nodes;
mod objects;
mod pods;

use chrono::{DateTime, Duration, TimeZone, Utc};

pub use nodes::NodeFixture;
pub use objects::WorkloadFixture;
pub use pods::PodFixture;

use crate::snapshot::{Gathered, HealthCheck, Lease, Snapshot, Source, Unavailable};

/// The instant every fixture snapshot is taken at.
pub fn fixture_time() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 29, 5, 0, 0).single().expect("a valid fixture time")
}

impl Snapshot {
    /// A healthy v1.37.2 control plane with no nodes and no pods.
    pub fn test() -> Self {
        let at = fixture_time();
        let mut s = Snapshot::empty(at).every_source_empty();
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
        s.leases = Gathered::Ok(vec![
            lease("kube-controller-manager", at - Duration::seconds(1)),
            lease("kube-scheduler", at - Duration::seconds(1)),
        ]);
        s
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
        self.set_unavailable(source, Unavailable { code: Some(code), reason: reason.into() });
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
