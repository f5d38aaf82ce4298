//! `postcheck checks`: the catalogue, as a table or as JSON/YAML.

use comfy_table::{ContentArrangement, Table, presets};
use postcheck_engine::{CheckDef, PrecheckDef};

use super::Style;

/// Renders the catalogue as a table: what each item checks, what it reads, and what it
/// deliberately does not count as a failure.
pub(crate) fn table(defs: &[CheckDef], style: Style) -> String {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).force_no_tty();
    if style.fit_terminal {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table.set_header(["NAME", "GROUP", "KIND", "LEVEL", "READS", "CHECKS", "NOT A FAILURE"]);
    for d in defs {
        let mut reads: Vec<&str> = d.needs.iter().map(|s| s.as_str()).collect();
        if d.uses_baseline {
            reads.push("baseline");
        }
        table.add_row(vec![
            d.name.to_owned(),
            format!("{:?}", d.group),
            format!("{:?}", d.kind),
            format!("{:?}", d.level),
            reads.join(", "),
            d.description.to_owned(),
            d.not_failures.join("; "),
        ]);
    }
    table.to_string() + "\n"
}

/// Renders the pre-check catalogue as a table, with the part of CCE's status each item
/// goes to, and what the pre-check leaves out.
pub(crate) fn precheck_table(defs: &[PrecheckDef], out_of_scope: &str, style: Style) -> String {
    let mut table = Table::new();
    table.load_preset(presets::UTF8_FULL_CONDENSED).force_no_tty();
    if style.fit_terminal {
        table.set_content_arrangement(ContentArrangement::Dynamic);
    }
    table.set_header([
        "NAME",
        "PART",
        "GROUP",
        "KIND",
        "LEVEL",
        "READS",
        "CHECKS",
        "NOT A FAILURE",
    ]);
    for d in defs {
        let reads: Vec<&str> = d.needs.iter().map(|s| s.as_str()).collect();
        table.add_row(vec![
            d.name.to_owned(),
            format!("{:?}", d.part),
            format!("{:?}", d.group),
            format!("{:?}", d.kind),
            format!("{:?}", d.level),
            reads.join(", "),
            d.description.to_owned(),
            d.not_failures.join("; "),
        ]);
    }
    format!("{table}\n{out_of_scope}\n")
}
