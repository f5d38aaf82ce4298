//! `postcheck report FILE` and `postcheck check -o html|markdown`, run as the binary: a
//! stored task document becomes the HTML page, the Markdown summary or `check`'s own table.

use std::io::Write as _;
use std::process::{Command, Stdio};

use chrono::{TimeZone, Utc};
use postcheck_model::{
    CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, Level, PostCheckSpec, PostCheckTask,
    TaskMetadata, TaskPhase, TaskStatus,
};

fn postcheck(args: &[&str], stdin: Option<&str>) -> (i32, String, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_postcheck"))
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running postcheck");
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let out = child.wait_with_output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A Failed task, as `check -o json` prints it.
fn failed_task() -> PostCheckTask {
    let at = Utc.with_ymd_and_hms(2026, 11, 29, 5, 0, 0).unwrap();
    PostCheckTask::new(
        TaskMetadata {
            uid: "5d1c0a7e-2b9f-4c3d-8e6a-1f0b9c8d7e6f".into(),
            creation_timestamp: Some(at),
            update_timestamp: Some(at),
        },
        PostCheckSpec {
            cluster_id: None,
            cluster_version: Some("v1.36".into()),
            target_version: Some("v1.37".into()),
            synthetic: None,
        },
        TaskStatus {
            phase: TaskPhase::Failed,
            message: Some("1 fatal item(s) failed: node-ready".into()),
            items_status: vec![CheckItem {
                name: "node-ready".into(),
                kind: ItemKind::Exception,
                group: ItemGroup::NodeCheck,
                level: Level::Fatal,
                phase: ItemPhase::Failed,
                message: "1 of 3 node(s) not Ready (tolerance 0)".into(),
                evidence: vec![Evidence::cluster("Node", "<b>n1</b>", "Ready is Unknown")],
            }],
            started_at: Some(at),
            finished_at: Some(at),
            duration_ms: Some(412),
            baseline: None,
            blame: None,
            resolved: vec![],
        },
    )
}

/// Writes `text` to a file `name` in a fresh folder.
fn stored(name: &str, text: String) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join(name);
    std::fs::write(&path, text).unwrap();
    (dir, path.to_str().unwrap().to_owned())
}

#[test]
fn a_stored_task_renders_as_html_markdown_and_the_table() {
    let task = failed_task();
    let (_dir, file) = stored("task.json", serde_json::to_string_pretty(&task).unwrap());

    let (code, html, stderr) = postcheck(&["report", &file, "-o", "html"], None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(html, postcheck_report::html(&task).unwrap());
    assert!(html.contains("<code>&#60;b&#62;n1&#60;/b&#62;</code>"), "the name is text: {html}");

    let (code, markdown, stderr) = postcheck(&["report", &file, "-o", "markdown"], None);
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(markdown, postcheck_report::markdown(&task).unwrap());

    let (code, table, stderr) = postcheck(&["report", &file], None);
    assert_eq!(code, 0, "{stderr}");
    assert!(table.starts_with("Verdict: Failed: 1 fatal item(s) failed: node-ready\n"), "{table}");
    assert!(table.contains("│ node-ready ┆ NodeCheck ┆ Fatal ┆ Failed ┆"), "{table}");
    assert!(table.contains("  - Node <b>n1</b>: Ready is Unknown"), "{table}");
}

#[test]
fn yaml_and_standard_input_are_read_too() {
    let task = failed_task();
    let (_dir, file) = stored("task.yaml", serde_yaml_ng::to_string(&task).unwrap());
    let (code, from_yaml, stderr) = postcheck(&["report", &file, "-o", "markdown"], None);
    assert_eq!(code, 0, "{stderr}");
    let json = serde_json::to_string(&task).unwrap();
    let (code, from_stdin, stderr) = postcheck(&["report", "-", "-o", "markdown"], Some(&json));
    assert_eq!(code, 0, "{stderr}");
    assert_eq!(from_yaml, from_stdin);
    assert!(from_stdin.starts_with("### ❌ Post-upgrade check: Failed (v1.36 → v1.37)"));
}

#[test]
fn a_document_that_is_not_a_task_is_refused_with_exit_code_2() {
    for (text, says) in [
        (r#"{"kind": "PreCheckTask", "apiVersion": "v3"}"#, "\"PreCheckTask\""),
        (r#"{"kind": "List", "items": []}"#, "a list of tasks"),
        (r#"{"kind": "PostCheckTask", "status": 1}"#, "do not read as one"),
        ("{not json", "parsing"),
    ] {
        let (_dir, file) = stored("doc.json", text.to_owned());
        let (code, stdout, stderr) = postcheck(&["report", &file, "-o", "html"], None);
        assert_eq!(code, 2, "{text}: {stdout}{stderr}");
        assert!(stdout.is_empty(), "{stdout}");
        assert!(stderr.contains(says), "{text}: {stderr}");
    }
    let (code, _, stderr) = postcheck(&["report", "/nonexistent/task.json"], None);
    assert_eq!(code, 2);
    assert!(stderr.contains("reading /nonexistent/task.json"), "{stderr}");
}

#[test]
fn check_prints_the_html_and_markdown_reports_of_an_unreachable_cluster() {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:{port}\"}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let (code, html, stderr) =
        postcheck(&["check", "--kubeconfig", kubeconfig, "--target", "v1.37", "-o", "html"], None);
    assert_eq!(code, 2, "the exit code is the verdict's: {stderr}");
    assert!(html.starts_with("<!doctype html>"), "{html}");
    assert!(html.contains("<header class=\"verdict tone-error\">"), "{html}");
    assert!(html.contains("could not be reached"), "{html}");
    let (code, markdown, _) = postcheck(
        &["check", "--kubeconfig", kubeconfig, "--target", "v1.37", "-o", "markdown"],
        None,
    );
    assert_eq!(code, 2);
    assert!(markdown.starts_with("### ⛔ Post-upgrade check: Error (to v1.37)"), "{markdown}");
}
