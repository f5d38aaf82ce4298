//! CCE's `PostCheckTask` documents: the request body, the task the API answers with, and
//! the list page of tasks.
//!
//! The request and response follow the contract (`shared/seed`) field for field;
//! `metadata` adds CCE's task timestamps and `status` adds `message`, `itemsStatus` and
//! timings, which CCE's SDKs ignore and people and pipelines read.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::baseline::{BaselineRef, BlameCounts, ResolvedFinding};
use crate::item::{CheckItem, ItemPhase};

/// The only API version the service speaks.
pub const API_VERSION: &str = "v3";
/// The kind of a post-check task document.
pub const KIND: &str = "PostCheckTask";

/// The body of `POST .../operation/postcheck`, as sent. Unknown fields are ignored;
/// validation into a typed request happens in the service.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostCheckRequest {
    /// API version; must be `v3`.
    pub api_version: Option<String>,
    /// Resource type; must be `PostCheckTask`.
    pub kind: Option<String>,
    /// What the upgrade was.
    pub spec: Option<PostCheckSpec>,
}

/// CCE's `PostcheckSpec`: which cluster, from which version, to which.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PostCheckSpec {
    /// Cluster ID; when given it must equal the path's.
    #[serde(rename = "clusterID", default, skip_serializing_if = "Option::is_none")]
    pub cluster_id: Option<String>,
    /// Source cluster version (before the upgrade).
    #[serde(rename = "clusterVersion", default, skip_serializing_if = "Option::is_none")]
    pub cluster_version: Option<String>,
    /// Target cluster version (after the upgrade).
    #[serde(rename = "targetVersion", default, skip_serializing_if = "Option::is_none")]
    pub target_version: Option<String>,
    /// postcheck's extension: also run the opt-in `synthetic-pod` check (CCE's new-pod
    /// check: a DaemonSet on every schedulable node, deleted afterwards). Absent means no.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub synthetic: Option<bool>,
}

/// A task's phase. CCE's post-check answers only the last three; `Running` is what an
/// asynchronous request (`Prefer: respond-async`) sees before the check ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum TaskPhase {
    /// The check is still going on.
    Running,
    /// Every check that applies passed (warnings allowed).
    Success,
    /// The cluster was examined and at least one Fatal item failed.
    Failed,
    /// The cluster could not be examined.
    Error,
}

impl TaskPhase {
    /// The phase as CCE spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Running => "Running",
            Self::Success => "Success",
            Self::Failed => "Failed",
            Self::Error => "Error",
        }
    }

    /// Reads a phase as CCE spells it.
    pub fn parse(s: &str) -> Option<Self> {
        [Self::Running, Self::Success, Self::Failed, Self::Error]
            .into_iter()
            .find(|p| p.as_str() == s)
    }

    /// Whether the task has ended.
    pub fn is_final(self) -> bool {
        self != Self::Running
    }

    /// The verdict over a set of items of a cluster that could be examined: `Failed` when
    /// any Fatal item failed, `Success` otherwise.
    pub fn from_items(items: &[CheckItem]) -> Self {
        if items.iter().any(CheckItem::is_fatal_failure) { Self::Failed } else { Self::Success }
    }
}

/// `metadata` of a task.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskMetadata {
    /// Task ID.
    pub uid: String,
    /// When the task was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<DateTime<Utc>>,
    /// When the task was last written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub update_timestamp: Option<DateTime<Utc>>,
}

/// `status` of a task: CCE's `phase`, plus what was found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskStatus {
    /// `Success`, `Failed` or `Error` (`Running` while an asynchronous check goes on).
    pub phase: TaskPhase,
    /// A one-line summary for a person.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
    /// Each check item with its evidence.
    #[serde(default)]
    pub items_status: Vec<CheckItem>,
    /// When the check started.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    /// When the check ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished_at: Option<DateTime<Utc>>,
    /// How long the check took, in milliseconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_ms: Option<u64>,
    /// The baseline the items were judged against, or that there was none (absent in
    /// documents stored before baselines were named, and while a task runs).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineRef>,
    /// How the findings compare with the baseline; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub blame: Option<BlameCounts>,
    /// Findings of the baseline the cluster no longer shows.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub resolved: Vec<ResolvedFinding>,
}

impl TaskStatus {
    /// A status with only a phase and a message (errors, running tasks).
    pub fn bare(phase: TaskPhase, message: impl Into<String>) -> Self {
        Self {
            phase,
            message: Some(message.into()),
            items_status: Vec::new(),
            started_at: None,
            finished_at: None,
            duration_ms: None,
            baseline: None,
            blame: None,
            resolved: Vec::new(),
        }
    }

    /// Counts of items by phase: (success, failed, error, skipped).
    pub fn counts(&self) -> (usize, usize, usize, usize) {
        let n = |p| self.items_status.iter().filter(|i| i.phase == p).count();
        (n(ItemPhase::Success), n(ItemPhase::Failed), n(ItemPhase::Error), n(ItemPhase::Skipped))
    }
}

/// A post-check task: the response of `POST .../operation/postcheck` and of
/// `GET .../operation/postcheck/tasks/{task_id}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct PostCheckTask {
    /// Always `PostCheckTask`.
    pub kind: String,
    /// Always `v3`.
    pub api_version: String,
    /// Task ID and timestamps.
    pub metadata: TaskMetadata,
    /// The spec as requested.
    pub spec: PostCheckSpec,
    /// The outcome.
    pub status: TaskStatus,
}

impl PostCheckTask {
    /// A task document with CCE's kind and apiVersion.
    pub fn new(metadata: TaskMetadata, spec: PostCheckSpec, status: TaskStatus) -> Self {
        Self { kind: KIND.to_owned(), api_version: API_VERSION.to_owned(), metadata, spec, status }
    }
}

/// A page of tasks, in CCE's list shape `{apiVersion, kind, metadata, items}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TaskList {
    /// Always `v3`.
    pub api_version: String,
    /// Always `List`.
    pub kind: String,
    /// Pagination: `continue` is the marker of the next page, absent on the last.
    pub metadata: ListMetadata,
    /// The tasks, newest first.
    pub items: Vec<PostCheckTask>,
}

/// Pagination of a list page.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ListMetadata {
    /// Pass as `marker` to get the next page; absent on the last page.
    #[serde(rename = "continue", default, skip_serializing_if = "Option::is_none")]
    pub continue_marker: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use pretty_assertions::assert_eq;
    use serde_json::json;

    #[test]
    fn the_seed_request_parses_and_ignores_unknown_fields() {
        let body = json!({
            "kind": "PostCheckTask", "apiVersion": "v3", "extra": 1,
            "spec": {"clusterID": "8978deaa-1743-11ee-8e46-0255ac10004c",
                     "clusterVersion": "v1.15.11-r1", "targetVersion": "v1.19.16-r80", "more": true}
        });
        let req: PostCheckRequest = serde_json::from_value(body).unwrap();
        let spec = req.spec.unwrap();
        assert_eq!(spec.cluster_version.as_deref(), Some("v1.15.11-r1"));
        assert_eq!(spec.target_version.as_deref(), Some("v1.19.16-r80"));
    }

    #[test]
    fn a_task_serialises_in_the_seed_response_shape() {
        let spec = PostCheckSpec {
            cluster_id: Some("8978deaa-1743-11ee-8e46-0255ac10004c".into()),
            cluster_version: Some("v1.15.11-r1".into()),
            target_version: Some("v1.19.16-r80".into()),
            synthetic: None,
        };
        let task = PostCheckTask::new(
            TaskMetadata {
                uid: "e99fedf8-348c-4084-b0fd-81bf187df4e0".into(),
                creation_timestamp: None,
                update_timestamp: None,
            },
            spec,
            TaskStatus { items_status: vec![], ..TaskStatus::bare(TaskPhase::Success, "ok") },
        );
        let v = serde_json::to_value(&task).unwrap();
        assert_eq!(v["kind"], "PostCheckTask");
        assert_eq!(v["apiVersion"], "v3");
        assert_eq!(v["metadata"]["uid"], "e99fedf8-348c-4084-b0fd-81bf187df4e0");
        assert_eq!(v["spec"]["clusterID"], "8978deaa-1743-11ee-8e46-0255ac10004c");
        assert_eq!(v["spec"]["targetVersion"], "v1.19.16-r80");
        assert_eq!(v["status"]["phase"], "Success");
    }
}
