//! The `testcluster` binary: `up` returns with the cluster left running in the background and
//! the kubeconfig path as its last line; `status` and `fault` reopen it; `down` stops every
//! recorded process; `fault --help` describes every fault.

use std::path::{Path, PathBuf};
use std::process::Command;

fn testcluster(args: &[&str]) -> String {
    let output = Command::new(env!("CARGO_BIN_EXE_testcluster"))
        .args(args)
        .output()
        .expect("running testcluster");
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "testcluster {args:?} failed ({}):\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

fn alive(pid: u64) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        !s.rsplit_once(')').is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'))
    })
}

#[test]
#[ignore = "needs the control plane; scripts/test runs it"]
fn up_status_fault_and_down_through_the_cli() {
    let tmp = tempfile::tempdir().unwrap();
    let state: PathBuf = tmp.path().join("cluster");
    let state_arg = state.to_str().unwrap();

    let out = testcluster(&["up", "--version", "1.36", "--nodes", "2", "--state", state_arg]);
    let kubeconfig = out.lines().last().expect("up prints the kubeconfig path last");
    assert!(Path::new(kubeconfig).is_file(), "{kubeconfig} is not a file");
    assert!(std::fs::read_to_string(kubeconfig).unwrap().contains("certificate-authority-data"));

    // The CLI has exited; the cluster runs on.
    let status: serde_json::Value =
        serde_json::from_str(&testcluster(&["status", "--state", state_arg])).unwrap();
    assert!(status["served_version"].as_str().unwrap().starts_with("v1.36."), "{status}");
    let processes = status["processes"].as_array().unwrap();
    assert_eq!(processes.len(), 5, "{status}");
    assert!(processes.iter().all(|p| p["running"] == true), "{status}");
    let nodes = status["nodes"].as_array().unwrap();
    assert_eq!(nodes.len(), 2);
    assert!(nodes.iter().all(|n| n["ready"] == true), "{status}");

    let out = testcluster(&["fault", "pvc-pending", "--name", "cli-claim", "--state", state_arg]);
    assert!(out.contains("PersistentVolumeClaim faults/cli-claim"), "{out}");

    let pids: Vec<u64> = processes.iter().map(|p| p["pid"].as_u64().unwrap()).collect();
    let out = testcluster(&["down", "--state", state_arg]);
    assert!(out.starts_with("stopped"), "{out}");
    let left: Vec<u64> = pids.into_iter().filter(|p| alive(*p)).collect();
    assert!(left.is_empty(), "still running after down: {left:?}");
}

#[test]
fn fault_help_names_and_describes_every_fault() {
    use clap::ValueEnum;
    let help = testcluster(&["fault", "--help"]);
    for kind in postcheck_testenv::FaultKind::value_variants() {
        let name = kind.name();
        let line = help
            .lines()
            .find(|l| l.trim_start().trim_start_matches("- ").starts_with(&format!("{name}:")));
        assert!(line.is_some_and(|l| l.len() > name.len() + 10), "{name} undescribed in:\n{help}");
    }
}

#[test]
fn an_unknown_fault_is_refused_with_the_known_names() {
    let output = Command::new(env!("CARGO_BIN_EXE_testcluster"))
        .args(["fault", "no-such-fault", "--state", "/nonexistent"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2), "clap's usage error");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("node-not-ready") && stderr.contains("pvc-pending"), "{stderr}");
}
