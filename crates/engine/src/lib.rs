//! postcheck's engine: what the service and the command line share.
//!
//! Data flows top-down through the modules:
//!
//! - [`access`]: a `kube::Client` from a kubeconfig, a registered cluster's stored
//!   credentials, or the in-cluster configuration.
//! - [`run`]: gather once, judge every check, return CCE's task status with its items.

pub mod access;

use std::time::Duration;

use chrono::Utc;
use postcheck_model::{CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, Level, TaskPhase, TaskStatus, Version};

/// What the upgrade was: the versions a check compares against.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CheckSpec {
    /// The version the cluster must be on now.
    pub target: Option<Version>,
    /// The version the cluster was on before the upgrade.
    pub source: Option<Version>,
}

/// Examines the cluster behind `client` and judges it. Never fails: a cluster that cannot
/// be examined (unreachable, credentials rejected, `deadline` passed) is `Error`.
pub async fn run(client: kube::Client, spec: &CheckSpec, deadline: Duration) -> TaskStatus {
    let started = Utc::now();
    let outcome = tokio::time::timeout(deadline, client.apiserver_version()).await;
    let mut status = match outcome {
        Err(_) => TaskStatus::bare(TaskPhase::Error, format!("the check did not finish within its deadline of {deadline:?}")),
        Ok(Err(e)) => TaskStatus::bare(TaskPhase::Error, format!("the cluster could not be examined: {e}")),
        Ok(Ok(info)) => {
            let items = vec![cluster_version_item(&info.git_version, spec)];
            let phase = TaskPhase::from_items(&items);
            TaskStatus { items_status: items, ..TaskStatus::bare(phase, format!("API server at {}", info.git_version)) }
        }
    };
    let finished = Utc::now();
    status.started_at = Some(started);
    status.finished_at = Some(finished);
    status.duration_ms = Some((finished - started).num_milliseconds().max(0) as u64);
    status
}

fn cluster_version_item(git_version: &str, spec: &CheckSpec) -> CheckItem {
    let mut item = CheckItem {
        name: "cluster-version".into(),
        kind: ItemKind::Exception,
        group: ItemGroup::MasterCheck,
        level: Level::Fatal,
        phase: ItemPhase::Success,
        message: format!("the API server reports {git_version}"),
        evidence: vec![],
    };
    let Some(target) = &spec.target else { return item };
    match Version::parse(git_version) {
        Ok(actual) if actual.satisfies(target) => {}
        Ok(_) => {
            item.phase = ItemPhase::Failed;
            item.message = format!("the API server reports {git_version}, not the target {target}");
            item.evidence.push(Evidence::cluster("APIServer", "kube-apiserver", format!("serves {git_version}, expected {target}")));
        }
        Err(e) => {
            item.phase = ItemPhase::Error;
            item.message = format!("the API server's version could not be read: {e}");
        }
    }
    item
}
