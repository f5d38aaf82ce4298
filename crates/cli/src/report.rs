//! `postcheck report FILE`: a stored task document rendered offline.
//!
//! A task fetched from the service (`GET .../tasks/{task_id}`) or printed by
//! `postcheck check -o json|yaml` becomes a report without a second check: the HTML page,
//! the Markdown summary, or the very table `check` prints. `-` reads standard input, so
//! `curl … | postcheck report - -o html > report.html` works. The exit code says whether
//! the document could be rendered (0) or not (2), not what its verdict was.

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::Context as _;
use postcheck_report::TaskDocument;

use crate::output::{self, Format, Style};

/// What `report` renders a document as.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum ReportFormat {
    /// The verdict line and item table of `postcheck check` (the default).
    #[default]
    Table,
    /// A self-contained HTML report.
    Html,
    /// A GitHub-flavoured Markdown summary.
    Markdown,
}

impl From<ReportFormat> for Format {
    fn from(f: ReportFormat) -> Self {
        match f {
            ReportFormat::Table => Format::Table,
            ReportFormat::Html => Format::Html,
            ReportFormat::Markdown => Format::Markdown,
        }
    }
}

/// Arguments of `postcheck report`.
#[derive(Debug, clap::Args)]
pub(crate) struct ReportArgs {
    /// The task document: JSON, or YAML (`-o yaml`); `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
    /// Output format.
    #[arg(short, long, value_enum, default_value_t = ReportFormat::Table)]
    output: ReportFormat,
}

/// `postcheck report`.
pub(crate) fn report(args: ReportArgs) -> anyhow::Result<ExitCode> {
    let name = if args.file == Path::new("-") {
        "standard input".to_owned()
    } else {
        args.file.display().to_string()
    };
    let text = read(&args.file).with_context(|| format!("reading {name}"))?;
    let value = parse(&text).with_context(|| format!("parsing {name} as JSON or YAML"))?;
    let document = TaskDocument::from_value(value).with_context(|| format!("rendering {name}"))?;
    let text = match &document {
        TaskDocument::PostCheck(task) => output::render(task, args.output.into(), Style::detect())?,
        TaskDocument::PreCheck(task) => {
            output::render_precheck(task, args.output.into(), Style::detect())?
        }
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

fn read(file: &Path) -> std::io::Result<String> {
    if file == Path::new("-") {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text)?;
        Ok(text)
    } else {
        std::fs::read_to_string(file)
    }
}

/// JSON first (what the API answers); YAML when it is not JSON.
fn parse(text: &str) -> anyhow::Result<serde_json::Value> {
    match serde_json::from_str(text) {
        Ok(value) => Ok(value),
        Err(json) if text.trim_start().starts_with('{') => Err(json.into()),
        Err(_) => Ok(serde_yaml_ng::from_str(text)?),
    }
}
