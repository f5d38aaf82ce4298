//! Progress on stderr while gathering: a spinner with the counts read so far, only when
//! stderr is a terminal. Under `--wait`, each attempt's outcome is printed as a line
//! (also when stderr is not a terminal, so CI logs show the retries).

use std::collections::BTreeMap;
use std::io::IsTerminal as _;
use std::sync::Mutex;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use postcheck_engine::{Attempts, GatherEvent, Progress, Source};
use postcheck_model::TaskStatus;

/// A spinner on stderr (hidden when stderr is not a terminal).
pub(crate) struct TerminalProgress {
    bar: Option<ProgressBar>,
    counts: Mutex<BTreeMap<Source, String>>,
}

impl TerminalProgress {
    /// Starts the spinner when stderr is a terminal.
    pub(crate) fn start() -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
            bar.set_style(
                ProgressStyle::with_template("{spinner} gathering {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Self { bar, counts: Mutex::new(BTreeMap::new()) }
    }

    /// Clears the spinner.
    pub(crate) fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Progress for TerminalProgress {
    fn event(&self, event: GatherEvent) {
        let Some(bar) = &self.bar else { return };
        let Ok(mut counts) = self.counts.lock() else { return };
        match event {
            GatherEvent::Page { source, so_far } => {
                counts.insert(source, format!("{} {so_far}", source.as_str()))
            }
            GatherEvent::Done { source, outcome: Ok(n) } => {
                counts.insert(source, format!("{} {n} ✓", source.as_str()))
            }
            GatherEvent::Done { source, outcome: Err(_) } => {
                counts.insert(source, format!("{} ✗", source.as_str()))
            }
        };
        bar.set_message(counts.values().cloned().collect::<Vec<_>>().join(" · "));
    }
}

impl Attempts for TerminalProgress {
    fn attempt(&self, attempt: u32, status: &TaskStatus, consecutive: u32) {
        let line = format!(
            "attempt {attempt}: {} ({consecutive} consecutive pass(es)): {}",
            status.phase.as_str(),
            status.message.as_deref().unwrap_or("")
        );
        match &self.bar {
            Some(bar) => bar.println(line),
            None => eprintln!("{line}"),
        }
        if let Ok(mut counts) = self.counts.lock() {
            counts.clear();
        }
    }
}
