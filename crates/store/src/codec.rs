//! What both backends write the same way: the JSON documents of a task (of either kind),
//! the tables tasks live in, pages, the status an abandoned task ends with, and how a
//! database error becomes a [`StoreError`].
//!
//! Keeping these in one place means a task written by the SQLite store and one written by
//! the PostgreSQL store are byte-for-byte the same documents.

use chrono::{DateTime, SecondsFormat, Utc};
use postcheck_model::{PrecheckStatus, TaskStatus};

use crate::{StoreError, StoredTask, TaskDocument, TaskPage};

/// The most tasks one list page holds.
pub(crate) const MAX_PAGE: u32 = 500;

/// The page size actually used for a requested `limit`: 1 to [`MAX_PAGE`].
pub(crate) fn clamp_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

/// A task's spec as stored (JSON text).
pub(crate) fn encode_spec<S: TaskDocument>(spec: &S::Spec) -> Result<String, StoreError> {
    serde_json::to_string(spec)
        .map_err(|source| StoreError::Decode { what: "encoding a task spec", source })
}

/// A task's status as stored (JSON text).
pub(crate) fn encode_status<S: TaskDocument>(status: &S) -> Result<String, StoreError> {
    serde_json::to_string(status)
        .map_err(|source| StoreError::Decode { what: "encoding a task status", source })
}

/// A stored spec.
pub(crate) fn decode_spec<S: TaskDocument>(json: &str) -> Result<S::Spec, StoreError> {
    serde_json::from_str(json)
        .map_err(|source| StoreError::Decode { what: "a stored task spec", source })
}

/// A stored status.
pub(crate) fn decode_status<S: TaskDocument>(json: &str) -> Result<S, StoreError> {
    serde_json::from_str(json)
        .map_err(|source| StoreError::Decode { what: "a stored task status", source })
}

/// Every task table, with its condition for a task that has not ended: what the leases
/// and the sweeps go over.
pub(crate) const TASK_TABLES: [(&str, &str); 2] = [
    (<TaskStatus as TaskDocument>::TABLE, <TaskStatus as TaskDocument>::UNFINISHED),
    (<PrecheckStatus as TaskDocument>::TABLE, <PrecheckStatus as TaskDocument>::UNFINISHED),
];

/// The columns a task row is read from, in a `SELECT`.
pub(crate) const TASK_COLUMNS: &str =
    "uid, project_id, cluster_id, spec, status, created_at, updated_at, owner, lease_expires_at";

/// Whether a page asked for `limit` rows got one more (there is a next page): trims it to
/// `limit` and names the marker of the next page.
pub(crate) fn page_of<S: TaskDocument>(mut tasks: Vec<StoredTask<S>>, limit: u32) -> TaskPage<S> {
    let more = tasks.len() > limit as usize;
    tasks.truncate(limit as usize);
    let next_marker = if more { tasks.last().map(|t| t.uid.clone()) } else { None };
    TaskPage { tasks, next_marker }
}

/// `finishedAt` of a task ended by the store (orphaned or abandoned), as the status JSON
/// spells timestamps.
pub(crate) fn finished_at_json(now: DateTime<Utc>) -> String {
    now.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Maps a failed query to [`StoreError::Query`] naming what was being attempted, or to
/// [`StoreError::Unavailable`] when the database did not answer at all.
pub(crate) fn query_error(action: &'static str) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| {
        if is_unavailable(&source) {
            StoreError::Unavailable { action, source }
        } else {
            StoreError::Query { action, source }
        }
    }
}

/// Whether an error says the database is not there (rather than that a query is wrong).
fn is_unavailable(e: &sqlx::Error) -> bool {
    matches!(
        e,
        sqlx::Error::PoolTimedOut
            | sqlx::Error::PoolClosed
            | sqlx::Error::Io(_)
            | sqlx::Error::Tls(_)
            | sqlx::Error::WorkerCrashed
    ) || matches!(e, sqlx::Error::Database(db) if db.code().is_some_and(|c| {
        // PostgreSQL: admin shutdown, cannot connect now, crash shutdown.
        matches!(c.as_ref(), "57P01" | "57P02" | "57P03")
    }))
}

/// Maps a failed insert: a unique violation is a [`StoreError::Conflict`] on `what`,
/// anything else a [`StoreError::Query`].
pub(crate) fn insert_error(
    action: &'static str,
    what: impl FnOnce() -> String,
) -> impl FnOnce(sqlx::Error) -> StoreError {
    move |source| match &source {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            StoreError::Conflict { what: what() }
        }
        _ => query_error(action)(source),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn limits_are_clamped_to_one_through_five_hundred() {
        assert_eq!(clamp_limit(0), 1);
        assert_eq!(clamp_limit(20), 20);
        assert_eq!(clamp_limit(10_000), 500);
    }

    #[test]
    fn finished_at_reads_back_as_the_same_instant() {
        let now = Utc.with_ymd_and_hms(2025, 3, 4, 5, 6, 7).unwrap()
            + chrono::Duration::microseconds(123_456);
        let text = finished_at_json(now);
        assert_eq!(text, "2025-03-04T05:06:07.123456Z");
        let back: DateTime<Utc> = serde_json::from_value(serde_json::Value::String(text)).unwrap();
        assert_eq!(back, now);
    }
}
