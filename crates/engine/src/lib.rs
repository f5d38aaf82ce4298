//! postcheck's engine: what the service and the command line share.
//!
//! Data flows top-down through the modules, in this order (`ARCHITECTURE.md` at the root
//! is the map, with the rules a test enforces):
//!
//! - `request`: what a check is asked ([`CheckSpec`], [`CheckRequest`]).
//! - [`access`]: a `kube::Client` from a kubeconfig, a registered cluster's stored
//!   credentials, or the in-cluster configuration.
//! - `gather`: the one bounded, concurrent, paginated, read-only pass over the API into a
//!   [`Snapshot`]: `page` (paged lists), `api` (serde views of the API's JSON), `sources`
//!   (one file per source), `plan` (the requests a pass makes, for the benchmark).
//! - `snapshot`: the compact Snapshot, also the baseline file format, and the one table of
//!   sources from which everything about a source is derived.
//! - `rules`: data tables read by gathering and judging alike (removed APIs).
//! - `policy`: exclusions (the one matcher), tolerances, which checks run.
//! - `checks`: the catalogue; each check a pure function of the Snapshot, an optional
//!   baseline, the spec and the policy.
//! - `verdict`: items to CCE's task status (`Success`, `Failed`, `Error`), stamped.
//! - `wait`: check again until N consecutive passes or a deadline.
//! - [`synthetic`] (in `actions`): what writes to the cluster, run beside gathering.
//! - [`testing`] (feature `test-util`): builder-style snapshots for tests; never shipped.
//!
//! [`check`] runs the whole flow once; [`take_baseline`] records a Snapshot before an
//! upgrade; [`floor_plan`] lists the requests a check makes.

pub mod access;
mod actions;
mod checks;
mod error_chain;
mod gather;
mod policy;
mod request;
mod rules;
mod snapshot;
#[cfg(any(test, feature = "test-util"))]
pub mod testing;
mod verdict;
mod wait;

use std::time::Duration;

use chrono::Utc;
use postcheck_model::TaskStatus;

pub use actions::synthetic;
pub use checks::{CheckContext, CheckDef, Finding, catalogue};
pub use gather::plan::{Sent as PlanSent, Step as PlanStep, Verb as PlanVerb};
pub use gather::{GatherError, GatherEvent, Progress};
pub use policy::{
    Exclusions, NodeVersionPolicy, Policy, PolicyError, Selection, Subject, SyntheticOptions,
    Tolerances,
};
pub use request::{CheckRequest, CheckSpec};
// Every compact type of the Snapshot (a new source's type comes with its row).
pub use snapshot::*;
/// The builders under the name the service's tests know them by.
#[cfg(feature = "test-util")]
pub use testing as fixture;
pub use wait::{Attempts, WaitOptions, check_until};

/// Examines the cluster behind `client` and judges it: one gathering pass, every check,
/// CCE's verdict. Never fails: a cluster that cannot be examined is `Error`.
pub async fn check(client: kube::Client, request: &CheckRequest) -> TaskStatus {
    check_with_progress(&client, request, &()).await
}

/// [`check`], reporting gathering progress to `progress`.
pub async fn check_with_progress(
    client: &kube::Client,
    request: &CheckRequest,
    progress: &dyn Progress,
) -> TaskStatus {
    let started = Utc::now();
    let sources = checks::needs(&request.policy);
    let status = match examine(client, &sources, request.deadline, progress).await {
        Ok(snapshot) => {
            verdict::report(&snapshot, request.baseline.as_ref(), &request.spec, &request.policy)
        }
        Err(e) => verdict::unexamined(&e),
    };
    verdict::stamp(status, started)
}

/// One gathering pass over `sources`, and beside it (never inside it) the actions `sources`
/// asks for, all within `deadline`.
async fn examine(
    client: &kube::Client,
    sources: &[Source],
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    let synthetic = async {
        if sources.contains(&Source::Synthetic) {
            Some(Box::pin(synthetic::run(client)).await)
        } else {
            None
        }
    };
    let (snapshot, synthetic) = tokio::join!(
        gather::gather(client, sources, deadline, progress),
        tokio::time::timeout(deadline, synthetic)
    );
    let mut snapshot = snapshot?;
    match synthetic {
        Err(_) => return Err(GatherError::Deadline(deadline)),
        Ok(None) => {}
        Ok(Some(outcome)) => {
            progress
                .event(GatherEvent::Done { source: Source::Synthetic, outcome: Ok(outcome.nodes) });
            snapshot.synthetic = Gathered::Ok(outcome);
        }
    }
    Ok(snapshot)
}

/// Records a baseline: a Snapshot of every source, to compare against after the upgrade.
pub async fn take_baseline(
    client: &kube::Client,
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    gather::gather(client, &Source::ALL, deadline, progress).await
}

/// The requests a check with the default policy makes, recorded from a real gathering pass
/// over the cluster behind `client` (the benchmark's floor replays them): sorted by chain,
/// each chain's steps in the order they are sent; and how many requests the pass sent, by
/// verb and path, every page counted (what the floor must send too).
pub async fn floor_plan(
    client: &kube::Client,
    deadline: Duration,
) -> Result<(Vec<PlanStep>, PlanSent), GatherError> {
    let sources = checks::needs(&Policy::default());
    let (plan, sent, pass) = gather::plan::record(client, |recording| async move {
        gather::gather(&recording, &sources, deadline, &()).await
    })
    .await;
    pass.map(|_| (plan, sent))
}
