//! Polling until something holds, with a deadline and the last observation in the timeout
//! error (so a test that times out says what it was still waiting for).

use std::time::{Duration, Instant};

use crate::error::TestEnvError;

/// A deadline for one awaited condition.
#[derive(Debug)]
pub(crate) struct Waiter {
    what: String,
    started: Instant,
    timeout: Duration,
    interval: Duration,
}

impl Waiter {
    /// Starts waiting for `what` for at most `timeout`, polling every `interval`.
    pub(crate) fn new(what: impl Into<String>, timeout: Duration, interval: Duration) -> Waiter {
        Waiter { what: what.into(), started: Instant::now(), timeout, interval }
    }

    /// Sleeps one interval, or fails with the last observation once the deadline passed.
    pub(crate) async fn tick(&self, last: impl std::fmt::Display) -> Result<(), TestEnvError> {
        if self.started.elapsed() >= self.timeout {
            let last = last.to_string();
            return Err(TestEnvError::Timeout {
                what: self.what.clone(),
                seconds: self.timeout.as_secs(),
                detail: if last.is_empty() { String::new() } else { format!(": {last}") },
            });
        }
        tokio::time::sleep(self.interval).await;
        Ok(())
    }

    /// How long the wait has lasted so far.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}
