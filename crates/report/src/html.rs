//! The HTML report: one self-contained page (inline CSS, no script, nothing fetched) that
//! reads on a phone, a desktop and paper.
//!
//! `templates/report.html` and `templates/report.css`; askama escapes every value it
//! prints in an `.html` template, and the page's Content-Security-Policy forbids scripts,
//! images and any fetch besides, so even a value that slipped through could run nothing.

use askama::Template;

use crate::RenderError;
use crate::view::{Item, Report};

#[derive(Template)]
#[template(path = "report.html")]
struct HtmlReport<'a> {
    report: &'a Report,
    attention: Vec<&'a Item>,
    version: &'static str,
}

/// Renders a report as a self-contained HTML page.
pub fn render(report: &Report) -> Result<String, RenderError> {
    let page =
        HtmlReport { report, attention: report.attention(), version: env!("CARGO_PKG_VERSION") };
    page.render().map_err(|source| RenderError::Template { format: "HTML", source })
}
