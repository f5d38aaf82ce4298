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
//! - `blame`: every finding against the baseline (new, pre-existing, resolved), one place.
//! - `verdict`: items to CCE's task status (`Success`, `Failed`, `Error`), stamped.
//! - `wait`: check again until N consecutive passes or a deadline.
//! - [`permissions`]: what each source needs the API to allow (the chart's RBAC is checked
//!   against it).
//! - [`synthetic`] and [`node_join`] (in `actions`): what writes to the cluster, run beside
//!   gathering.
//! - [`testing`] (feature `test-util`): builder-style snapshots for tests; never shipped.
//!
//! [`check`] runs the whole flow once; [`precheck`] the pre-upgrade check (CCE's
//! `PrecheckStatus`, and the Snapshot to keep as the baseline); [`take_baseline`] records a Snapshot before an
//! upgrade; [`floor_plan`] lists the requests a check makes.

pub mod access;
mod actions;
mod blame;
mod checks;
mod error_chain;
mod gather;
pub mod permissions;
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
use postcheck_model::{PrecheckStatus, TaskStatus};

pub use actions::{node_join, synthetic};
pub use checks::precheck::{
    OUT_OF_SCOPE as PRECHECK_OUT_OF_SCOPE, Part as PrecheckPart, PrecheckDef,
    Risks as PrecheckRisks, SkipError, precheck_catalogue, validate_skipped,
};
pub use checks::{Blamed, CheckContext, CheckDef, Finding, catalogue};
pub use gather::plan::{Sent as PlanSent, Step as PlanStep, Verb as PlanVerb};
pub use gather::{GatherError, GatherEvent, Progress};
pub use policy::{
    Exclusions, NodeJoinOptions, NodeVersionPolicy, Policy, PolicyError, PrecheckOptions,
    Selection, Subject, SyntheticOptions, Tolerances, UpgradePathRule,
};
pub use request::{CheckRequest, CheckSpec, PrecheckRequest};
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
    let place = request.policy.synthetic.namespace.as_deref();
    let status = match examine(client, &sources, place, request.deadline, progress).await {
        Ok(snapshot) => verdict::report(
            &snapshot,
            request.baseline.as_ref(),
            &request.baseline_ref,
            &request.spec,
            &request.policy,
        ),
        Err(e) => verdict::unexamined(&e),
    };
    verdict::stamp(status, started)
}

/// What a pre-check ends with: CCE's status and, when the cluster could be examined, the
/// Snapshot it judged: the baseline to keep for the post-check.
#[derive(Debug, Clone)]
pub struct PrecheckOutcome {
    /// The final phase (`Success`, `Failed` or `Error`), stamped; `expire_time_stamp` is
    /// left `None`: the caller sets it.
    pub status: PrecheckStatus,
    /// `Some` when the cluster could be examined (whatever the phase): every source, so a
    /// post-check can compare against all of it.
    pub snapshot: Option<Snapshot>,
}

/// The pre-upgrade check: one gathering pass of every source (the baseline), judged with
/// the pre-check catalogue into CCE's `PrecheckStatus`. Never fails: a cluster that cannot
/// be examined, or a `skippedCheckItemList` that does not validate, is `Error`.
pub async fn precheck(
    client: &kube::Client,
    request: &PrecheckRequest,
    progress: &dyn Progress,
) -> PrecheckOutcome {
    let started = Utc::now();
    if let Err(e) = validate_skipped(&request.skipped) {
        let status = verdict::stamp_precheck(verdict::precheck_error(e.to_string()), started);
        return PrecheckOutcome { status, snapshot: None };
    }
    let pass = gather::gather_with(
        client,
        request.apiserver.as_ref(),
        &Source::ALL,
        request.deadline,
        progress,
    )
    .await;
    let (status, snapshot) = match pass {
        Ok(snapshot) => (
            verdict::precheck_report(&snapshot, &request.spec, &request.policy, &request.skipped),
            Some(snapshot),
        ),
        Err(e) => {
            (verdict::precheck_error(verdict::unexamined(&e).message.unwrap_or_default()), None)
        }
    };
    PrecheckOutcome { status: verdict::stamp_precheck(status, started), snapshot }
}

/// One gathering pass over `sources`, and beside it (never inside it) the actions `sources`
/// asks for (the synthetic pod in `synthetic_namespace`, or a namespace of its own), all
/// within `deadline`.
async fn examine(
    client: &kube::Client,
    sources: &[Source],
    synthetic_namespace: Option<&str>,
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    let synthetic = async {
        if sources.contains(&Source::Synthetic) {
            Some(Box::pin(synthetic::run_in(client, synthetic_namespace)).await)
        } else {
            None
        }
    };
    let joining = async {
        if sources.contains(&Source::NodeJoin) {
            let wait = node_join::issue_wait_within(deadline);
            Some(Box::pin(node_join::run(client, wait)).await)
        } else {
            None
        }
    };
    let (snapshot, synthetic, joined) = tokio::join!(
        gather::gather(client, sources, deadline, progress),
        tokio::time::timeout(deadline, synthetic),
        tokio::time::timeout(deadline, joining)
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
    match joined {
        Err(_) => return Err(GatherError::Deadline(deadline)),
        Ok(None) => {}
        Ok(Some(outcome)) => {
            let issued = usize::from(outcome.certificate.is_some());
            progress.event(GatherEvent::Done { source: Source::NodeJoin, outcome: Ok(issued) });
            snapshot.node_join = Gathered::Ok(outcome);
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
