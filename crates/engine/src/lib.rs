//! postcheck's engine: what the service and the command line share.
//!
//! Data flows top-down through the modules:
//!
//! - [`access`]: a `kube::Client` from a kubeconfig, a registered cluster's stored
//!   credentials, or the in-cluster configuration.
//! - [`gather`]: one concurrent, paginated pass over the API into a [`Snapshot`], through
//!   [`list`] (paged lists) and [`wire`] (only the fields the checks read).
//! - [`snapshot`]: the compact Snapshot, which is also the baseline file format.
//! - [`policy`]: exclusions, tolerances, which checks run.
//! - [`checks`]: the catalogue; each check a pure function of the Snapshot, an optional
//!   baseline, the spec and the policy.
//! - [`verdict`]: items to CCE's task status (`Success`, `Failed`, `Error`).
//! - [`wait`]: check again until N consecutive passes or a deadline.
//! - [`fixture`]: builder-style snapshots for tests.
//!
//! [`check`] runs the whole flow once; [`take_baseline`] records a Snapshot before an upgrade.

pub mod access;
pub mod checks;
pub mod fixture;
pub mod fixture_objects;
pub mod gather;
pub mod gather_objects;
pub mod list;
pub mod policy;
pub mod snapshot;
pub mod snapshot_objects;
pub mod synthetic;
pub mod verdict;
pub mod wait;
pub mod wire;

use std::time::Duration;

use chrono::Utc;
use postcheck_model::{ParseVersionError, PostCheckSpec, TaskStatus, Version};

pub use checks::{CheckDef, catalogue};
pub use gather::{GatherError, GatherEvent, Progress};
pub use policy::{NodeVersionPolicy, Policy, PolicyError};
pub use snapshot::{SNAPSHOT_VERSION, Snapshot, Source};
pub use wait::{WaitOptions, check_until};

/// What the upgrade was: the versions a check compares against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSpec {
    /// The version the cluster must be on now.
    pub target: Option<Version>,
    /// The version the cluster was on before the upgrade.
    pub source: Option<Version>,
}

impl CheckSpec {
    /// Reads CCE's wire spec (`clusterVersion`, `targetVersion`).
    pub fn from_wire(spec: &PostCheckSpec) -> Result<Self, ParseVersionError> {
        let parse = |v: &Option<String>| v.as_deref().map(Version::parse).transpose();
        Ok(Self { source: parse(&spec.cluster_version)?, target: parse(&spec.target_version)? })
    }
}

/// Everything one check needs besides the client.
#[derive(Debug, Clone)]
pub struct CheckRequest {
    /// The versions of the upgrade.
    pub spec: CheckSpec,
    /// The Snapshot taken before the upgrade, if any.
    pub baseline: Option<Snapshot>,
    /// Exclusions, tolerances, which checks run.
    pub policy: Policy,
    /// How long gathering may take before the task is `Error`.
    pub deadline: Duration,
}

impl CheckRequest {
    /// A request with the default policy and no baseline.
    pub fn new(spec: CheckSpec, deadline: Duration) -> Self {
        Self { spec, baseline: None, policy: Policy::default(), deadline }
    }
}

/// Examines the cluster behind `client` and judges it with the default policy and no
/// baseline. Never fails: a cluster that cannot be examined is `Error`.
pub async fn run(client: kube::Client, spec: &CheckSpec, deadline: Duration) -> TaskStatus {
    check(client, &CheckRequest::new(spec.clone(), deadline)).await
}

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
    let mut status = match gather::gather(client, &sources, request.deadline, progress).await {
        Ok(snapshot) => {
            verdict::report(&snapshot, request.baseline.as_ref(), &request.spec, &request.policy)
        }
        Err(e) => verdict::unexamined(&e),
    };
    let finished = Utc::now();
    status.started_at = Some(started);
    status.finished_at = Some(finished);
    status.duration_ms = Some(u64::try_from((finished - started).num_milliseconds()).unwrap_or(0));
    status
}

/// Records a baseline: a Snapshot of every source, to compare against after the upgrade.
pub async fn take_baseline(
    client: &kube::Client,
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    gather::gather(client, &Source::ALL, deadline, progress).await
}
