//! The container image (`Containerfile`): built with Debian's podman from the static binary
//! (`scripts/image --binary-only`, whose path `POSTCHECK_STATIC_BIN` gives; `scripts/test`
//! builds it once and sets it) and the host's CA bundle, `FROM scratch`, nothing pulled; then
//! run: `--version`, `version -o json` (statically linked), the `kubectl-postcheck` name,
//! and a `check` of the real test control plane from inside the container (host network:
//! the test cluster is on loopback). Fails, loudly, without podman or the binary.
//!
//! The podman flags are the ones that work on a daemonless root host with hybrid cgroups
//! (crun, the default runtime, fails there on rlimits): vfs storage, cgroupfs, runc.

mod tools;

use std::path::PathBuf;
use std::process::{Command, Output};

use postcheck_model::{ItemPhase, PostCheckTask, TaskPhase};
use postcheck_testenv::{TestCluster, UpOptions};
use tools::root;

const GLOBAL: [&str; 6] =
    ["--storage-driver", "vfs", "--cgroup-manager", "cgroupfs", "--runtime", "runc"];
const RUN: [&str; 9] = [
    "run",
    "--rm",
    "--network",
    "host",
    "--ulimit",
    "nofile=1024:1024",
    "--ulimit",
    "nproc=1024:1024",
    "--pull=never",
];

fn podman(args: &[&str]) -> Output {
    Command::new("podman")
        .args(GLOBAL)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("running podman (apt-get install podman runc): {e}"))
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn static_binary() -> PathBuf {
    let path = std::env::var_os("POSTCHECK_STATIC_BIN").map(PathBuf::from).unwrap_or_else(|| {
        panic!("POSTCHECK_STATIC_BIN is not set: build the static binary with `scripts/image --binary-only` and set it to the path it prints")
    });
    assert!(path.is_file(), "POSTCHECK_STATIC_BIN={path:?} is not a file");
    path
}

/// Removes the test's image when dropped.
struct Image(String);

impl Drop for Image {
    fn drop(&mut self) {
        let _ = podman(&["rmi", "--force", &self.0]);
    }
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs podman, runc, the static binary and the control plane; scripts/test runs it"]
async fn the_image_builds_from_scratch_and_checks_the_test_cluster_from_inside() {
    let ctx = tempfile::tempdir().unwrap();
    std::fs::copy(static_binary(), ctx.path().join("postcheck")).unwrap();
    std::fs::copy("/etc/ssl/certs/ca-certificates.crt", ctx.path().join("ca-certificates.crt"))
        .expect("the host's CA bundle (Debian's ca-certificates)");
    let image = Image(format!("localhost/postcheck-test:{}", std::process::id()));
    let containerfile = root().join("Containerfile");
    ok(
        podman(&[
            "build",
            "--quiet",
            "-f",
            containerfile.to_str().unwrap(),
            "-t",
            &image.0,
            ctx.path().to_str().unwrap(),
        ]),
        "podman build",
    );
    // Nothing but the binaries and the CA bundle in it.
    let history =
        ok(podman(&["image", "inspect", "--format", "{{.RootFS.Layers}}", &image.0]), "inspect");
    assert_eq!(history.matches("sha256:").count(), 3, "three COPY layers on scratch: {history}");

    let run = |args: &[&str]| {
        let mut all: Vec<&str> = RUN.to_vec();
        all.extend(args);
        podman(&all)
    };
    let version = ok(run(&[&image.0, "--version"]), "podman run IMAGE --version");
    assert_eq!(version.trim(), format!("postcheck {}", env!("CARGO_PKG_VERSION")));
    let build = ok(run(&[&image.0, "version", "-o", "json"]), "podman run IMAGE version -o json");
    let build: serde_json::Value = serde_json::from_str(&build).unwrap();
    assert_eq!(build["staticallyLinked"], true, "{build}");
    let plugin = ok(
        run(&["--entrypoint", "/usr/local/bin/kubectl-postcheck", &image.0, "--help"]),
        "the image's kubectl-postcheck",
    );
    assert!(plugin.contains("Usage: kubectl postcheck"), "{plugin}");
    let whoami =
        ok(podman(&["image", "inspect", "--format", "{{.Config.User}}", &image.0]), "inspect");
    assert_eq!(whoami.trim(), "65532:65532");

    // A check of the real test cluster from inside the container.
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cluster = TestCluster::up(UpOptions { version: "1.36".into(), nodes: 2, state_dir: None })
        .await
        .unwrap_or_else(|e| panic!("the test control plane could not start: {e}"));
    let kubeconfig = ctx.path().join("kubeconfig");
    std::fs::copy(cluster.kubeconfig_path(), &kubeconfig).unwrap();
    // Readable by the image's user (65532), not root.
    std::fs::set_permissions(&kubeconfig, std::os::unix::fs::PermissionsExt::from_mode(0o644))
        .unwrap();
    let mount = format!("{}:/kube/config:ro", kubeconfig.display());
    let out = run(&[
        "-v",
        &mount,
        &image.0,
        "check",
        "--kubeconfig",
        "/kube/config",
        "--target",
        "v1.36",
        "-o",
        "json",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    let task: PostCheckTask = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "no task from the container ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    assert_ne!(task.status.phase, TaskPhase::Error, "{:#?}", task.status);
    assert!(task.status.items_status.len() > 10, "{:#?}", task.status);
    let nodes = task.status.items_status.iter().find(|i| i.name == "node-ready").unwrap();
    assert_eq!(nodes.phase, ItemPhase::Success, "{nodes:#?}");
    cluster.down().await.expect("stopping the test control plane");
}
