//! The binary's faces beyond `check`: `postcheck version [-o json]`, `postcheck completions
//! bash|zsh|fish`, and kubectl's plugin convention: the same binary called
//! `kubectl-postcheck` names itself `kubectl postcheck`, and real kubectl (from the binaries
//! cache) finds it on PATH and runs it.

mod tools;

use std::path::Path;
use std::process::{Command, Output};

fn postcheck(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_postcheck")).args(args).output().expect("running postcheck")
}

fn text(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A folder with `kubectl-postcheck`, a symlink to the built binary.
fn plugin_dir() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_postcheck"),
        dir.path().join("kubectl-postcheck"),
    )
    .unwrap();
    dir
}

#[test]
fn version_prints_the_crates_version_and_as_json_the_build() {
    let out = postcheck(&["version"]);
    assert!(out.status.success());
    assert!(
        text(&out).starts_with(&format!("postcheck {} (", env!("CARGO_PKG_VERSION"))),
        "{}",
        text(&out)
    );
    let out = postcheck(&["version", "-o", "json"]);
    assert!(out.status.success());
    let build: serde_json::Value = serde_json::from_str(&text(&out)).expect("JSON");
    assert_eq!(build["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(build["os"], std::env::consts::OS);
    assert_eq!(build["arch"], std::env::consts::ARCH);
    assert!(build["staticallyLinked"].is_boolean(), "{build}");
}

#[test]
fn completions_for_each_shell_know_the_subcommands_and_their_flags() {
    for (shell, marker) in
        [("bash", "complete -F"), ("zsh", "#compdef postcheck"), ("fish", "complete -c postcheck")]
    {
        let out = postcheck(&["completions", shell]);
        assert!(out.status.success(), "{shell}");
        let script = text(&out);
        assert!(script.contains(marker), "{shell}: {}", &script[..script.len().min(400)]);
        for word in ["check", "baseline", "target", "synthetic-namespace", "completions"] {
            assert!(script.contains(word), "{shell} completion lacks {word}");
        }
    }
    let out = postcheck(&["completions", "powershell-ish"]);
    assert_eq!(out.status.code(), Some(2), "an unknown shell is a usage error");
}

#[test]
fn called_kubectl_postcheck_it_names_itself_as_kubectl_shows_it() {
    let dir = plugin_dir();
    let out = Command::new(dir.path().join("kubectl-postcheck")).arg("--help").output().unwrap();
    assert!(out.status.success());
    assert!(text(&out).contains("Usage: kubectl postcheck <COMMAND>"), "{}", text(&out));
    let out = Command::new(dir.path().join("kubectl-postcheck"))
        .args(["version", "-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success());
    // And its bash completions are for the plugin's binary.
    let out = Command::new(dir.path().join("kubectl-postcheck"))
        .args(["completions", "bash"])
        .output()
        .unwrap();
    assert!(text(&out).contains("kubectl-postcheck"), "{}", text(&out));
}

#[test]
#[ignore = "needs kubectl from the binaries cache; scripts/test runs it"]
fn real_kubectl_finds_the_plugin_on_path_and_runs_it() {
    let dir = plugin_dir();
    let path = format!("{}:{}", dir.path().display(), std::env::var("PATH").unwrap_or_default());
    let kubectl = tools::kubectl();
    let run = |args: &[&str]| {
        Command::new(&kubectl)
            .args(args)
            .env("PATH", &path)
            .env("KUBECONFIG", Path::new("/nonexistent"))
            .output()
            .unwrap()
    };
    let listed = run(&["plugin", "list"]);
    assert!(
        text(&listed).contains("kubectl-postcheck"),
        "{}\n{}",
        text(&listed),
        String::from_utf8_lossy(&listed.stderr)
    );
    let out = run(&["postcheck", "version", "-o", "json"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let build: serde_json::Value = serde_json::from_str(&text(&out)).expect("JSON");
    assert_eq!(build["version"], env!("CARGO_PKG_VERSION"));
    let out = run(&["postcheck", "check", "--help"]);
    assert!(text(&out).contains("--target"), "{}", text(&out));
}
