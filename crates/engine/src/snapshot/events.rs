//! The compact Warning event: what it is about, its reason, a cut message, how often and when.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::Snapshot;

/// A Warning event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WarningEvent {
    /// The event's namespace.
    pub namespace: String,
    /// The involved object's kind.
    pub kind: String,
    /// The involved object's name.
    pub name: String,
    /// The machine-readable reason (`BackOff`, `FailedScheduling`).
    pub reason: String,
    /// The message, cut to 300 characters.
    #[serde(default)]
    pub message: String,
    /// How many times it happened.
    #[serde(default)]
    pub count: i32,
    /// When it last happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_seen: Option<DateTime<Utc>>,
}

impl Snapshot {
    /// The Warning events, or none when not gathered.
    pub fn event_list(&self) -> &[WarningEvent] {
        self.events.ok().map_or(&[], Vec::as_slice)
    }
}
