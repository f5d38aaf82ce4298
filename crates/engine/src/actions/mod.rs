//! Actions: what writes to the cluster. Opt-in, run beside the read-only gathering pass
//! (never inside it), and always cleaning up after themselves; their outcomes are data in
//! the Snapshot that checks judge like any source. [`synthetic`]: can a new pod start on
//! every node.

pub mod synthetic;
