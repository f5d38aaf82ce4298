//! postcheck's reports for people: one renderer of a task document into a self-contained
//! HTML page and a GitHub-flavoured Markdown summary.
//!
//! The command line (`postcheck check -o html|markdown`, `postcheck report FILE`) and the
//! service (`GET .../tasks/{task_id}` with `Accept: text/html`) all call this crate, so a
//! task looks the same wherever it is read. The flow reads top-down:
//!
//! - [`document`]: which stored documents it reads (`PostCheckTask`, `PreCheckTask`).
//! - [`view`]: the document as a person reads it ([`Report`]): groups, verdict, upgrade,
//!   timings, and the hooks for blame and pre-check documents.
//! - [`html`] and [`markdown`]: templates over the view (askama, checked at compile time).
//!   Every value is escaped: HTML by askama's escaper, Markdown by [`markdown::Markdown`];
//!   an object's name or an event's message is always text, never markup.
//! - [`negotiate`]: whether an HTTP client asked for the report or the JSON document.

pub mod document;
pub mod html;
pub mod markdown;
pub mod negotiate;
pub mod view;

pub use document::{DocumentError, TaskDocument};
pub use view::Report;

use postcheck_model::{PostCheckTask, PreCheckTask};

/// Why a report could not be rendered.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    /// The template engine failed while writing the report.
    #[error("rendering the {format} report")]
    Template {
        /// `HTML` or `Markdown`.
        format: &'static str,
        /// What failed.
        #[source]
        source: askama::Error,
    },
}

/// The self-contained HTML report of a post-check task.
pub fn html(task: &PostCheckTask) -> Result<String, RenderError> {
    html::render(&Report::from_postcheck(task))
}

/// The GitHub-flavoured Markdown summary of a post-check task.
pub fn markdown(task: &PostCheckTask) -> Result<String, RenderError> {
    markdown::render(&Report::from_postcheck(task))
}

/// The self-contained HTML report of a pre-check task.
pub fn precheck_html(task: &PreCheckTask) -> Result<String, RenderError> {
    html::render(&Report::from_precheck(task))
}

/// The GitHub-flavoured Markdown summary of a pre-check task.
pub fn precheck_markdown(task: &PreCheckTask) -> Result<String, RenderError> {
    markdown::render(&Report::from_precheck(task))
}
