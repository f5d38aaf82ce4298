//! Reading a stored task document of any kind, so `postcheck report FILE` can render
//! whatever the API answered or `-o json` printed without being told what it is.
//!
//! The document's `kind` decides: `PostCheckTask` or `PreCheckTask`.

use postcheck_model::{PostCheckTask, PreCheckTask};

use crate::view::Report;

/// A task document the renderer knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TaskDocument {
    /// CCE's post-upgrade check.
    PostCheck(PostCheckTask),
    /// CCE's pre-upgrade check.
    PreCheck(PreCheckTask),
}

/// Why a document is not one the renderer can show.
#[derive(Debug, thiserror::Error)]
pub enum DocumentError {
    /// The document has no `kind`, or it is not a string.
    #[error("the document has no \"kind\": it is not a task document")]
    NoKind,
    /// A list of tasks rather than one task.
    #[error(
        "the document is a list of tasks: save one task (GET .../tasks/{{task_id}}) and render that"
    )]
    List,
    /// A kind this postcheck does not render.
    #[error(
        "the document is a {kind:?}, which this postcheck does not render (it renders PostCheckTask and PreCheckTask)"
    )]
    UnknownKind {
        /// The document's kind.
        kind: String,
    },
    /// The kind is right, the fields are not.
    #[error("the document is a {kind} but its fields do not read as one")]
    Malformed {
        /// The document's kind.
        kind: &'static str,
        /// What did not read.
        #[source]
        source: serde_json::Error,
    },
}

impl TaskDocument {
    /// Reads a document already parsed into JSON values (from JSON or YAML text alike).
    pub fn from_value(value: serde_json::Value) -> Result<Self, DocumentError> {
        let kind = value.get("kind").and_then(|k| k.as_str()).ok_or(DocumentError::NoKind)?;
        match kind {
            postcheck_model::KIND => serde_json::from_value(value)
                .map(Self::PostCheck)
                .map_err(|source| DocumentError::Malformed { kind: postcheck_model::KIND, source }),
            postcheck_model::PRECHECK_KIND => {
                serde_json::from_value(value).map(Self::PreCheck).map_err(|source| {
                    DocumentError::Malformed { kind: postcheck_model::PRECHECK_KIND, source }
                })
            }
            "List" => Err(DocumentError::List),
            other => Err(DocumentError::UnknownKind { kind: other.to_owned() }),
        }
    }

    /// The report of this document.
    pub fn report(&self) -> Report {
        match self {
            Self::PostCheck(task) => Report::from_postcheck(task),
            Self::PreCheck(task) => Report::from_precheck(task),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_kind_decides_and_unknown_kinds_are_named() {
        let task = json!({"kind": "PostCheckTask", "apiVersion": "v3",
            "metadata": {"uid": "u"}, "spec": {}, "status": {"phase": "Success"}});
        assert!(matches!(TaskDocument::from_value(task), Ok(TaskDocument::PostCheck(_))));
        let pre = json!({"kind": "PreCheckTask", "apiVersion": "v3",
            "metadata": {"uid": "u"}, "spec": {"targetVersion": "v1.37"}, "status": {"phase": "Failed"}});
        assert!(matches!(TaskDocument::from_value(pre), Ok(TaskDocument::PreCheck(_))));
        let err = TaskDocument::from_value(json!({"kind": "UpgradeTask"})).unwrap_err();
        assert!(err.to_string().contains("\"UpgradeTask\""), "{err}");
        assert!(matches!(
            TaskDocument::from_value(json!({"kind": "List"})),
            Err(DocumentError::List)
        ));
        assert!(matches!(TaskDocument::from_value(json!({"a": 1})), Err(DocumentError::NoKind)));
        let err = TaskDocument::from_value(json!({"kind": "PostCheckTask", "status": 3}));
        assert!(matches!(err, Err(DocumentError::Malformed { .. })));
    }
}
