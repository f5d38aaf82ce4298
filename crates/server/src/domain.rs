//! Typed identifiers from request paths: parse once at the edge, trust afterwards.
//!
//! CCE's paths carry a project ID (32 lowercase hex characters) and a cluster ID (a UUID);
//! tasks are UUIDs too. Handlers receive these types, never raw strings, so a malformed ID
//! is refused before it reaches the store.

use std::fmt;

/// Why a path identifier was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("invalid {what} {input:?}: expected {expected}")]
pub struct InvalidId {
    /// Which identifier it was (`project ID`, `cluster ID`, `task ID`).
    pub what: &'static str,
    /// The string as given (truncated to 64 characters).
    pub input: String,
    /// What a valid one looks like.
    pub expected: &'static str,
}

impl InvalidId {
    fn new(what: &'static str, input: &str, expected: &'static str) -> Self {
        Self { what, input: input.chars().take(64).collect(), expected }
    }
}

/// A project ID: 32 lowercase hexadecimal characters, as IAM issues them.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ProjectId(String);

impl ProjectId {
    /// Parses a project ID.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        if s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)) {
            Ok(Self(s.to_owned()))
        } else {
            Err(InvalidId::new("project ID", s, "32 lowercase hexadecimal characters"))
        }
    }

    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A cluster ID: a UUID, kept in its lowercase hyphenated form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClusterId(String);

impl ClusterId {
    /// Parses a cluster ID (any UUID spelling; kept lowercase hyphenated).
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        uuid::Uuid::try_parse(s).map(|u| Self(u.hyphenated().to_string())).map_err(|_| {
            InvalidId::new("cluster ID", s, "a UUID such as 8978deaa-1743-11ee-8e46-0255ac10004c")
        })
    }

    /// A fresh random cluster ID.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A task ID: a UUID.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct TaskId(String);

impl TaskId {
    /// Parses a task ID.
    pub fn parse(s: &str) -> Result<Self, InvalidId> {
        uuid::Uuid::try_parse(s)
            .map(|u| Self(u.hyphenated().to_string()))
            .map_err(|_| InvalidId::new("task ID", s, "a UUID"))
    }

    /// A fresh task ID.
    pub fn random() -> Self {
        Self(uuid::Uuid::new_v4().hyphenated().to_string())
    }

    /// The ID as a string.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

macro_rules! display_as_str {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    )*};
}
display_as_str!(ProjectId, ClusterId, TaskId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_project_id_is_32_lowercase_hex() {
        assert!(ProjectId::parse("e9993fc787d94b6c886cbaa340f9c0f4").is_ok());
        for bad in [
            "",
            "E9993FC787D94B6C886CBAA340F9C0F4",
            "e9993fc787d94b6c886cbaa340f9c0f",
            "g9993fc787d94b6c886cbaa340f9c0f4",
            "../../etc/passwd",
        ] {
            assert!(ProjectId::parse(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_cluster_id_is_a_uuid_kept_lowercase() {
        let id = ClusterId::parse("8978DEAA-1743-11EE-8E46-0255AC10004C").unwrap();
        assert_eq!(id.as_str(), "8978deaa-1743-11ee-8e46-0255ac10004c");
        assert!(ClusterId::parse("not-a-uuid").is_err());
    }

    #[test]
    fn a_refusal_names_what_was_expected() {
        let e = TaskId::parse("x").unwrap_err();
        assert!(e.to_string().contains("task ID"), "{e}");
    }
}
