//! `node-skew-at-target`: kubelets and kube-proxies that would fall outside the upstream
//! version-skew policy once the control plane is at the target (at most three minors
//! older, never newer).

use postcheck_model::{Evidence, Version};

use super::super::{CheckContext, Finding};

/// How many minors a kubelet or kube-proxy may trail the API server.
const MAX_NODE_SKEW: i64 = 3;

/// `node-skew-at-target`.
pub(crate) fn node_skew_at_target(ctx: &CheckContext) -> Finding {
    let Some(target) = &ctx.spec.target else {
        return Finding::error("no target version was given");
    };
    let judge = |component: &str, reported: &str| -> Option<String> {
        if reported.is_empty() {
            return None;
        }
        let Ok(v) = Version::parse(reported) else {
            return Some(format!("{component} reports an unreadable version {reported:?}"));
        };
        let behind = v.minors_behind(target);
        if behind > MAX_NODE_SKEW {
            Some(format!(
                "{component} {reported} would be {behind} minors behind the target {target} (at most {MAX_NODE_SKEW}): upgrade the node first"
            ))
        } else if behind < 0 {
            Some(format!("{component} {reported} is newer than the target {target}"))
        } else {
            None
        }
    };
    let mut evidence = Vec::new();
    let mut total = 0;
    for node in ctx.snapshot.node_list().iter().filter(|n| !ctx.policy.excludes_node(n)) {
        total += 1;
        let problems: Vec<String> = [
            judge("kubelet", &node.kubelet_version),
            judge("kube-proxy", &node.kube_proxy_version),
        ]
        .into_iter()
        .flatten()
        .collect();
        if !problems.is_empty() {
            evidence.push(Evidence::cluster("Node", &node.name, problems.join("; ")));
        }
    }
    Finding::from_evidence(
        evidence,
        format!("kubelet and kube-proxy of {total} node(s) within the skew policy of {target}"),
        |n| format!("{n} node(s) would fall outside the version skew policy of {target}"),
    )
}

#[cfg(test)]
mod tests {
    use postcheck_model::ItemPhase;

    use crate::checks::precheck::testing::run;
    use crate::checks::testing::{named, target};
    use crate::policy::Policy;
    use crate::snapshot::Snapshot;
    use crate::testing::NodeFixture;

    #[test]
    fn a_kubelet_four_minors_behind_the_target_is_named_and_three_pass() {
        let snapshot = Snapshot::test()
            .version("v1.36.3")
            .node(NodeFixture::ready("old").kubelet("v1.33.9"))
            .node(NodeFixture::ready("ok").kubelet("v1.34.1"))
            .node(NodeFixture::ready("silent").kube_proxy(""));
        let item = run("node-skew-at-target", &snapshot, &target("v1.37"), &Policy::default());
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["old"]);
        assert!(item.evidence[0].reason.contains("4 minors behind the target"), "{item:?}");
        let newer = Snapshot::test().node(NodeFixture::ready("n").kubelet("v1.38.0"));
        assert_eq!(
            named(&run("node-skew-at-target", &newer, &target("v1.37"), &Policy::default())),
            ["n"]
        );
    }
}
