//! The report as a person reads it, independent of HTML or Markdown.
//!
//! A task document is turned into a [`Report`] once ([`Report::from_postcheck`]); each
//! output format is then only a template over it. Everything a template shows is decided
//! here: the order of the groups, which items need attention, how an object is named, how
//! a duration reads. The values stay raw text: escaping is the template engine's job
//! (HTML) or [`crate::markdown`]'s (Markdown), never this module's.
//!
//! - **Blame** (new / pre-existing against the baseline): every [`EvidenceRow`] has a
//!   `blame`, mapped from the evidence by [`blame_of`]; both templates show a column and
//!   counts as soon as one row has it; the resolved count comes from the status.
//! - **Pre-check documents**: [`DocumentKind`] names what kind of check a report is of;
//!   a `PreCheckTask` becomes a report through [`Report::from_precheck`], filling the same
//!   fields (its node items merged over the nodes, every node's evidence kept). The
//!   templates need no change.

use chrono::{DateTime, SecondsFormat, Utc};
use postcheck_model::{
    BaselineSource, CheckItem, Evidence, ItemGroup, ItemPhase, Level, PostCheckTask, PreCheckTask,
    PrecheckPhase, TaskPhase, TaskStatus,
};

/// What kind of check a report is of.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DocumentKind {
    /// CCE's post-upgrade check (`PostCheckTask`).
    PostCheck,
    /// CCE's pre-upgrade check (`PreCheckTask`).
    PreCheck,
}

impl DocumentKind {
    /// The title of the report, for a person.
    pub fn title(self) -> &'static str {
        match self {
            Self::PostCheck => "Post-upgrade check",
            Self::PreCheck => "Pre-upgrade check",
        }
    }

    /// The document's `kind`, as CCE spells it.
    pub fn wire_kind(self) -> &'static str {
        match self {
            Self::PostCheck => postcheck_model::KIND,
            Self::PreCheck => postcheck_model::PRECHECK_KIND,
        }
    }
}

/// How something should look: one per verdict, item phase or blame class. Each tone is
/// a CSS class in the HTML and a symbol in both formats; colour is never the only cue
/// (every tone also has a word).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Passed.
    Success,
    /// Failed, and it matters (a Fatal item, a Failed verdict, a new finding).
    Failed,
    /// Failed, worth a look (a Warning item).
    Warning,
    /// Could not run, or could not examine the cluster.
    Error,
    /// Did not apply, or for information.
    Neutral,
    /// Still going on.
    Running,
}

impl Tone {
    /// The CSS class suffix (`tone-failed`).
    pub fn class(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Failed => "failed",
            Self::Warning => "warning",
            Self::Error => "error",
            Self::Neutral => "neutral",
            Self::Running => "running",
        }
    }

    /// A symbol that says the same as the colour (for Markdown and screen readers alike
    /// the word beside it carries the meaning; the symbol is decoration).
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Success => "✓",
            Self::Failed => "✗",
            Self::Warning => "⚠",
            Self::Error => "⊘",
            Self::Neutral => "–",
            Self::Running => "…",
        }
    }

    /// The emoji GitHub shows for this tone in a Markdown summary.
    pub fn emoji(self) -> &'static str {
        match self {
            Self::Success => "✅",
            Self::Failed => "❌",
            Self::Warning => "⚠️",
            Self::Error => "⛔",
            Self::Neutral => "➖",
            Self::Running => "⏳",
        }
    }
}

/// Where a finding stands against the baseline taken before the upgrade.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Blame {
    /// Not in the baseline: the upgrade (or something since) brought it.
    New,
    /// Already so in the baseline.
    PreExisting,
    /// In the baseline, gone now.
    Resolved,
}

impl Blame {
    /// The label, for a person.
    pub fn label(self) -> &'static str {
        match self {
            Self::New => "new",
            Self::PreExisting => "pre-existing",
            Self::Resolved => "resolved",
        }
    }

    /// How it looks.
    pub fn tone(self) -> Tone {
        match self {
            Self::New => Tone::Failed,
            Self::PreExisting => Tone::Neutral,
            Self::Resolved => Tone::Success,
        }
    }
}

/// The blame of one evidence entry, as the document says (`None` without a baseline).
pub fn blame_of(evidence: &Evidence) -> Option<Blame> {
    evidence.blame.map(|b| match b {
        postcheck_model::Blame::New => Blame::New,
        postcheck_model::Blame::PreExisting => Blame::PreExisting,
    })
}

/// The verdict: the task's phase and its summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    /// `Success`, `Failed`, `Error` or `Running`.
    pub phase: &'static str,
    /// How it looks.
    pub tone: Tone,
    /// What it means, in a few words.
    pub meaning: &'static str,
    /// Whether the message does not already say what `meaning` says (it often begins so).
    pub show_meaning: bool,
    /// The task's one-line summary.
    pub message: Option<String>,
}

/// One labelled fact (`From: v1.36`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fact {
    /// The label.
    pub label: &'static str,
    /// The value, as text.
    pub value: String,
    /// The machine-readable form, when the value is a time (RFC 3339 for `<time>`).
    pub datetime: Option<String>,
    /// Whether the value is an identifier or version, shown in a monospace font.
    pub code: bool,
}

impl Fact {
    fn text(label: &'static str, value: impl Into<String>) -> Self {
        Self { label, value: value.into(), datetime: None, code: false }
    }

    fn code(label: &'static str, value: impl Into<String>) -> Self {
        Self { code: true, ..Self::text(label, value) }
    }

    fn time(label: &'static str, at: &Stamp) -> Self {
        Self { datetime: Some(at.rfc3339.clone()), ..Self::text(label, at.text.clone()) }
    }
}

/// Counts of items by outcome.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// All items.
    pub total: usize,
    /// Passed.
    pub passed: usize,
    /// Failed at level Fatal.
    pub fatal: usize,
    /// Failed at level Warning or Info.
    pub warnings: usize,
    /// Could not run.
    pub errors: usize,
    /// Did not apply.
    pub skipped: usize,
}

/// Counts of evidence entries by blame; all zero while documents carry no blame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BlameCounts {
    /// New since the baseline.
    pub new: usize,
    /// Already in the baseline.
    pub pre_existing: usize,
    /// In the baseline, gone now.
    pub resolved: usize,
}

impl BlameCounts {
    /// Whether any entry carries blame.
    pub fn any(&self) -> bool {
        self.new + self.pre_existing + self.resolved > 0
    }
}

/// One object an item names, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EvidenceRow {
    /// The object's kind (`Pod`).
    pub kind: String,
    /// `namespace/name`, or `name` for a cluster-scoped object.
    pub object: String,
    /// Why it is named.
    pub reason: String,
    /// Where it stands against the baseline, when the document says.
    pub blame: Option<Blame>,
}

/// One check item.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// The item's name (`node-ready`).
    pub name: String,
    /// An HTML id for links to the item (`item-node-ready`).
    pub anchor: String,
    /// `Fatal`, `Warning` or `Info`.
    pub level: &'static str,
    /// `Success`, `Failed`, `Error` or `Skipped`.
    pub phase: &'static str,
    /// How the phase looks at this level.
    pub tone: Tone,
    /// What was found.
    pub message: String,
    /// The objects involved.
    pub evidence: Vec<EvidenceRow>,
    /// Whether any evidence row carries blame (the templates add a column then).
    pub has_blame: bool,
    /// The item's CCE group, spelled as CCE does (`NodeCheck`).
    pub group: &'static str,
}

impl Item {
    /// Whether the item failed or could not run: it belongs in the summary of what needs
    /// a look.
    pub fn needs_attention(&self) -> bool {
        matches!(self.tone, Tone::Failed | Tone::Warning | Tone::Error)
    }

    /// "1 object", "3 objects".
    pub fn evidence_count(&self) -> String {
        plural(self.evidence.len(), "object", "objects")
    }
}

/// The items of one CCE group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// CCE's name of the group (`NodeCheck`).
    pub code: &'static str,
    /// The group for a person (`Nodes`).
    pub title: &'static str,
    /// An HTML id (`group-NodeCheck`).
    pub anchor: String,
    /// The items, in the document's order.
    pub items: Vec<Item>,
    /// How many of them need attention.
    pub attention: usize,
}

/// A rendered report of one task document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// What kind of check this is.
    pub kind: DocumentKind,
    /// The task's ID.
    pub task_id: String,
    /// The verdict.
    pub verdict: Verdict,
    /// `v1.36 → v1.37`, when the document names a version.
    pub upgrade_line: Option<String>,
    /// The upgrade: cluster, source, target, when, how long, which baseline.
    pub upgrade: Vec<Fact>,
    /// Timestamps and duration.
    pub timings: Vec<Fact>,
    /// Items by outcome.
    pub counts: Counts,
    /// Evidence by blame.
    pub blame: BlameCounts,
    /// The items by CCE group, in a fixed group order; empty groups left out.
    pub groups: Vec<Group>,
}

/// The order of groups in a report, with their titles.
const GROUPS: [(ItemGroup, &str, &str); 5] = [
    (ItemGroup::MasterCheck, "MasterCheck", "Control plane"),
    (ItemGroup::NodeCheck, "NodeCheck", "Nodes"),
    (ItemGroup::AddonCheck, "AddonCheck", "Add-ons and API extensions"),
    (ItemGroup::LimitCheck, "LimitCheck", "Workloads, services and storage"),
    (ItemGroup::ExecuteException, "ExecuteException", "Checks that could not run"),
];

impl Report {
    /// The report of a post-check task, as the API returns it and `-o json` prints it.
    pub fn from_postcheck(task: &PostCheckTask) -> Self {
        let spec = &task.spec;
        let status = &task.status;
        let mut upgrade = Vec::new();
        if let Some(cluster) = &spec.cluster_id {
            upgrade.push(Fact::code("Cluster", cluster));
        }
        upgrade.push(Fact::code("From", spec.cluster_version.as_deref().unwrap_or("not given")));
        upgrade.push(Fact::code("To", spec.target_version.as_deref().unwrap_or("not given")));
        let started = status.started_at.or(task.metadata.creation_timestamp);
        if let Some(at) = started.as_ref().map(stamp) {
            upgrade.push(Fact::time("Checked", &at));
        }
        if let Some(ms) = status.duration_ms {
            upgrade.push(Fact::text("Took", duration(ms)));
        }
        if let Some(b) = &status.baseline {
            upgrade.push(Fact::text("Baseline", baseline_text(b)));
        }
        if spec.synthetic == Some(true) {
            upgrade.push(Fact::text("Synthetic pod check", "requested"));
        }

        let mut timings = Vec::new();
        let stamps = [
            ("Task created", task.metadata.creation_timestamp),
            ("Check started", status.started_at),
            ("Check finished", status.finished_at),
            ("Task last written", task.metadata.update_timestamp),
        ];
        for (label, at) in stamps {
            if let Some(at) = at.as_ref().map(stamp) {
                timings.push(Fact::time(label, &at));
            }
        }
        if let Some(ms) = status.duration_ms {
            let exact = if ms >= 1_000 { format!(" ({ms} ms)") } else { String::new() };
            timings.push(Fact::text("Duration", format!("{}{exact}", duration(ms))));
        }

        let upgrade_line = match (&spec.cluster_version, &spec.target_version) {
            (Some(from), Some(to)) => Some(format!("{from} → {to}")),
            (None, Some(to)) => Some(format!("to {to}")),
            (Some(from), None) => Some(format!("from {from}")),
            (None, None) => None,
        };
        let items: Vec<(ItemGroup, Item)> =
            status.items_status.iter().map(|i| (i.group, item(i))).collect();
        let mut blame = blame_counts(&items);
        blame.resolved = status.resolved.len();
        Self {
            kind: DocumentKind::PostCheck,
            task_id: task.metadata.uid.clone(),
            verdict: verdict(status),
            upgrade_line,
            upgrade,
            timings,
            counts: counts(&status.items_status),
            blame,
            groups: group(items),
        }
    }

    /// The report of a pre-check task: its cluster and add-on items as they are, each node
    /// item merged over the nodes (every node's evidence kept).
    pub fn from_precheck(task: &PreCheckTask) -> Self {
        let spec = &task.spec;
        let status = &task.status;
        let mut upgrade = Vec::new();
        if let Some(cluster) = &spec.cluster_id {
            upgrade.push(Fact::code("Cluster", cluster));
        }
        upgrade.push(Fact::code("From", spec.cluster_version.as_deref().unwrap_or("not given")));
        upgrade.push(Fact::code("To", spec.target_version.as_deref().unwrap_or("not given")));
        let started = status.started_at.or(task.metadata.creation_timestamp);
        if let Some(at) = started.as_ref().map(stamp) {
            upgrade.push(Fact::time("Checked", &at));
        }
        if let Some(ms) = status.duration_ms {
            upgrade.push(Fact::text("Took", duration(ms)));
        }
        if let Some(at) = status.expire_time_stamp.as_ref().map(stamp) {
            upgrade.push(Fact::time("Valid until", &at));
        }
        if !spec.skipped_check_item_list.is_empty() {
            let names: Vec<&str> =
                spec.skipped_check_item_list.iter().map(|s| s.name.as_str()).collect();
            upgrade.push(Fact::text("Skipped on request", names.join(", ")));
        }
        let mut timings = Vec::new();
        let stamps = [
            ("Task created", task.metadata.creation_timestamp),
            ("Check started", status.started_at),
            ("Check finished", status.finished_at),
            ("Task last written", task.metadata.update_timestamp),
        ];
        for (label, at) in stamps {
            if let Some(at) = at.as_ref().map(stamp) {
                timings.push(Fact::time(label, &at));
            }
        }
        if let Some(ms) = status.duration_ms {
            timings.push(Fact::text("Duration", duration(ms)));
        }
        let upgrade_line = match (&spec.cluster_version, &spec.target_version) {
            (Some(from), Some(to)) => Some(format!("{from} → {to}")),
            (None, Some(to)) => Some(format!("to {to}")),
            (Some(from), None) => Some(format!("from {from}")),
            (None, None) => None,
        };
        let merged = status.merged_items();
        let items: Vec<(ItemGroup, Item)> = merged.iter().map(|i| (i.group, item(i))).collect();
        let (tone, meaning) = match status.phase {
            PrecheckPhase::Success => (Tone::Success, "nothing blocks the upgrade"),
            PrecheckPhase::Failed => {
                (Tone::Failed, "the cluster was examined and something blocks the upgrade")
            }
            PrecheckPhase::Error => (Tone::Error, "the cluster could not be examined"),
            PrecheckPhase::Init | PrecheckPhase::Running => {
                (Tone::Running, "the check is still going on")
            }
        };
        let show_meaning = !status.message.as_deref().is_some_and(|m| m.starts_with(meaning));
        Self {
            kind: DocumentKind::PreCheck,
            task_id: task.metadata.uid.clone(),
            verdict: Verdict {
                phase: status.phase.as_str(),
                tone,
                meaning,
                show_meaning,
                message: status.message.clone(),
            },
            upgrade_line,
            upgrade,
            timings,
            counts: counts(&merged),
            blame: blame_counts(&items),
            groups: group(items),
        }
    }

    /// Every item that failed or could not run, in group order.
    pub fn attention(&self) -> Vec<&Item> {
        self.groups.iter().flat_map(|g| &g.items).filter(|i| i.needs_attention()).collect()
    }

    /// "4 items: 1 passed, 1 failed, …", the counts as one line.
    pub fn counts_line(&self) -> String {
        let c = &self.counts;
        let mut parts = vec![format!("{} passed", c.passed)];
        if c.fatal > 0 {
            parts.push(format!("{} failed", c.fatal));
        }
        if c.warnings > 0 {
            parts.push(plural(c.warnings, "warning", "warnings"));
        }
        if c.errors > 0 {
            parts.push(format!("{} could not run", c.errors));
        }
        if c.skipped > 0 {
            parts.push(format!("{} skipped", c.skipped));
        }
        if c.total == 0 {
            return "No check item ran".to_owned();
        }
        format!("{}: {}", plural(c.total, "item", "items"), parts.join(", "))
    }

    /// The page title: `postcheck: Failed, v1.36 → v1.37`.
    pub fn title(&self) -> String {
        match &self.upgrade_line {
            Some(line) => format!("postcheck: {}, {line}", self.verdict.phase),
            None => format!("postcheck: {}", self.verdict.phase),
        }
    }
}

fn verdict(status: &TaskStatus) -> Verdict {
    let (tone, meaning) = match status.phase {
        TaskPhase::Success => (Tone::Success, "every check that applies passed"),
        TaskPhase::Failed => (Tone::Failed, "the cluster was examined and a Fatal item failed"),
        TaskPhase::Error => (Tone::Error, "the cluster could not be examined"),
        TaskPhase::Running => (Tone::Running, "the check is still going on"),
    };
    let show_meaning = !status.message.as_deref().is_some_and(|m| m.starts_with(meaning));
    Verdict {
        phase: status.phase.as_str(),
        tone,
        meaning,
        show_meaning,
        message: status.message.clone(),
    }
}

fn baseline_text(b: &postcheck_model::BaselineRef) -> String {
    let at = b.taken_at.map(|t| format!(", taken {}", stamp(&t).text)).unwrap_or_default();
    match b.source {
        BaselineSource::None => "none (findings judged without blame)".to_owned(),
        BaselineSource::PreCheck => match &b.task_uid {
            Some(uid) => format!("pre-check {uid}{at}"),
            None => format!("a pre-check{at}"),
        },
        BaselineSource::File => format!("a baseline file{at}"),
        BaselineSource::Stored => format!("the cluster's stored baseline{at}"),
    }
}

fn blame_counts(items: &[(ItemGroup, Item)]) -> BlameCounts {
    let mut blame = BlameCounts::default();
    for row in items.iter().flat_map(|(_, i)| &i.evidence) {
        match row.blame {
            Some(Blame::New) => blame.new += 1,
            Some(Blame::PreExisting) => blame.pre_existing += 1,
            Some(Blame::Resolved) => blame.resolved += 1,
            None => {}
        }
    }
    blame
}

fn counts(items: &[CheckItem]) -> Counts {
    let mut c = Counts { total: items.len(), ..Counts::default() };
    for i in items {
        match i.phase {
            ItemPhase::Success => c.passed += 1,
            ItemPhase::Failed if i.level == Level::Fatal => c.fatal += 1,
            ItemPhase::Failed => c.warnings += 1,
            ItemPhase::Error => c.errors += 1,
            ItemPhase::Skipped => c.skipped += 1,
        }
    }
    c
}

fn item(i: &CheckItem) -> Item {
    let tone = match i.phase {
        ItemPhase::Success => Tone::Success,
        ItemPhase::Failed if i.level == Level::Fatal => Tone::Failed,
        ItemPhase::Failed => Tone::Warning,
        ItemPhase::Error => Tone::Error,
        ItemPhase::Skipped => Tone::Neutral,
    };
    let evidence: Vec<EvidenceRow> = i
        .evidence
        .iter()
        .map(|e| EvidenceRow {
            kind: e.kind.clone(),
            object: match &e.namespace {
                Some(ns) => format!("{ns}/{}", e.name),
                None => e.name.clone(),
            },
            reason: e.reason.clone(),
            blame: blame_of(e),
        })
        .collect();
    Item {
        anchor: format!("item-{}", anchor(&i.name)),
        name: i.name.clone(),
        level: level(i.level),
        phase: phase(i.phase),
        tone,
        message: i.message.clone(),
        has_blame: evidence.iter().any(|e| e.blame.is_some()),
        evidence,
        group: GROUPS.iter().find(|(g, ..)| *g == i.group).map_or("", |(_, code, _)| code),
    }
}

fn group(items: Vec<(ItemGroup, Item)>) -> Vec<Group> {
    let mut groups: Vec<Group> = GROUPS
        .iter()
        .map(|(_, code, title)| Group {
            code,
            title,
            anchor: format!("group-{code}"),
            items: Vec::new(),
            attention: 0,
        })
        .collect();
    for (g, item) in items {
        let at = GROUPS.iter().position(|(known, ..)| *known == g).unwrap_or(GROUPS.len() - 1);
        groups[at].attention += usize::from(item.needs_attention());
        groups[at].items.push(item);
    }
    groups.retain(|g| !g.items.is_empty());
    groups
}

fn level(l: Level) -> &'static str {
    match l {
        Level::Info => "Info",
        Level::Warning => "Warning",
        Level::Fatal => "Fatal",
    }
}

fn phase(p: ItemPhase) -> &'static str {
    match p {
        ItemPhase::Success => "Success",
        ItemPhase::Failed => "Failed",
        ItemPhase::Error => "Error",
        ItemPhase::Skipped => "Skipped",
    }
}

/// An HTML id from any text: ASCII letters, digits and `-` kept, anything else `-`.
fn anchor(name: &str) -> String {
    name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '-' }).collect()
}

fn plural(n: usize, one: &str, many: &str) -> String {
    if n == 1 { format!("1 {one}") } else { format!("{n} {many}") }
}

/// A duration for a person: `412 ms`, `3.4 s`, `2 min 5 s`.
pub fn duration(ms: u64) -> String {
    match ms {
        0..1_000 => format!("{ms} ms"),
        1_000..60_000 => format!("{:.1} s", ms as f64 / 1000.0),
        _ => {
            let s = ms / 1000;
            if s < 3600 {
                format!("{} min {} s", s / 60, s % 60)
            } else {
                format!("{} h {} min", s / 3600, (s % 3600) / 60)
            }
        }
    }
}

/// A timestamp as a person reads it, and as `<time datetime>` wants it.
struct Stamp {
    text: String,
    rfc3339: String,
}

fn stamp(at: &DateTime<Utc>) -> Stamp {
    Stamp {
        text: at.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        rfc3339: at.to_rfc3339_opts(SecondsFormat::Millis, true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_as_a_person_says_them() {
        assert_eq!(duration(412), "412 ms");
        assert_eq!(duration(3_400), "3.4 s");
        assert_eq!(duration(125_000), "2 min 5 s");
        assert_eq!(duration(3_720_000), "1 h 2 min");
    }

    #[test]
    fn anchors_keep_only_safe_characters() {
        assert_eq!(anchor("node-ready"), "node-ready");
        assert_eq!(anchor("a\"><b"), "a---b");
    }
}
