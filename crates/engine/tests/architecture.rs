//! The architecture invariants of `ARCHITECTURE.md`, enforced: a plain scan of the
//! workspace's sources and Cargo.toml files that fails when a forbidden dependency appears.
//!
//! Each engine module may name (as `crate::<module>`) only the modules listed for it in
//! [`LAYERS`], which follow the order data flows; checks never touch the API; the model
//! depends on nothing of ours; the test builders never ship. Unit-test modules
//! (`#[cfg(test)] mod tests { ... }`, at the end of a file) are not scanned: tests may reach
//! for anything.

use std::path::{Path, PathBuf};

/// The engine's modules, top-down in the order data flows, and what each may name.
/// `lib` is the crate root (its re-exports and functions).
const LAYERS: &[(&str, &[&str])] = &[
    ("request", &["policy", "snapshot", "access"]),
    ("access", &[]),
    ("gather", &["snapshot", "rules", "error_chain", "access"]),
    ("snapshot", &[]),
    ("rules", &[]),
    ("policy", &["snapshot"]),
    ("checks", &["snapshot", "rules", "policy", "request"]),
    ("blame", &["checks", "snapshot", "policy", "request"]),
    ("verdict", &["checks", "blame", "gather", "snapshot", "policy", "request", "error_chain"]),
    ("wait", &["gather", "verdict", "request", "lib"]),
    ("actions", &["snapshot", "error_chain"]),
    ("error_chain", &[]),
    ("permissions", &["snapshot", "rules"]),
    ("testing", &["snapshot"]),
];

/// What no file of a module may mention, with why.
const FORBIDDEN: &[(&str, &str, &str)] = &[
    ("checks", "kube::", "checks never call the API: they judge the Snapshot"),
    ("checks", "k8s_openapi", "checks never call the API: they judge the Snapshot"),
    ("checks", "tokio", "checks are pure functions: nothing to await"),
    ("blame", "kube::", "blame compares judgements: it never calls the API"),
    ("blame", "tokio", "blame is a pure function: nothing to await"),
    ("snapshot", "kube::", "the Snapshot is data: it knows no client"),
    ("snapshot", "k8s_openapi", "the Snapshot keeps compact types, never the API's objects"),
    ("rules", "kube::", "rules are data tables"),
    ("policy", "kube::", "the policy is data and one matcher"),
    ("gather", "Api::<", "gather only reads, through its own paged lists (no typed Api writes)"),
    ("gather", ".create(", "gather only reads: writing is an action's job"),
    ("gather", ".delete(", "gather only reads: writing is an action's job"),
];

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Every `.rs` file under `dir`.
fn sources(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap_or_else(|e| panic!("reading {d:?}: {e}")) {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                out.push(path);
            }
        }
    }
    out.sort();
    out
}

/// A file's text without its unit-test module and without comments.
fn shipped_code(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("reading {path:?}: {e}"));
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(i) => &text[..i],
        None => &text[..],
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The engine module a source file belongs to (`gather` for `src/gather/page.rs`).
fn module_of(src: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(src).unwrap();
    let first = rel.components().next().unwrap().as_os_str().to_string_lossy().into_owned();
    first.trim_end_matches(".rs").to_owned()
}

/// Every module named as `crate::<name>` in `code` (`lib` for the crate root's items).
fn named_modules(code: &str) -> Vec<String> {
    let modules: Vec<&str> = LAYERS.iter().map(|(m, _)| *m).collect();
    let mut out = Vec::new();
    let mut rest = code;
    while let Some(i) = rest.find("crate::") {
        rest = &rest[i + "crate::".len()..];
        let mut names = vec![];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            names.extend(group[..end].split(',').map(|n| n.trim().split("::").next().unwrap()));
        } else {
            let end = rest.find(|c: char| !(c.is_alphanumeric() || c == '_')).unwrap_or(rest.len());
            names.push(&rest[..end]);
        }
        for name in names.into_iter().filter(|n| !n.is_empty()) {
            out.push(if modules.contains(&name) { name.to_owned() } else { "lib".to_owned() });
        }
    }
    out
}

#[test]
fn each_engine_module_names_only_the_modules_before_it() {
    let src = root().join("crates/engine/src");
    let mut violations = Vec::new();
    for path in sources(&src) {
        let module = module_of(&src, &path);
        if module == "lib" {
            continue; // the root wires everything together
        }
        let Some((_, allowed)) = LAYERS.iter().find(|(m, _)| *m == module) else {
            violations.push(format!("{}: module {module} is not in LAYERS", path.display()));
            continue;
        };
        let code = shipped_code(&path);
        for named in named_modules(&code) {
            if named != module && !allowed.contains(&named.as_str()) {
                violations.push(format!(
                    "{}: {module} may not depend on {named} (allowed: {allowed:?})",
                    path.strip_prefix(root()).unwrap_or(&path).display()
                ));
            }
        }
        for (m, needle, why) in FORBIDDEN {
            if *m == module && code.contains(needle) {
                violations.push(format!(
                    "{}: mentions `{needle}`: {why}",
                    path.strip_prefix(root()).unwrap_or(&path).display()
                ));
            }
        }
    }
    assert!(violations.is_empty(), "architecture invariants broken:\n{}", violations.join("\n"));
}

/// The `[dependencies]`-like sections of a Cargo.toml that ship (not dev-dependencies).
fn shipped_sections(toml: &str) -> String {
    let mut out = String::new();
    let mut shipped = false;
    for line in toml.lines() {
        if line.starts_with('[') {
            shipped = line.contains("dependencies") && !line.contains("dev-dependencies");
        }
        if shipped {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

#[test]
fn the_model_depends_on_nothing_of_ours() {
    let toml = std::fs::read_to_string(root().join("crates/model/Cargo.toml")).unwrap();
    assert!(
        !shipped_sections(&toml).contains("postcheck-"),
        "crates/model/Cargo.toml depends on one of our crates:\n{toml}"
    );
    for path in sources(&root().join("crates/model/src")) {
        let code = shipped_code(&path);
        assert!(!code.contains("postcheck_"), "{} names one of our crates", path.display());
    }
}

#[test]
fn the_report_depends_on_the_model_only() {
    let toml = std::fs::read_to_string(root().join("crates/report/Cargo.toml")).unwrap();
    let shipped = shipped_sections(&toml);
    let ours: Vec<&str> = shipped
        .lines()
        .filter(|line| line.trim_start().starts_with("postcheck-"))
        .filter(|line| !line.trim_start().starts_with("postcheck-model"))
        .collect();
    assert!(ours.is_empty(), "crates/report/Cargo.toml depends on more than the model: {ours:?}");
    for path in sources(&root().join("crates/report/src")) {
        let code = shipped_code(&path).replace("postcheck_model", "");
        assert!(!code.contains("postcheck_"), "{} names one of our crates", path.display());
    }
}

#[test]
fn test_support_never_ships() {
    let lib = std::fs::read_to_string(root().join("crates/engine/src/lib.rs")).unwrap();
    assert!(
        lib.contains("#[cfg(any(test, feature = \"test-util\"))]\npub mod testing;"),
        "crates/engine/src/lib.rs: `testing` must exist only under the test-util feature"
    );
    let mut violations = Vec::new();
    for dir in std::fs::read_dir(root().join("crates")).unwrap() {
        let dir = dir.unwrap().path();
        let Ok(toml) = std::fs::read_to_string(dir.join("Cargo.toml")) else { continue };
        if shipped_sections(&toml).contains("test-util") {
            violations.push(format!(
                "{}/Cargo.toml enables test-util outside dev-dependencies",
                dir.display()
            ));
        }
        for path in sources(&dir.join("src")) {
            if path.starts_with(root().join("crates/engine/src/testing")) {
                continue;
            }
            let code = shipped_code(&path);
            for needle in
                ["crate::testing", "postcheck_engine::testing", "postcheck_engine::fixture"]
            {
                if code.contains(needle) {
                    violations.push(format!("{}: shipped code names `{needle}`", path.display()));
                }
            }
        }
    }
    assert!(violations.is_empty(), "test support would ship:\n{}", violations.join("\n"));
}

#[test]
fn the_scan_sees_a_forbidden_import() {
    // The scan itself can fail: a `use` of checks from gather is found.
    assert_eq!(named_modules("use crate::checks::removed_apis;"), ["checks"]);
    assert_eq!(named_modules("use crate::{CheckSpec, snapshot::Node};"), ["lib", "snapshot"]);
}
