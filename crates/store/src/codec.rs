//! What both backends write the same way: the JSON documents of a task, the status an
//! abandoned task ends with, and how a database error becomes a [`StoreError`].
//!
//! Keeping these in one place means a task written by the SQLite store and one written by
//! the PostgreSQL store are byte-for-byte the same documents.

use chrono::{DateTime, SecondsFormat, Utc};
use postcheck_model::{PostCheckSpec, TaskStatus};

use crate::StoreError;

/// The most tasks one list page holds.
pub(crate) const MAX_PAGE: u32 = 500;

/// The page size actually used for a requested `limit`: 1 to [`MAX_PAGE`].
pub(crate) fn clamp_limit(limit: u32) -> u32 {
    limit.clamp(1, MAX_PAGE)
}

/// A spec as stored (JSON text).
pub(crate) fn encode_spec(spec: &PostCheckSpec) -> Result<String, StoreError> {
    serde_json::to_string(spec)
        .map_err(|source| StoreError::Decode { what: "encoding a task spec", source })
}

/// A status as stored (JSON text).
pub(crate) fn encode_status(status: &TaskStatus) -> Result<String, StoreError> {
    serde_json::to_string(status)
        .map_err(|source| StoreError::Decode { what: "encoding a task status", source })
}

/// A stored spec.
pub(crate) fn decode_spec(json: &str) -> Result<PostCheckSpec, StoreError> {
    serde_json::from_str(json)
        .map_err(|source| StoreError::Decode { what: "a stored task spec", source })
}

/// A stored status.
pub(crate) fn decode_status(json: &str) -> Result<TaskStatus, StoreError> {
    serde_json::from_str(json)
        .map_err(|source| StoreError::Decode { what: "a stored task status", source })
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
