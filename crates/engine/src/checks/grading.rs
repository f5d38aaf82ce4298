//! What the baseline-aware checks of the second half of the catalogue share: the policy's
//! exclusions for namespaced objects, and grading a finding against the baseline (a
//! regression since the baseline is Fatal, what was already broken before is a Warning).

use postcheck_model::{Evidence, Level};

use super::Finding;
use crate::policy::Policy;

/// Whether the policy excludes the namespaced object `namespace/name` (by namespace, or by
/// a `namespace/name` pattern whose trailing `*` matches any rest).
pub fn excluded(policy: &Policy, namespace: &str, name: &str) -> bool {
    if policy.exclude.namespaces.iter().any(|n| n == namespace) {
        return true;
    }
    let full = format!("{namespace}/{name}");
    policy.exclude.names.iter().any(|p| match p.strip_suffix('*') {
        Some(prefix) => full.starts_with(prefix),
        None => *p == full,
    })
}

/// Evidence split by how much it matters.
#[derive(Debug, Default)]
pub struct Graded {
    /// Regressions, or problems with nothing showing they predate the upgrade.
    pub fatal: Vec<Evidence>,
    /// Problems the baseline shows were already there, or minor ones.
    pub warning: Vec<Evidence>,
}

impl Graded {
    /// Files `evidence` as Fatal or as a Warning.
    pub fn push(&mut self, fatal: bool, evidence: Evidence) {
        if fatal { self.fatal.push(evidence) } else { self.warning.push(evidence) }
    }

    /// `pass(ok)` when empty; otherwise a failure at Fatal level when any evidence is Fatal
    /// (the Fatal evidence first), else at Warning level.
    pub fn finding(
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
pub fn already(warning: usize) -> String {
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
    fn excludes_by_namespace_and_name_pattern() {
        let mut policy = Policy::default();
        policy.exclude.namespaces = vec!["sandbox".into()];
        policy.exclude.names = vec!["shop/flaky-*".into()];
        assert!(excluded(&policy, "sandbox", "x"));
        assert!(excluded(&policy, "shop", "flaky-7"));
        assert!(!excluded(&policy, "shop", "checkout"));
    }

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
