//! The default output: a verdict line, then NAME | GROUP | LEVEL | PHASE | MESSAGE with the
//! evidence under each failing item's message.

use comfy_table::{Cell, Color, ContentArrangement, Table, presets};
use postcheck_model::{ItemPhase, PostCheckTask, TaskPhase};

use super::Style;

/// Renders the verdict line and the item table.
pub(crate) fn render(task: &PostCheckTask, style: Style) -> String {
    let status = &task.status;
    let paint = |text: String, colour: Color| {
        if style.colour { Cell::new(text).fg(colour) } else { Cell::new(text) }
    };
    let verdict_colour = match status.phase {
        TaskPhase::Success => Color::Green,
        TaskPhase::Failed => Color::Red,
        TaskPhase::Error => Color::Magenta,
        TaskPhase::Running => Color::Yellow,
    };
    let phase = status.phase.as_str();
    let verdict = if style.colour {
        format!("\x1b[1m{}\x1b[0m", ansi(phase, verdict_colour))
    } else {
        phase.to_owned()
    };
    let (ok, failed, error, skipped) = status.counts();
    let mut out = format!("Verdict: {verdict}: {}\n", status.message.as_deref().unwrap_or(""));
    let took =
        status.duration_ms.map(|ms| format!(" in {:.1}s", ms as f64 / 1000.0)).unwrap_or_default();
    out.push_str(&format!(
        "{ok} passed, {failed} failed, {error} could not run, {skipped} skipped{took}\n"
    ));
    if let Some(b) = &status.blame {
        out.push_str(&format!(
            "against the baseline: {} new, {} pre-existing, {} resolved\n",
            b.new, b.pre_existing, b.resolved
        ));
    }
    if status.items_status.is_empty() {
        return out;
    }

    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED);
    if style.colour {
        table.enforce_styling();
    } else {
        table.force_no_tty();
    }
    if style.fit_terminal {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table.set_header(["NAME", "GROUP", "LEVEL", "PHASE", "MESSAGE"]);
    for item in &status.items_status {
        let colour = match item.phase {
            ItemPhase::Success => Color::Green,
            ItemPhase::Failed if item.is_fatal_failure() => Color::Red,
            ItemPhase::Failed => Color::Yellow,
            ItemPhase::Error => Color::Magenta,
            ItemPhase::Skipped => Color::DarkGrey,
        };
        let mut message = item.message.clone();
        for e in &item.evidence {
            let object = match &e.namespace {
                Some(ns) => format!("{} {ns}/{}", e.kind, e.name),
                None => format!("{} {}", e.kind, e.name),
            };
            let blame = match e.blame {
                Some(postcheck_model::Blame::New) => " [new]",
                Some(postcheck_model::Blame::PreExisting) => " [pre-existing]",
                None => "",
            };
            message.push_str(&format!("\n  - {object}: {}{blame}", e.reason));
        }
        table.add_row(vec![
            Cell::new(&item.name),
            Cell::new(format!("{:?}", item.group)),
            Cell::new(format!("{:?}", item.level)),
            paint(format!("{:?}", item.phase), colour),
            Cell::new(message),
        ]);
    }
    out.push_str(&table.to_string());
    out.push('\n');
    out
}

fn ansi(text: &str, colour: Color) -> String {
    let code = match colour {
        Color::Green => 32,
        Color::Red => 31,
        Color::Magenta => 35,
        _ => 33,
    };
    format!("\x1b[{code}m{text}\x1b[0m")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::output::sample;

    #[test]
    fn the_table_shows_the_verdict_and_evidence_under_the_failed_item() {
        let text = render(&sample::failed_task(), Style::default());
        assert!(!text.contains('\x1b'), "no colour unless asked");
        insta::assert_snapshot!("table", text);
    }

    #[test]
    fn colour_is_applied_only_when_asked() {
        let text = render(&sample::failed_task(), Style { colour: true, fit_terminal: false });
        assert!(text.contains("\x1b[31mFailed"), "{text}");
    }
}
