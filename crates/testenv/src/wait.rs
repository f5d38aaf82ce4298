//! Polling until something holds, with a deadline and the last observation in the timeout
//! error (so a test that times out says what it was still waiting for): [`poll_until`]
//! (or [`Waiter::until`]) is the one poll-until-deadline loop; a look answers
//! [`Look::Done`] or [`Look::Waiting`] with what it saw.

use std::time::{Duration, Instant};

use crate::error::TestEnvError;

/// What one look found.
#[derive(Debug)]
pub(crate) enum Look<T> {
    /// The condition holds, with what the wait was for.
    Done(T),
    /// Not yet, with what was seen (the timeout error names the last).
    Waiting(String),
}

impl<T> Look<T> {
    /// Not yet, having seen `seen`.
    pub(crate) fn waiting(seen: impl std::fmt::Display) -> Self {
        Look::Waiting(seen.to_string())
    }
}

/// Looks with `look` every `interval` until it is [`Look::Done`], for at most `timeout`
/// (then fails naming `what` and the last observation).
pub(crate) async fn poll_until<T>(
    what: impl Into<String>,
    timeout: Duration,
    interval: Duration,
    look: impl AsyncFnMut() -> Result<Look<T>, TestEnvError>,
) -> Result<T, TestEnvError> {
    Waiter::new(what, timeout, interval).until(look).await
}

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

    /// Looks with `look` every interval until it is [`Look::Done`]; fails with the last
    /// observation once the deadline passed, or with the look's own error at once.
    pub(crate) async fn until<T>(
        self,
        mut look: impl AsyncFnMut() -> Result<Look<T>, TestEnvError>,
    ) -> Result<T, TestEnvError> {
        loop {
            match look().await? {
                Look::Done(value) => return Ok(value),
                Look::Waiting(last) => self.tick(last).await?,
            }
        }
    }

    /// How long the wait has lasted so far.
    pub(crate) fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn polls_until_done_and_hands_back_the_value() {
        let mut looks = 0;
        let got = poll_until(
            "three looks",
            Duration::from_secs(5),
            Duration::from_millis(1),
            async || {
                looks += 1;
                Ok(if looks == 3 {
                    Look::Done(looks)
                } else {
                    Look::Waiting(format!("look {looks}"))
                })
            },
        )
        .await
        .unwrap();
        assert_eq!(got, 3);
    }

    #[tokio::test]
    async fn times_out_naming_the_last_observation_and_passes_a_looks_error_at_once() {
        let e =
            poll_until("never", Duration::from_millis(20), Duration::from_millis(5), async || {
                Ok::<Look<()>, TestEnvError>(Look::Waiting("still not".into()))
            })
            .await
            .unwrap_err();
        let shown = e.to_string();
        assert!(shown.contains("never") && shown.contains("still not"), "{shown}");
        let mut looks = 0;
        let e =
            poll_until("failing", Duration::from_secs(5), Duration::from_millis(1), async || {
                looks += 1;
                Err::<Look<()>, _>(TestEnvError::Invalid("broken".into()))
            })
            .await
            .unwrap_err();
        assert!(e.to_string().contains("broken"), "{e}");
        assert_eq!(looks, 1);
    }
}
