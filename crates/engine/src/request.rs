//! What a check is asked to do: the upgrade's versions ([`CheckSpec`], parsed from CCE's
//! wire spec) and everything one check needs besides the client ([`CheckRequest`]).

use std::time::Duration;

use postcheck_model::{
    BaselineRef, ParseVersionError, PostCheckSpec, PrecheckSpec, SkippedCheckItem, Version,
};

use crate::access::ApiServerAddress;

use crate::policy::Policy;
use crate::snapshot::Snapshot;

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
    /// What the caller says the baseline is (a pre-check's, a file, a stored one), copied
    /// into the status; [`BaselineRef::none`] without a baseline.
    pub baseline_ref: BaselineRef,
    /// Exclusions, tolerances, which checks run.
    pub policy: Policy,
    /// How long gathering may take before the task is `Error`.
    pub deadline: Duration,
}

impl CheckRequest {
    /// A request with the default policy and no baseline.
    pub fn new(spec: CheckSpec, deadline: Duration) -> Self {
        Self {
            spec,
            baseline: None,
            baseline_ref: BaselineRef::none(),
            policy: Policy::default(),
            deadline,
        }
    }
}

impl CheckSpec {
    /// Reads CCE's pre-check spec: `clusterVersion` is the version now (`source`),
    /// `targetVersion` the one the upgrade will go to (`target`).
    pub fn from_precheck(spec: &PrecheckSpec) -> Result<Self, ParseVersionError> {
        let parse = |v: &Option<String>| v.as_deref().map(Version::parse).transpose();
        Ok(Self { source: parse(&spec.cluster_version)?, target: parse(&spec.target_version)? })
    }
}

/// Everything one pre-check needs besides the client.
#[derive(Debug, Clone)]
pub struct PrecheckRequest {
    /// `source` is the cluster's version now (`clusterVersion`), `target` the version the
    /// upgrade will go to (`targetVersion`).
    pub spec: CheckSpec,
    /// CCE's `skippedCheckItemList`, validated with `validate_skipped`.
    pub skipped: Vec<SkippedCheckItem>,
    /// Exclusions, tolerances, the upgrade-path rule.
    pub policy: Policy,
    /// How long gathering may take before the task is `Error`.
    pub deadline: Duration,
    /// Where the API server listens, to read its serving certificate from a TLS handshake;
    /// without it the `apiserver-certificate` item is Skipped.
    pub apiserver: Option<ApiServerAddress>,
}

impl PrecheckRequest {
    /// A pre-check with the default policy, nothing skipped and no address.
    pub fn new(spec: CheckSpec, deadline: Duration) -> Self {
        Self { spec, skipped: Vec::new(), policy: Policy::default(), deadline, apiserver: None }
    }
}
