//! What the baseline-aware checks share: grading a finding against the baseline (a
//! regression since the baseline is Fatal, what was already broken before is a Warning).

use postcheck_model::{Evidence, Level};

use super::Finding;

/// Evidence split by how much it matters.
#[derive(Debug, Default)]
pub(super) struct Graded {
    /// Regressions, or problems with nothing showing they predate the upgrade.
    pub(super) fatal: Vec<Evidence>,
    /// Problems the baseline shows were already there, or minor ones.
    pub(super) warning: Vec<Evidence>,
}

impl Graded {
    /// Files `evidence` as Fatal or as a Warning.
    pub(super) fn push(&mut self, fatal: bool, evidence: Evidence) {
        if fatal { self.fatal.push(evidence) } else { self.warning.push(evidence) }
    }

    /// `pass(ok)` when empty; otherwise a failure at Fatal level when any evidence is Fatal
    /// (the Fatal evidence first), else at Warning level.
    pub(super) fn finding(
        self,
        ok: impl Into<String>,
        bad: impl FnOnce(usize, usize) -> String,
    ) -> Finding {
        let (fatal, warning) = (self.fatal.len(), self.warning.len());
        if fatal + warning == 0 {
            return Finding::pass(ok);
        }
        let level = if fatal > 0 { Level::Fatal } else { Level::Warning };
        let mut evidence = self.fatal;
        evidence.extend(self.warning);
        Finding { level: Some(level), ..Finding::fail(bad(fatal, warning), evidence) }
    }
}

/// ` (2 already before the upgrade)` when some of the findings predate it.
pub(super) fn already(warning: usize) -> String {
    if warning == 0 {
        String::new()
    } else {
        format!(" ({warning} already before the upgrade or minor)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_warnings_grade_the_finding_as_a_warning() {
        let mut g = Graded::default();
        g.push(false, Evidence::namespaced("Service", "shop", "old", "no endpoint before either"));
        let f = g.finding("ok", |f, w| format!("{f} fatal {w} warning"));
        assert_eq!((f.level, f.message.as_str()), (Some(Level::Warning), "0 fatal 1 warning"));
        let mut g = Graded::default();
        g.push(false, Evidence::namespaced("Service", "shop", "old", "before"));
        g.push(true, Evidence::namespaced("Service", "shop", "new", "lost"));
        let f = g.finding("ok", |f, w| format!("{f}/{w}"));
        assert_eq!(f.level, Some(Level::Fatal));
        assert_eq!(f.evidence[0].name, "new");
    }
}
