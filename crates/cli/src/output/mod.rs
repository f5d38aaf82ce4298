//! Rendering a task for people and machines: `-o table|json|yaml|junit|html|markdown`.
//!
//! JSON and YAML are the very `PostCheckTask` document the service's API returns; the
//! table is for a terminal (colour only when stdout is one and `NO_COLOR` is unset);
//! JUnit XML is for CI systems that show test reports; HTML (a self-contained page) and
//! Markdown (a CI step summary or pull-request comment) come from `postcheck-report`, the
//! renderer the service uses too.

pub(crate) mod catalogue;
pub(crate) mod junit;
pub(crate) mod table;

use std::io::IsTerminal as _;

use postcheck_model::{
    PostCheckSpec, PostCheckTask, PreCheckTask, PrecheckPhase, TaskPhase, TaskStatus,
};

/// An output format of `postcheck check`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub(crate) enum Format {
    /// A verdict line and a table of items (the default).
    #[default]
    Table,
    /// The `PostCheckTask` document, as the API returns it.
    Json,
    /// The same document in YAML.
    Yaml,
    /// JUnit XML: one testcase per item.
    Junit,
    /// A self-contained HTML report (inline CSS, no script, nothing fetched).
    Html,
    /// A GitHub-flavoured Markdown summary, for CI step summaries and pull requests.
    Markdown,
}

/// How the table looks: colour and whether to fit the terminal's width.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) struct Style {
    /// ANSI colours.
    pub(crate) colour: bool,
    /// Wrap to the terminal's width.
    pub(crate) fit_terminal: bool,
}

impl Style {
    /// Colour and wrapping only when stdout is a terminal; no colour when `NO_COLOR` is set.
    pub(crate) fn detect() -> Self {
        let tty = std::io::stdout().is_terminal();
        let no_color = std::env::var_os("NO_COLOR").is_some_and(|v| !v.is_empty());
        Self { colour: tty && !no_color, fit_terminal: tty }
    }
}

/// Renders `task` in `format`.
pub(crate) fn render(task: &PostCheckTask, format: Format, style: Style) -> anyhow::Result<String> {
    Ok(match format {
        Format::Table => table::render(task, style),
        Format::Json => serde_json::to_string_pretty(task)? + "\n",
        Format::Yaml => serde_yaml_ng::to_string(task)?,
        Format::Junit => junit::render(task),
        Format::Html => postcheck_report::html(task)?,
        Format::Markdown => postcheck_report::markdown(task)?,
    })
}

/// Renders a pre-check task in `format`: JSON and YAML are CCE's `PreCheckTask` document;
/// the table and JUnit show its items flat (each node item merged over the nodes); HTML and
/// Markdown are the report crate's.
pub(crate) fn render_precheck(
    task: &PreCheckTask,
    format: Format,
    style: Style,
) -> anyhow::Result<String> {
    Ok(match format {
        Format::Json => serde_json::to_string_pretty(task)? + "\n",
        Format::Yaml => serde_yaml_ng::to_string(task)?,
        Format::Table => format!("Pre-upgrade check\n{}", table::render(&flat(task), style)),
        Format::Junit => junit::render(&flat(task)),
        Format::Html => postcheck_report::precheck_html(task)?,
        Format::Markdown => postcheck_report::precheck_markdown(task)?,
    })
}

/// A pre-check shown as the flat list the table and JUnit print.
fn flat(task: &PreCheckTask) -> PostCheckTask {
    let s = &task.status;
    let phase = match s.phase {
        PrecheckPhase::Success => TaskPhase::Success,
        PrecheckPhase::Failed => TaskPhase::Failed,
        PrecheckPhase::Error => TaskPhase::Error,
        PrecheckPhase::Init | PrecheckPhase::Running => TaskPhase::Running,
    };
    let status = TaskStatus {
        items_status: s.merged_items(),
        started_at: s.started_at,
        finished_at: s.finished_at,
        duration_ms: s.duration_ms,
        ..TaskStatus::bare(phase, s.message.clone().unwrap_or_default())
    };
    let spec = PostCheckSpec {
        cluster_id: task.spec.cluster_id.clone(),
        cluster_version: task.spec.cluster_version.clone(),
        target_version: task.spec.target_version.clone(),
        synthetic: None,
    };
    PostCheckTask::new(task.metadata.clone(), spec, status)
}

#[cfg(test)]
pub(crate) mod sample {
    //! A fixed task for the renderers' snapshot tests.
    use chrono::{TimeZone, Utc};
    use postcheck_model::{
        CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, Level, PostCheckSpec, PostCheckTask,
        TaskMetadata, TaskPhase, TaskStatus,
    };

    fn item(
        name: &str,
        group: ItemGroup,
        phase: ItemPhase,
        message: &str,
        evidence: Vec<Evidence>,
    ) -> CheckItem {
        CheckItem {
            name: name.into(),
            kind: ItemKind::Exception,
            group,
            level: Level::Fatal,
            phase,
            message: message.into(),
            evidence,
        }
    }

    /// A failed task: one item failed with evidence, one could not run, one skipped.
    pub(crate) fn failed_task() -> PostCheckTask {
        let started = Utc.with_ymd_and_hms(2026, 11, 29, 5, 0, 0).unwrap();
        let finished = started + chrono::Duration::milliseconds(412);
        let items = vec![
            item(
                "cluster-version",
                ItemGroup::MasterCheck,
                ItemPhase::Success,
                "the API server reports v1.37.2, the target v1.37",
                vec![],
            ),
            item(
                "node-ready",
                ItemGroup::NodeCheck,
                ItemPhase::Failed,
                "1 of 3 node(s) not Ready (tolerance 0)",
                vec![Evidence::cluster(
                    "Node",
                    "kwok-node-1",
                    "Ready is Unknown (NodeStatusUnknown: Kubelet stopped posting node status.)",
                )],
            ),
            item(
                "control-plane",
                ItemGroup::MasterCheck,
                ItemPhase::Error,
                "could not run: the kube-system Leases could not be read: forbidden: leases is forbidden",
                vec![],
            ),
            item(
                "node-inventory",
                ItemGroup::NodeCheck,
                ItemPhase::Skipped,
                "no baseline was given",
                vec![],
            ),
        ];
        PostCheckTask::new(
            TaskMetadata { uid: "0b9f2d8e-5c1a-4e7b-9f3d-2a6c8e1b4d70".into(), creation_timestamp: Some(started), update_timestamp: Some(finished) },
            PostCheckSpec { cluster_id: None, cluster_version: Some("v1.36".into()), target_version: Some("v1.37".into()), synthetic: None },
            TaskStatus {
                phase: TaskPhase::Failed,
                message: Some("1 fatal item(s) failed: node-ready (API server v1.37.2); could not run: control-plane".into()),
                items_status: items,
                started_at: Some(started),
                finished_at: Some(finished),
                duration_ms: Some(412),
                baseline: None,
                blame: None,
                resolved: vec![],
            },
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_output_is_the_task_document() {
        let task = sample::failed_task();
        let text = render(&task, Format::Json, Style::default()).unwrap();
        let back: PostCheckTask = serde_json::from_str(&text).unwrap();
        assert_eq!(back, task);
        insta::assert_snapshot!("json", text);
    }

    #[test]
    fn html_and_markdown_are_the_report_crates_renderings() {
        let task = sample::failed_task();
        let html = render(&task, Format::Html, Style::default()).unwrap();
        assert_eq!(html, postcheck_report::html(&task).unwrap());
        assert!(html.starts_with("<!doctype html>"));
        let markdown = render(&task, Format::Markdown, Style::default()).unwrap();
        assert_eq!(markdown, postcheck_report::markdown(&task).unwrap());
    }

    #[test]
    fn yaml_output_reads_back_as_the_same_task() {
        let task = sample::failed_task();
        let back: PostCheckTask =
            serde_yaml_ng::from_str(&render(&task, Format::Yaml, Style::default()).unwrap())
                .unwrap();
        assert_eq!(back, task);
    }
}
