//! The `postcheck` binary without a cluster: the catalogue, an unreachable API server,
//! a policy that names a check that does not exist.

use std::process::Command;

use postcheck_model::{PostCheckTask, TaskPhase};

fn postcheck(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_postcheck"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("running postcheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn checks_lists_the_catalogue() {
    let (code, stdout, stderr) = postcheck(&["checks"]);
    assert_eq!(code, 0, "{stderr}");
    // Not a terminal: no width limit, so each row is one line with its whole description.
    assert!(
        stdout
            .lines()
            .nth(1)
            .is_some_and(|h| h.contains("NAME") && h.contains("READS") && h.contains("CHECKS")),
        "{stdout}"
    );
    for def in postcheck_engine::catalogue() {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("│ {} ", def.name)))
            .unwrap_or_else(|| panic!("no row for {}:\n{stdout}", def.name));
        assert!(row.contains(def.description), "{row}");
        for not_a_failure in def.not_failures {
            assert!(row.contains(not_a_failure), "{row}");
        }
        assert!(row.contains(&format!("{:?}", def.level)), "{row}");
    }
    let (code, json, _) = postcheck(&["checks", "-o", "json"]);
    assert_eq!(code, 0);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let catalogue: Vec<&str> = postcheck_engine::catalogue().iter().map(|c| c.name).collect();
    assert_eq!(names, catalogue);
}

#[test]
fn checks_lists_the_precheck_catalogue_and_what_it_leaves_out() {
    let (code, stdout, stderr) = postcheck(&["checks", "--precheck"]);
    assert_eq!(code, 0, "{stderr}");
    for def in postcheck_engine::precheck_catalogue() {
        let row = stdout
            .lines()
            .find(|l| l.starts_with(&format!("│ {} ", def.name)))
            .unwrap_or_else(|| panic!("no row for {}:\n{stdout}", def.name));
        assert!(row.contains(def.description), "{row}");
        assert!(row.contains(&format!("{:?}", def.part)), "{row}");
    }
    assert!(stdout.contains("need an agent on the node"), "{stdout}");
    let (_, all, _) = postcheck(&["checks"]);
    assert!(all.contains("Pre-upgrade check") && all.contains("node-skew-at-target"), "{all}");
    let (code, json, _) = postcheck(&["checks", "--precheck", "-o", "json"]);
    assert_eq!(code, 0);
    let listed: Vec<serde_json::Value> = serde_json::from_str(&json).unwrap();
    let names: Vec<&str> = listed.iter().map(|c| c["name"].as_str().unwrap()).collect();
    let catalogue: Vec<&str> =
        postcheck_engine::precheck_catalogue().iter().map(|c| c.name).collect();
    assert_eq!(names, catalogue);
}

#[test]
fn precheck_refuses_an_unknown_item_to_skip_and_an_unreachable_cluster_is_an_error() {
    let (code, _, stderr) = postcheck(&["precheck", "--target", "v1.37", "--skip", "no-such-item"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("\"no-such-item\", which is not a pre-check item"), "{stderr}");
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (_dir, kubeconfig) = kubeconfig_for(port);
    let (code, stdout, stderr) = postcheck(&[
        "precheck",
        "--target",
        "v1.37",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--timeout",
        "5s",
        "-o",
        "json",
    ]);
    assert_eq!(code, 2, "{stderr}");
    let task: postcheck_model::PreCheckTask = serde_json::from_str(&stdout).unwrap();
    assert_eq!(task.kind, "PreCheckTask");
    assert_eq!(task.status.phase, postcheck_model::PrecheckPhase::Error);
    assert!(task.status.expire_time_stamp.is_none(), "an Error does not expire: it never counted");
}

/// A kubeconfig for an API server at 127.0.0.1:`port`.
fn kubeconfig_for(port: u16) -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster: {{server: \"https://127.0.0.1:{port}\", insecure-skip-tls-verify: true}}\nusers:\n- name: u\n  user: {{token: t}}\ncontexts:\n- name: x\n  context: {{cluster: c, user: u}}\ncurrent-context: x\n"
        ),
    )
    .unwrap();
    (dir, kubeconfig)
}

#[test]
fn an_api_server_that_never_answers_is_an_error_once_the_deadline_passes() {
    // Accepts connections and never says a word, like a blackholed load balancer.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming().flatten() {
            held.push(stream);
        }
    });
    let (_dir, kubeconfig) = kubeconfig_for(port);
    let started = std::time::Instant::now();
    let (code, stdout, stderr) = postcheck(&[
        "check",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--timeout",
        "2s",
        "-o",
        "json",
    ]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let task: PostCheckTask = serde_json::from_str(&stdout).expect("one task document");
    assert_eq!(task.status.phase, TaskPhase::Error);
    assert!(
        task.status.message.as_deref().unwrap_or("").contains("within the deadline of 2s"),
        "{:?}",
        task.status.message
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(30));
}

#[test]
fn an_unreachable_api_server_is_an_error_with_exit_code_2_and_one_json_document() {
    // A port that was just free: nothing listens there.
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let (_dir, kubeconfig) = kubeconfig_for(port);
    let (code, stdout, stderr) = postcheck(&[
        "check",
        "--kubeconfig",
        kubeconfig.to_str().unwrap(),
        "--target",
        "v1.37",
        "-o",
        "json",
    ]);
    assert_eq!(code, 2, "{stdout}{stderr}");
    let task: PostCheckTask = serde_json::from_str(&stdout).expect("one task document");
    assert_eq!(task.status.phase, TaskPhase::Error);
    assert!(
        task.status.message.as_deref().unwrap_or("").contains("could not be reached"),
        "{:?}",
        task.status.message
    );
    assert_eq!(task.spec.target_version.as_deref(), Some("v1.37"));
    assert!(uuid::Uuid::parse_str(&task.metadata.uid).is_ok_and(|u| u.get_version_num() == 4));
}

#[test]
fn a_policy_naming_an_unknown_check_is_refused_before_any_cluster_is_touched() {
    let dir = tempfile::tempdir().unwrap();
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "[checks]\nskip = [\"node-redy\"]\n").unwrap();
    let (code, stdout, stderr) =
        postcheck(&["check", "--kubeconfig", "/nonexistent", "--policy", policy.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty(), "{stdout}");
    assert!(stderr.contains("node-redy"), "{stderr}");
}
