//! What a check is asked to do: the upgrade's versions ([`CheckSpec`], parsed from CCE's
//! wire spec) and everything one check needs besides the client ([`CheckRequest`]).

use std::time::Duration;

use postcheck_model::{ParseVersionError, PostCheckSpec, Version};

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
