//! `--wait`: check again until the cluster passes N consecutive times or the deadline.
//!
//! kops' semantics (`kops validate cluster --wait --count`), with one difference that
//! matters to pipelines: when the deadline passes, a cluster that was reachable but
//! unhealthy is `Failed`, and one that could not be examined is `Error`. The result is
//! one task status (the last attempt's items), so `-o json` stays one document. Attempts
//! are reported to their own observer ([`Attempts`]), apart from gathering's progress.

use std::time::{Duration, Instant};

use postcheck_model::{TaskPhase, TaskStatus};

use crate::gather::Progress;
use crate::verdict::stamp;
use crate::{CheckRequest, check_with_progress};

/// Receives the outcome of each attempt of a `--wait` loop. `()` ignores them.
pub trait Attempts: Send + Sync {
    /// Called after each attempt with its outcome and the consecutive passes so far.
    fn attempt(&self, attempt: u32, status: &TaskStatus, consecutive: u32);
}

impl Attempts for () {
    fn attempt(&self, _attempt: u32, _status: &TaskStatus, _consecutive: u32) {}
}

/// How long and how often to check again.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitOptions {
    /// The overall deadline.
    pub wait: Duration,
    /// Consecutive passes required.
    pub count: u32,
    /// Pause between attempts.
    pub interval: Duration,
}

/// Checks until `options.count` consecutive `Success` results or until `options.wait` passes,
/// reporting each pass's gathering to `progress` and each attempt to `attempts`.
pub async fn check_until(
    client: &kube::Client,
    request: &CheckRequest,
    options: &WaitOptions,
    progress: &dyn Progress,
    attempts: &dyn Attempts,
) -> TaskStatus {
    let started = chrono::Utc::now();
    let begin = Instant::now();
    let need = options.count.max(1);
    let mut consecutive = 0;
    let mut attempt = 0;
    let mut last: Option<TaskStatus> = None;
    loop {
        let remaining = options.wait.saturating_sub(begin.elapsed());
        if remaining.is_zero() {
            break;
        }
        attempt += 1;
        let per_attempt =
            CheckRequest { deadline: request.deadline.min(remaining), ..request.clone() };
        let status = check_with_progress(client, &per_attempt, progress).await;
        consecutive = if status.phase == TaskPhase::Success { consecutive + 1 } else { 0 };
        attempts.attempt(attempt, &status, consecutive);
        if consecutive >= need {
            let mut status = status;
            status.message = Some(format!(
                "{} ({consecutive} consecutive pass(es) in {attempt} attempt(s))",
                status.message.unwrap_or_default()
            ));
            return stamp(status, started);
        }
        last = Some(status);
        if begin.elapsed() + options.interval >= options.wait {
            break;
        }
        tokio::time::sleep(options.interval).await;
    }
    let waited = humantime::format_duration(Duration::from_secs(options.wait.as_secs()));
    let status = match last {
        None => TaskStatus::bare(
            TaskPhase::Error,
            format!("no check finished within the wait of {waited}"),
        ),
        Some(mut s) => {
            let why = s.message.take().unwrap_or_default();
            s.message = Some(match s.phase {
                TaskPhase::Error => format!("still not examinable after waiting {waited}: {why}"),
                TaskPhase::Success => {
                    s.phase = TaskPhase::Failed;
                    format!(
                        "passed only {consecutive} of {need} required consecutive checks within {waited}: {why}"
                    )
                }
                _ => format!("still failing after waiting {waited}: {why}"),
            });
            s
        }
    };
    stamp(status, started)
}
