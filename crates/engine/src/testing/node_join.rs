//! Builders for the node-join run and the bootstrap evidence beside it:
//!
//! ```
//! use postcheck_engine::Snapshot;
//! let snapshot = Snapshot::test()
//!     .bootstrap_token("abcdef", None, &["system:bootstrappers:kubeadm:default-node-token"])
//!     .bootstrap_binding("kubeadm:kubelet-bootstrap", "system:node-bootstrapper", "system:bootstrappers:kubeadm:default-node-token");
//! assert_eq!(snapshot.bootstrap_tokens.ok().unwrap()[0].id, "abcdef");
//! ```
//!
//! `Snapshot::test()` gathers both bootstrap lists, empty, and runs no node-join.

use chrono::{DateTime, Utc};

use crate::snapshot::{BootstrapBinding, BootstrapToken, Gathered, NodeJoinOutcome, Snapshot};

fn push<T>(list: &mut Gathered<Vec<T>>, item: T) {
    match list {
        Gathered::Ok(items) => items.push(item),
        _ => *list = Gathered::Ok(vec![item]),
    }
}

impl Snapshot {
    /// Records a node-join run.
    pub fn node_join(mut self, outcome: NodeJoinOutcome) -> Self {
        self.node_join = Gathered::Ok(outcome);
        self
    }

    /// Adds a bootstrap token usable for authentication, expiring at `expiration` (`None`:
    /// never), with `extra_groups`.
    pub fn bootstrap_token(
        mut self,
        id: &str,
        expiration: Option<DateTime<Utc>>,
        extra_groups: &[&str],
    ) -> Self {
        push(
            &mut self.bootstrap_tokens,
            BootstrapToken {
                id: id.into(),
                expiration,
                expiration_unreadable: false,
                usages: vec!["authentication".into(), "signing".into()],
                extra_groups: extra_groups.iter().map(|g| (*g).to_owned()).collect(),
            },
        );
        self
    }

    /// Adds a ClusterRoleBinding granting `role` to the bootstrapper group `group`.
    pub fn bootstrap_binding(mut self, name: &str, role: &str, group: &str) -> Self {
        push(
            &mut self.bootstrap_bindings,
            BootstrapBinding { name: name.into(), role: role.into(), groups: vec![group.into()] },
        );
        self
    }
}
