//! The command line's upgrade flow on the real test control plane: `postcheck precheck
//! --baseline-out FILE` on 1.36, `testcluster upgrade` to 1.37, `postcheck check --baseline
//! FILE`. A fault made before the pre-check is pre-existing (a Warning, the verdict
//! Success); one made after it is new (Fatal, the verdict Failed). `scripts/test` runs this
//! with `--include-ignored`; it panics when the control plane cannot start.

use postcheck_model::{
    BaselineSource, Blame, ItemPhase, Level, PostCheckTask, PreCheckTask, PrecheckPhase, TaskPhase,
};
use postcheck_testenv::{Fault, NodesToMove, TestCluster, UpOptions};

async fn postcheck(args: &[&str]) -> (i32, String, String) {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_postcheck"))
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .await
        .expect("running postcheck");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane; scripts/test runs it"]
async fn a_fault_before_the_precheck_is_pre_existing_and_one_after_it_is_new() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let mut cluster =
        TestCluster::up(UpOptions { version: "1.36".into(), nodes: 3, state_dir: None })
            .await
            .unwrap_or_else(|e| panic!("the test control plane could not start: {e}"));
    let kubeconfig = cluster.kubeconfig_path();
    let kubeconfig = kubeconfig.to_str().unwrap();
    let dir = tempfile::tempdir().unwrap();
    let baseline = dir.path().join("before.json");
    let baseline = baseline.to_str().unwrap();

    let before = cluster
        .fault(Fault::ApiServiceUnavailable { namespace: Some("before".into()), name: None })
        .await
        .unwrap();
    let (code, stdout, stderr) = postcheck(&[
        "precheck",
        "--kubeconfig",
        kubeconfig,
        "--source",
        "v1.36",
        "--target",
        "v1.37",
        "--baseline-out",
        baseline,
        "-o",
        "json",
    ])
    .await;
    let pre: PreCheckTask =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!(
        (code, pre.status.phase),
        (1, PrecheckPhase::Failed),
        "the unavailable APIService blocks: {stderr}"
    );
    assert!(pre.status.expire_time_stamp.is_some());
    assert!(std::path::Path::new(baseline).exists(), "--baseline-out wrote the Snapshot: {stderr}");

    cluster.upgrade("1.37", NodesToMove::All).await.unwrap_or_else(|e| panic!("upgrading: {e}"));
    let check_args = [
        "check",
        "--kubeconfig",
        kubeconfig,
        "--target",
        "v1.37",
        "--baseline",
        baseline,
        "-o",
        "json",
    ];
    let check = || postcheck(&check_args);

    let (code, stdout, stderr) = check().await;
    let task: PostCheckTask =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!((code, task.status.phase), (0, TaskPhase::Success), "{:#?}", task.status);
    let apiservices = task.status.items_status.iter().find(|i| i.name == "apiservices").unwrap();
    assert_eq!(
        (apiservices.phase, apiservices.level),
        (ItemPhase::Failed, Level::Warning),
        "{apiservices:#?}"
    );
    let old = apiservices.evidence.iter().find(|e| e.name == before.name).unwrap();
    assert_eq!(old.blame, Some(Blame::PreExisting), "{apiservices:#?}");
    let named = task.status.baseline.as_ref().unwrap();
    assert_eq!(named.source, BaselineSource::File);
    assert!(named.taken_at.is_some());
    assert!(task.status.blame.unwrap().pre_existing >= 1);

    let after = cluster
        .fault(Fault::ApiServiceUnavailable {
            namespace: Some("after".into()),
            name: Some("after-api".into()),
        })
        .await
        .unwrap();
    let (code, stdout, stderr) = check().await;
    let task: PostCheckTask =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    assert_eq!((code, task.status.phase), (1, TaskPhase::Failed), "{:#?}", task.status);
    let apiservices = task.status.items_status.iter().find(|i| i.name == "apiservices").unwrap();
    assert_eq!(apiservices.level, Level::Fatal, "{apiservices:#?}");
    let blame =
        |name: &str| apiservices.evidence.iter().find(|e| e.name == name).and_then(|e| e.blame);
    assert_eq!(blame(&after.name), Some(Blame::New), "{apiservices:#?}");
    assert_eq!(blame(&before.name), Some(Blame::PreExisting), "{apiservices:#?}");
    cluster.down().await.unwrap();
}
