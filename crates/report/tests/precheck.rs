//! The renderer on a pre-check document (its node items merged over the nodes, every node's
//! evidence kept) and on a post-check whose evidence carries blame from the document.

use postcheck_model::{
    BaselineRef, Blame, CheckItem, Evidence, ItemGroup, ItemKind, ItemPhase, ItemsCheckStatus,
    Level, NodeCheckStatus, NodeInfo, NodeStageStatus, PostCheckSpec, PostCheckTask,
    PreCheckItemStatus, PreCheckTask, PrecheckPhase, PrecheckSpec, PrecheckStatus, TaskMetadata,
    TaskPhase, TaskStatus,
};
use postcheck_report::TaskDocument;
use postcheck_report::view::{self, DocumentKind, Report};

fn item(name: &str, group: ItemGroup, phase: ItemPhase, evidence: Vec<Evidence>) -> CheckItem {
    CheckItem {
        name: name.into(),
        kind: ItemKind::Exception,
        group,
        level: Level::Fatal,
        phase,
        message: format!("{name} said so"),
        evidence,
    }
}

fn entry(item: CheckItem) -> PreCheckItemStatus {
    PreCheckItemStatus { item, risk_source: None, error_codes: vec![] }
}

fn precheck() -> PreCheckTask {
    let node = |name: &str, phase| NodeStageStatus {
        node_info: NodeInfo { uid: format!("u-{name}"), name: name.into(), ..NodeInfo::default() },
        items_status: vec![entry(item(
            "node-skew-at-target",
            ItemGroup::NodeCheck,
            phase,
            if phase == ItemPhase::Failed {
                vec![Evidence::cluster("Node", name, "kubelet v1.33.2 would be 4 minors behind")]
            } else {
                vec![]
            },
        ))],
    };
    let mut status = PrecheckStatus::bare(
        PrecheckPhase::Failed,
        "1 blocking item(s) failed: node-skew-at-target",
    );
    status.cluster_check_status = Some(ItemsCheckStatus {
        phase: PrecheckPhase::Success,
        items_status: vec![entry(item(
            "upgrade-path",
            ItemGroup::MasterCheck,
            ItemPhase::Success,
            vec![],
        ))],
    });
    status.node_check_status = Some(NodeCheckStatus {
        phase: PrecheckPhase::Failed,
        node_stage_status: vec![
            node("kwok-node-0", ItemPhase::Success),
            node("<b>old</b>", ItemPhase::Failed),
        ],
    });
    PreCheckTask::new(
        TaskMetadata { uid: "p1".into(), creation_timestamp: None, update_timestamp: None },
        PrecheckSpec { target_version: Some("v1.37".into()), ..PrecheckSpec::default() },
        status,
    )
}

#[test]
fn a_precheck_reads_as_a_report_with_its_node_items_merged() {
    let task = precheck();
    let report = Report::from_precheck(&task);
    assert_eq!(report.kind, DocumentKind::PreCheck);
    assert_eq!(report.verdict.phase, "Failed");
    assert_eq!(report.counts.total, 2, "upgrade-path and one merged node item");
    assert_eq!(report.counts.fatal, 1);
    let html = postcheck_report::precheck_html(&task).unwrap();
    assert!(html.contains("Pre-upgrade check"), "{html}");
    assert!(
        html.contains("&#60;b&#62;old&#60;/b&#62;") && !html.contains("<b>old</b>"),
        "names are text"
    );
    let markdown = postcheck_report::precheck_markdown(&task).unwrap();
    assert!(markdown.starts_with("### ❌ Pre-upgrade check: Failed (to v1.37)"), "{markdown}");
    let value = serde_json::to_value(&task).unwrap();
    assert!(matches!(TaskDocument::from_value(value), Ok(TaskDocument::PreCheck(_))));
}

#[test]
fn blame_comes_from_the_document_and_the_baseline_is_named() {
    let mut new = Evidence::cluster("APIService", "v1beta1.after", "MissingEndpoints");
    new.blame = Some(Blame::New);
    let mut old = Evidence::cluster("APIService", "v1beta1.before", "MissingEndpoints");
    old.blame = Some(Blame::PreExisting);
    assert_eq!(view::blame_of(&new), Some(view::Blame::New));
    assert_eq!(view::blame_of(&old), Some(view::Blame::PreExisting));
    let at = chrono::DateTime::parse_from_rfc3339("2026-12-02T03:00:00Z").unwrap().to_utc();
    let status = TaskStatus {
        items_status: vec![item(
            "apiservices",
            ItemGroup::AddonCheck,
            ItemPhase::Failed,
            vec![new, old],
        )],
        baseline: Some(BaselineRef::precheck("p1", at)),
        ..TaskStatus::bare(TaskPhase::Failed, "1 fatal item(s) failed: apiservices")
    };
    let task = PostCheckTask::new(
        TaskMetadata { uid: "t1".into(), creation_timestamp: None, update_timestamp: None },
        PostCheckSpec::default(),
        status,
    );
    let report = Report::from_postcheck(&task);
    assert_eq!((report.blame.new, report.blame.pre_existing), (1, 1));
    assert!(
        report.upgrade.iter().any(|f| f.label == "Baseline" && f.value.contains("pre-check p1")),
        "{:?}",
        report.upgrade
    );
    let html = postcheck_report::html(&task).unwrap();
    assert!(html.contains("pre-existing"), "the blame column shows: {html}");
}
