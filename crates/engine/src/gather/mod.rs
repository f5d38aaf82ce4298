//! Gathering: one concurrent, paginated, bounded pass over the API into a [`Snapshot`].
//!
//! Only the gatherer talks to the API, and it only reads. Each source ([`sources`], one file
//! per source, dispatched from the table of sources in [`crate::snapshot`]) is read
//! concurrently with the others; lists are read in pages ([`page`]) and every page is
//! decoded, through the few fields of [`api`] the checks read, into the Snapshot's compact
//! structs and then dropped, so memory stays small on big clusters. A source that is
//! forbidden (403), absent (404) or otherwise unreadable is recorded as
//! [`Gathered::Unavailable`] and only the checks that need it say they could not run. The
//! pass as a whole fails ([`GatherError`]) only when the cluster itself cannot be examined:
//! `/version` or the node list cannot be reached, the credentials are rejected (401), the
//! node list is forbidden (403: nothing about nodes could be judged, and a Success then
//! would be a silent miss), or the deadline passes. [`plan`] records the requests a pass
//! makes, for the benchmark's floor.

mod api;
mod page;
pub(crate) mod plan;
mod sources;

use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::access::ApiServerAddress;
use crate::error_chain::chain;
use crate::snapshot::{Gathered, Interner, RemovedApiUses, Snapshot, Source, Unavailable};

/// Why the cluster could not be examined at all.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// The API server could not be reached (connection refused, DNS, TLS).
    #[error("the API server could not be reached while {what}")]
    Unreachable {
        /// What was being read.
        what: &'static str,
        /// Why.
        #[source]
        source: kube::Error,
    },
    /// The API server answered 401: the token or certificate is not accepted.
    #[error("the API server rejected the credentials (401 Unauthorized) while {what}: {message}")]
    CredentialsRejected {
        /// What was being read.
        what: &'static str,
        /// The API server's message.
        message: String,
    },
    /// The credentials may not read what every node check needs (403 on the node list).
    #[error(
        "the credentials are not allowed to examine the cluster (403 Forbidden while {what}): {message}"
    )]
    Forbidden {
        /// What was being read.
        what: &'static str,
        /// The API server's message.
        message: String,
    },
    /// The pass did not finish in time.
    #[error("the cluster could not be examined within the deadline of {}", humantime::format_duration(*.0))]
    Deadline(Duration),
}

/// What the gatherer reports while it works (the command line shows it on a terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatherEvent {
    /// A page of `source` was read; `so_far` items in total.
    Page {
        /// The source.
        source: Source,
        /// Items read so far.
        so_far: usize,
    },
    /// `source` is done: `Ok(count)` items, or why it could not be read.
    Done {
        /// The source.
        source: Source,
        /// Items read, or the reason it could not be.
        outcome: Result<usize, String>,
    },
}

/// Receives [`GatherEvent`]s. `()` ignores them.
pub trait Progress: Send + Sync {
    /// Called for every event.
    fn event(&self, event: GatherEvent);
}

impl Progress for () {
    fn event(&self, _event: GatherEvent) {}
}

/// One gathering pass's context: the client, where progress goes, and what a source learned
/// on the side (the API server's clock, from `/version`'s `Date` header).
pub(crate) struct Pass<'a> {
    /// The client every request goes through.
    pub(crate) client: &'a kube::Client,
    /// Where progress goes.
    pub(crate) progress: &'a dyn Progress,
    /// The API server's clock, when `/version` told it.
    pub(crate) server_time: Mutex<Option<DateTime<Utc>>>,
    /// Where the API server listens, for the sources that read it directly (its serving
    /// certificate); `None` leaves those sources not gathered.
    pub(crate) apiserver: Option<&'a ApiServerAddress>,
    /// The texts and label sets the pass's compact objects share (`crate::snapshot::Atom`).
    pub(crate) interner: Interner,
}

/// Reads `sources` (and always the version) from the cluster into a Snapshot within
/// `deadline`. Actions in `sources` are not this module's business and are ignored.
pub(crate) async fn gather(
    client: &kube::Client,
    sources: &[Source],
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    gather_with(client, None, sources, deadline, progress).await
}

/// [`gather`], with the API server's address for the sources that read it directly (the
/// serving certificate; without an address that source is not gathered).
pub(crate) async fn gather_with(
    client: &kube::Client,
    apiserver: Option<&ApiServerAddress>,
    sources: &[Source],
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    tokio::time::timeout(deadline, gather_unbounded(client, apiserver, sources, progress))
        .await
        .unwrap_or(Err(GatherError::Deadline(deadline)))
}

async fn gather_unbounded(
    client: &kube::Client,
    apiserver: Option<&ApiServerAddress>,
    sources: &[Source],
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    let mut wanted = sources.to_vec();
    if !wanted.contains(&Source::Version) {
        wanted.push(Source::Version);
    }
    if apiserver.is_none() {
        wanted.retain(|s| *s != Source::ServingCert);
    }
    let mut snapshot = Snapshot::empty(Utc::now());
    let pass = Pass {
        client,
        progress,
        server_time: Mutex::new(None),
        apiserver,
        interner: Interner::default(),
    };
    let mut read = sources::read(&pass, &wanted).await;
    fatal(&mut read.server_version, "reading /version", false)?;
    // Without nodes nearly nothing can be judged: a pass that reports Success then would be
    // a silent miss, so a forbidden node list is an Error of the task.
    fatal(&mut read.nodes, "listing nodes", true)?;
    snapshot.server_time = pass.server_time.lock().ok().and_then(|t| *t);
    read.store(&mut snapshot, progress);
    Ok(snapshot)
}

/// How many items a source read, for progress lines.
pub(crate) trait Counted {
    /// The number of items.
    fn count(&self) -> usize;
}

impl<T> Counted for Vec<T> {
    fn count(&self) -> usize {
        self.len()
    }
}

impl Counted for String {
    fn count(&self) -> usize {
        1
    }
}

impl Counted for RemovedApiUses {
    fn count(&self) -> usize {
        self.objects.len() + self.releases.len()
    }
}

/// Turns a connection or authentication failure (and, when `forbidden_too`, a 403) of
/// `outcome` into the pass's error; any other outcome stays for the Snapshot.
fn fatal<T>(
    outcome: &mut Option<Result<T, kube::Error>>,
    what: &'static str,
    forbidden_too: bool,
) -> Result<(), GatherError> {
    match outcome.take() {
        Some(Err(kube::Error::Api(s))) if s.code == 401 => {
            Err(GatherError::CredentialsRejected { what, message: s.message })
        }
        Some(Err(kube::Error::Api(s))) if s.code == 403 && forbidden_too => {
            Err(GatherError::Forbidden { what, message: s.message })
        }
        Some(Err(source)) if !matches!(source, kube::Error::Api(_)) => {
            Err(GatherError::Unreachable { what, source })
        }
        other => {
            *outcome = other;
            Ok(())
        }
    }
}

/// Stores one source's outcome as the Snapshot keeps it, reporting it to `progress`.
fn record<T: Counted>(
    source: Source,
    outcome: Option<Result<T, kube::Error>>,
    progress: &dyn Progress,
) -> Gathered<T> {
    match outcome {
        None => Gathered::NotGathered,
        Some(Ok(items)) => {
            progress.event(GatherEvent::Done { source, outcome: Ok(items.count()) });
            Gathered::Ok(items)
        }
        Some(Err(e)) => {
            let u = unavailable(&e);
            progress.event(GatherEvent::Done { source, outcome: Err(u.reason.clone()) });
            Gathered::Unavailable(u)
        }
    }
}

fn unavailable(e: &kube::Error) -> Unavailable {
    match e {
        kube::Error::Api(s) => {
            let what = match s.code {
                403 => "forbidden".to_owned(),
                404 => "absent (404 Not Found)".to_owned(),
                code => format!("HTTP {code} {}", s.reason),
            };
            Unavailable { code: Some(s.code), reason: format!("{what}: {}", s.message.trim()) }
        }
        other => Unavailable { code: None, reason: chain(other) },
    }
}
