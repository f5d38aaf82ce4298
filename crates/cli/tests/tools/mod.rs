//! The Go-built tools the deployment tests run, from the binaries cache: Helm
//! (`scripts/helm-binary`; `POSTCHECK_HELM` names it) and kubectl (`scripts/k8s-binaries`).
//! Missing, they fail the test that needs them, saying how to build them.

#![allow(dead_code)] // shared by several test binaries, each using a part

use std::path::{Path, PathBuf};

/// The repository's root.
pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Real Helm: `POSTCHECK_HELM`, else where `scripts/helm-binary` builds it.
pub(crate) fn helm() -> PathBuf {
    if let Some(path) = std::env::var_os("POSTCHECK_HELM") {
        return path.into();
    }
    let out = std::process::Command::new(root().join("scripts/helm-binary"))
        .arg("--print-path")
        .output()
        .expect("running scripts/helm-binary --print-path");
    let path = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    assert!(path.is_file(), "Helm is not built at {path:?}: run scripts/helm-binary");
    path
}

/// kubectl of the cache's 1.36 release.
pub(crate) fn kubectl() -> PathBuf {
    let dir = postcheck_testenv::binaries_dir();
    std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("the binaries cache {dir:?}: {e}"))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("v1.36.")))
        .find(|p| p.join(".complete").is_file())
        .unwrap_or_else(|| panic!("no complete v1.36 release in {dir:?}: run scripts/k8s-binaries"))
        .join("kubectl")
}
