//! JUnit XML for CI systems: one testcase per item; `<failure>` for Failed, `<error>` for
//! Error, `<skipped>` for Skipped. A task that could not examine the cluster at all is
//! one testcase `cluster` with an `<error>`.

use std::fmt::Write as _;

use postcheck_model::{ItemPhase, PostCheckTask, TaskPhase};

/// Renders the task as a JUnit XML document.
pub(crate) fn render(task: &PostCheckTask) -> String {
    let status = &task.status;
    let seconds = status.duration_ms.unwrap_or(0) as f64 / 1000.0;
    let (_, failures, errors, skipped) = status.counts();
    let unexamined = status.phase == TaskPhase::Error && status.items_status.is_empty();
    let (tests, errors) = if unexamined { (1, 1) } else { (status.items_status.len(), errors) };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(
        x,
        "<testsuites name=\"postcheck\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{seconds:.3}\">"
    );
    let stamp = status
        .started_at
        .map(|t| format!(" timestamp=\"{}\"", t.format("%Y-%m-%dT%H:%M:%S")))
        .unwrap_or_default();
    let _ = writeln!(
        x,
        "  <testsuite name=\"postcheck\" tests=\"{tests}\" failures=\"{failures}\" errors=\"{errors}\" skipped=\"{skipped}\" time=\"{seconds:.3}\"{stamp}>"
    );
    let _ = writeln!(x, "    <properties>");
    let _ = writeln!(x, "      <property name=\"uid\" value=\"{}\"/>", esc(&task.metadata.uid));
    let _ = writeln!(x, "      <property name=\"phase\" value=\"{}\"/>", status.phase.as_str());
    if let Some(m) = &status.message {
        let _ = writeln!(x, "      <property name=\"message\" value=\"{}\"/>", esc(m));
    }
    let _ = writeln!(x, "    </properties>");
    if unexamined {
        let m = esc(status.message.as_deref().unwrap_or("the cluster could not be examined"));
        let _ = writeln!(
            x,
            "    <testcase name=\"cluster\" classname=\"postcheck\">\n      <error message=\"{m}\"/>\n    </testcase>"
        );
    }
    for item in &status.items_status {
        let _ = write!(
            x,
            "    <testcase name=\"{}\" classname=\"postcheck.{:?}\"",
            esc(&item.name),
            item.group
        );
        let body: String = item
            .evidence
            .iter()
            .map(|e| {
                let ns = e.namespace.as_deref().map(|n| format!("{n}/")).unwrap_or_default();
                format!("{} {ns}{}: {}\n", e.kind, e.name, e.reason)
            })
            .collect();
        let m = esc(&item.message);
        match item.phase {
            ItemPhase::Success => {
                let _ = writeln!(x, "/>");
            }
            ItemPhase::Failed => {
                let _ = writeln!(
                    x,
                    ">\n      <failure message=\"{m}\" type=\"{:?}\">{}</failure>\n    </testcase>",
                    item.level,
                    esc(&body)
                );
            }
            ItemPhase::Error => {
                let _ = writeln!(x, ">\n      <error message=\"{m}\"/>\n    </testcase>");
            }
            ItemPhase::Skipped => {
                let _ = writeln!(x, ">\n      <skipped message=\"{m}\"/>\n    </testcase>");
            }
        }
    }
    x.push_str("  </testsuite>\n</testsuites>\n");
    x
}

/// Escapes text for an XML attribute or element.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            '\n' => out.push_str("&#10;"),
            c if (c as u32) < 0x20 && c != '\t' => {}
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;

    #[test]
    fn one_testcase_per_item_with_failures_errors_and_skips() {
        let xml = render(&sample::failed_task());
        assert!(xml.contains("tests=\"4\" failures=\"1\" errors=\"1\" skipped=\"1\""), "{xml}");
        assert!(
            xml.contains(
                "<testcase name=\"node-ready\" classname=\"postcheck.NodeCheck\">\n      <failure"
            ),
            "{xml}"
        );
        assert!(xml.contains("Node kwok-node-1: Ready is Unknown"), "{xml}");
        assert!(xml.contains("<skipped message=\"no baseline was given\"/>"), "{xml}");
        assert_eq!(xml.matches("<testcase").count(), 4);
    }

    #[test]
    fn an_unexamined_cluster_is_one_errored_testcase() {
        let mut task = sample::failed_task();
        task.status = postcheck_model::TaskStatus::bare(
            TaskPhase::Error,
            "the API server rejected the credentials <401>",
        );
        let xml = render(&task);
        assert!(xml.contains("<testcase name=\"cluster\" classname=\"postcheck\">\n      <error message=\"the API server rejected the credentials &lt;401&gt;\"/>"), "{xml}");
        assert!(xml.contains("tests=\"1\" failures=\"0\" errors=\"1\""), "{xml}");
    }
}
