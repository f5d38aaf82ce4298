//! Actions: what writes to the cluster. Opt-in, run beside the read-only gathering pass
//! (never inside it), and always cleaning up after themselves; their outcomes are data in
//! the Snapshot that checks judge like any source. [`synthetic`]: can a new pod start on
//! every node. [`node_join`]: can a new node get its kubelet client certificate.

pub mod node_join;
pub mod synthetic;

use std::future::Future;
use std::pin::Pin;

/// Runs a cleanup when dropped while armed: how every action cleans up after a run that is
/// interrupted (its future dropped). The cleanup is spawned on the current runtime.
pub(crate) struct CleanupGuard {
    cleanup: Option<Pin<Box<dyn Future<Output = ()> + Send + 'static>>>,
}

impl CleanupGuard {
    /// Armed with `cleanup`, which runs only if the guard is dropped still armed.
    pub(crate) fn new(cleanup: impl Future<Output = ()> + Send + 'static) -> Self {
        Self { cleanup: Some(Box::pin(cleanup)) }
    }

    /// The run cleaned up itself: nothing to do on drop.
    pub(crate) fn disarm(&mut self) {
        self.cleanup = None;
    }
}

impl Drop for CleanupGuard {
    fn drop(&mut self) {
        if let Some(cleanup) = self.cleanup.take()
            && let Ok(handle) = tokio::runtime::Handle::try_current()
        {
            handle.spawn(cleanup);
        }
    }
}
