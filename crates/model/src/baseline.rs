//! Which baseline a task was judged against, and what blame made of its findings.
//!
//! A post-check compares the cluster after the upgrade with a baseline (a Snapshot taken
//! before it: by a pre-check, by `postcheck baseline`, or stored on the service). The task
//! document names the baseline it used ([`BaselineRef`]: where it came from, the pre-check
//! task's uid, when it was taken) or says there was none, and counts how its findings
//! compare with it ([`BlameCounts`]); findings of the baseline that are gone now are listed
//! apart ([`ResolvedFinding`]).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::item::Evidence;

/// Where a task's baseline came from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum BaselineSource {
    /// There was no baseline: findings are judged as they are, without blame.
    #[default]
    None,
    /// The Snapshot a pre-check recorded (`task_uid` names it).
    PreCheck,
    /// A baseline file given on the command line (`check --baseline FILE`).
    File,
    /// A baseline stored on the service (`POST`/`PUT .../clusters/{id}/baseline`).
    Stored,
}

/// The baseline a task was judged against, or that there was none.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BaselineRef {
    /// Where it came from; `None` when there was no baseline.
    pub source: BaselineSource,
    /// The pre-check task that recorded it, when it came from one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_uid: Option<String>,
    /// When the baseline's Snapshot was taken.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub taken_at: Option<DateTime<Utc>>,
}

impl BaselineRef {
    /// No baseline.
    pub fn none() -> Self {
        Self::default()
    }

    /// A baseline from `source`, taken at `taken_at`.
    pub fn from(source: BaselineSource, taken_at: DateTime<Utc>) -> Self {
        Self { source, task_uid: None, taken_at: Some(taken_at) }
    }

    /// The Snapshot pre-check task `task_uid` recorded at `taken_at`.
    pub fn precheck(task_uid: impl Into<String>, taken_at: DateTime<Utc>) -> Self {
        Self {
            source: BaselineSource::PreCheck,
            task_uid: Some(task_uid.into()),
            taken_at: Some(taken_at),
        }
    }

    /// Whether there was a baseline.
    pub fn is_some(&self) -> bool {
        self.source != BaselineSource::None
    }
}

/// How a task's findings compare with its baseline: every evidence entry of every failed
/// item is `new` or `preExisting`; `resolved` counts the baseline's findings gone now.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct BlameCounts {
    /// Findings not in the baseline: the upgrade may be to blame.
    pub new: usize,
    /// Findings already in the baseline: not the upgrade's doing.
    pub pre_existing: usize,
    /// Findings of the baseline that are gone now.
    pub resolved: usize,
}

/// A finding of the baseline that the cluster no longer shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ResolvedFinding {
    /// The item that reported it.
    pub item: String,
    /// The object and the reason, as the baseline showed them.
    pub evidence: Evidence,
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_precheck_baseline_serializes_with_its_task_and_time() {
        let at = DateTime::parse_from_rfc3339("2026-12-02T03:00:00Z").unwrap().to_utc();
        assert_eq!(
            serde_json::to_value(BaselineRef::precheck("t1", at)).unwrap(),
            json!({"source": "PreCheck", "taskUid": "t1", "takenAt": "2026-12-02T03:00:00Z"})
        );
        assert_eq!(serde_json::to_value(BaselineRef::none()).unwrap(), json!({"source": "None"}));
        assert!(!BaselineRef::none().is_some());
    }
}
