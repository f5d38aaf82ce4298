//! Actions: what writes to the cluster. Opt-in, run beside the read-only gathering pass
//! (never inside it), and always cleaning up after themselves; their outcomes are data in
//! the Snapshot that checks judge like any source. [`synthetic`]: can a new pod start on
//! every node. [`node_join`]: can a new node get its kubelet client certificate.

pub mod node_join;
pub mod synthetic;
