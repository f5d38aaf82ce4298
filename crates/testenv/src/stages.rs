//! The kwok stages a cluster runs with. kwok v0.8 exits with "no stages found" without any;
//! we use the ones it ships (node-initialize, node-heartbeat-with-lease, pod-complete,
//! pod-delete, straight from the cache's `kwok-v0.8.0/stage/`) plus our own, embedded from
//! `crates/testenv/stages/`: a pod-ready that leaves fault-marked pods alone, and the stages
//! that make those pods crash-loop, fail to pull their image, or never become Ready.

use std::path::{Path, PathBuf};

use crate::error::TestEnvError;
use crate::state::Layout;

/// The label that hands a pod to one of our fault stages; its value names the stage.
pub(crate) const POD_FAULT_LABEL: &str = "faults.postcheck.dev/pod";

/// kwok's own stages we use, relative to its `stage/` folder.
const SHIPPED: [&str; 4] = [
    "node/fast/node-initialize.yaml",
    "node/heartbeat-with-lease/node-heartbeat-with-lease.yaml",
    "pod/fast/pod-complete.yaml",
    "pod/fast/pod-delete.yaml",
];

/// kwok's configuration options (its other settings come from flags).
const KWOK_OPTIONS: &str = "apiVersion: config.kwok.x-k8s.io/v1alpha1
kind: KwokConfiguration
options:
  nodePlayStageParallelism: 32
  podPlayStageParallelism: 64
  nodeLeaseParallelism: 64
";

/// Our stages, by file name.
const OURS: [(&str, &str); 4] = [
    ("pod-ready.yaml", include_str!("../stages/pod-ready.yaml")),
    ("pod-crash-loop.yaml", include_str!("../stages/pod-crash-loop.yaml")),
    ("pod-image-pull.yaml", include_str!("../stages/pod-image-pull.yaml")),
    ("pod-not-ready.yaml", include_str!("../stages/pod-not-ready.yaml")),
];

/// Writes our stages into the state folder and returns every stage file kwok should load.
pub(crate) fn write(layout: &Layout, kwok_dir: &Path) -> Result<Vec<PathBuf>, TestEnvError> {
    let mut files = Vec::new();
    for shipped in SHIPPED {
        let path = kwok_dir.join("stage").join(shipped);
        crate::binaries::require_file(&path, &format!("kwok's stage {shipped}"))?;
        files.push(path);
    }
    let dir = layout.stages();
    std::fs::create_dir_all(&dir).map_err(TestEnvError::io("creating", &dir))?;
    // kwok's own options: more parallel stage and lease workers than its default 4, so a
    // thousand nodes and their pods come up in reasonable time. The lease workers must keep
    // up while populate saturates the API server: 1,000 nodes renew 33 leases a second, and
    // at 16 workers and half a second a write they fell behind, the node-lifecycle
    // controller marked nodes NotReady and their pods Ready=False (which no kwok stage
    // undoes: a real kubelet would).
    let options = dir.join("kwok-options.yaml");
    std::fs::write(&options, KWOK_OPTIONS).map_err(TestEnvError::io("writing", &options))?;
    files.push(options);
    for (name, text) in OURS {
        let path = dir.join(name);
        std::fs::write(&path, text).map_err(TestEnvError::io("writing", &path))?;
        files.push(path);
    }
    Ok(files)
}
