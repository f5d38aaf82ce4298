//! `node-skew-at-target`: kubelets and kube-proxies that would fall outside the upstream
//! version-skew policy once the control plane is at the target (at most three minors
//! older, never newer).

use super::super::nodes::{judge_node_versions, outside_skew};
use super::super::{CheckContext, Finding};

/// `node-skew-at-target`.
pub(crate) fn node_skew_at_target(ctx: &CheckContext) -> Finding {
    let Some(target) = &ctx.spec.target else {
        return Finding::error("no target version was given");
    };
    let (evidence, total) = judge_node_versions(ctx, |component, reported, v| {
        outside_skew(component, reported, v, target, "the target")
            .map(|why| format!("{why}: upgrade the node first"))
    });
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
        assert!(
            item.evidence[0]
                .reason
                .contains("4 minors behind the target v1.37 (at most 3): upgrade the node first"),
            "{item:?}"
        );
        let newer = Snapshot::test().node(NodeFixture::ready("n").kubelet("v1.38.0"));
        assert_eq!(
            named(&run("node-skew-at-target", &newer, &target("v1.37"), &Policy::default())),
            ["n"]
        );
    }
}
