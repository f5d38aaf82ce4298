//! `system-pods`: the cluster's own pods are Running and Ready.
//!
//! System pods are those in kube-system and those with a `system-cluster-critical` or
//! `system-node-critical` priority class anywhere (kops' rule). The message summarises the
//! components people look for first (CoreDNS, kube-proxy, the CNI); one that is not
//! installed is reported as such, never as a failure. Pods are not counted here when
//! another item owns their cause: pods on a node that is not Ready (node-ready), the
//! control-plane's own pods (control-plane), completed pods, and pods Pending for less
//! than the policy's grace.
//!
//! Beside the pods, the components themselves are judged by their workloads and Services
//! ([`super::components`]): a component whose pods are all gone is not "not installed"
//! while its workload or Service remains.

use postcheck_model::Evidence;

use super::{CheckContext, Finding, components};
use crate::snapshot::Pod;

const CRITICAL: [&str; 2] = ["system-cluster-critical", "system-node-critical"];
const CONTROL_PLANE: [&str; 3] = ["kube-apiserver", "kube-controller-manager", "kube-scheduler"];

/// A component summarised in the message: its name and how to recognise its pods.
struct Component {
    name: &'static str,
    matches: fn(&Pod) -> bool,
}

fn label_is(pod: &Pod, key: &str, values: &[&str]) -> bool {
    pod.labels.get(key).is_some_and(|v| values.contains(&v))
}

const COMPONENTS: [Component; 3] = [
    Component { name: "CoreDNS", matches: |p| label_is(p, "k8s-app", &["kube-dns", "coredns"]) },
    Component { name: "kube-proxy", matches: |p| label_is(p, "k8s-app", &["kube-proxy"]) },
    Component {
        name: "CNI",
        matches: |p| {
            label_is(
                p,
                "k8s-app",
                &["calico-node", "cilium", "canal", "flannel", "kube-router", "antrea", "aws-node"],
            ) || label_is(p, "app", &["flannel", "weave-net", "yangtse", "canal"])
                || [
                    "calico-node-",
                    "cilium-",
                    "kube-flannel-",
                    "canal-",
                    "weave-net-",
                    "aws-node-",
                    "yangtse-",
                ]
                .iter()
                .any(|prefix| p.name.starts_with(prefix))
        },
    },
];

/// Whether the pod is a system pod.
pub(super) fn is_system_pod(pod: &Pod) -> bool {
    pod.namespace == "kube-system"
        || pod.priority_class.as_deref().is_some_and(|c| CRITICAL.contains(&c))
}

/// What is wrong with a pod that is not Running and Ready, for its evidence.
pub(super) fn pod_problem(pod: &Pod) -> String {
    let mut parts = vec![if pod.phase == "Running" {
        "Running but not Ready".to_owned()
    } else {
        pod.phase.to_string()
    }];
    if let Some(why) = &pod.unschedulable {
        parts.push(why.clone());
    }
    for c in &pod.containers {
        match (&c.waiting_reason, c.ready) {
            (Some(reason), _) => parts.push(format!(
                "container {} waiting: {reason} ({} restarts)",
                c.name, c.restart_count
            )),
            (None, false) if pod.phase == "Running" => {
                parts.push(format!("container {} not ready", c.name))
            }
            _ => {}
        }
    }
    parts.join("; ")
}

/// `system-pods`: kube-system and system-critical pods are Running and Ready.
pub(super) fn system_pods(ctx: &CheckContext) -> Finding {
    let snapshot = ctx.snapshot;
    let now = snapshot.now();
    let grace = chrono::Duration::from_std(ctx.policy.tolerances.pending_grace)
        .unwrap_or(chrono::Duration::MAX);
    let node_ready = |name: &str| snapshot.find_node(name).is_none_or(|n| n.is_ready());

    let mut evidence = Vec::new();
    let mut judged: Vec<&Pod> = Vec::new();
    let mut left_to_node_ready = 0;
    for pod in
        snapshot.pod_list().iter().filter(|p| is_system_pod(p) && !ctx.policy.excludes_pod(p))
    {
        let finished_job =
            pod.phase == "Failed" && pod.owner.as_ref().is_some_and(|o| o.kind == "Job");
        if pod.phase == "Succeeded"
            || finished_job
            || (pod.namespace == "kube-system" && label_is(pod, "component", &CONTROL_PLANE))
        {
            continue;
        }
        if pod.node_name.as_deref().is_some_and(|n| !node_ready(n)) {
            left_to_node_ready += 1;
            continue;
        }
        judged.push(pod);
        if pod.phase == "Running" && pod.ready {
            continue;
        }
        let young = pod.phase == "Pending" && pod.created.is_some_and(|c| now - c < grace);
        if !young {
            evidence.push(Evidence::namespaced("Pod", &pod.namespace, &pod.name, pod_problem(pod)));
        }
    }

    let parts = components::judge(snapshot, ctx.policy);
    evidence.extend(parts.evidence);
    let summary: Vec<String> = COMPONENTS
        .iter()
        .map(|c| {
            let pods: Vec<_> = judged.iter().filter(|p| (c.matches)(p)).collect();
            if pods.is_empty() && parts.present.contains(&c.name) {
                format!("{} has no pods", c.name)
            } else if pods.is_empty() {
                format!("{} not installed", c.name)
            } else {
                format!(
                    "{} {}/{} Ready",
                    c.name,
                    pods.iter().filter(|p| p.phase == "Running" && p.ready).count(),
                    pods.len()
                )
            }
        })
        .collect();
    let mut summary = summary.join(", ");
    let workloads_read = snapshot.workloads.ok().is_some() && snapshot.services.ok().is_some();
    if workloads_read {
        summary.push_str(&format!("; components: {}", parts.summary.join(", ")));
    } else {
        summary.push_str("; components not judged (workloads or Services not read)");
    }
    if left_to_node_ready > 0 {
        summary.push_str(&format!(
            "; {left_to_node_ready} pod(s) on not-Ready nodes left to node-ready"
        ));
    }
    Finding::from_evidence(
        evidence,
        format!("{} system pod(s) Running and Ready: {summary}", judged.len()),
        |n| format!("{n} system pod(s) or component(s) not healthy: {summary}"),
    )
}

#[cfg(test)]
mod tests {
    use chrono::Duration;
    use postcheck_model::ItemPhase;

    use crate::checks::testing::*;
    use crate::policy::Policy;
    use crate::request::CheckSpec;
    use crate::snapshot::Snapshot;
    use crate::testing::{NodeFixture, PodFixture, WorkloadFixture};

    fn coredns(name: &str) -> PodFixture {
        PodFixture::running("kube-system", name)
            .label("k8s-app", "kube-dns")
            .priority("system-cluster-critical")
    }

    fn healthy() -> Snapshot {
        Snapshot::test()
            .nodes(["n1", "n2"].map(NodeFixture::ready))
            .pod(coredns("coredns-a").on("n1"))
            .pod(coredns("coredns-b").on("n2"))
            .pod(
                PodFixture::running("kube-system", "kube-proxy-x")
                    .label("k8s-app", "kube-proxy")
                    .on("n1"),
            )
            .pod(PodFixture::running("shop", "web-1").on("n2"))
    }

    fn item(snapshot: &Snapshot) -> postcheck_model::CheckItem {
        run("system-pods", snapshot, None, &CheckSpec::default(), &Policy::default())
    }

    #[test]
    fn healthy_system_pods_pass_and_a_missing_cni_is_not_a_failure() {
        let item = item(&healthy());
        assert_eq!(item.phase, ItemPhase::Success, "{}", item.message);
        assert!(item.message.contains("CoreDNS 2/2 Ready"), "{}", item.message);
        assert!(item.message.contains("CNI not installed"), "{}", item.message);
    }

    #[test]
    fn a_crashlooping_coredns_fails_naming_the_pod_and_its_reason() {
        let snapshot = healthy().pod(coredns("coredns-c").on("n1").waiting("CrashLoopBackOff", 7));
        let item = item(&snapshot);
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["coredns-c"]);
        assert!(
            item.evidence[0].reason.contains("CrashLoopBackOff (7 restarts)"),
            "{}",
            item.evidence[0].reason
        );
        assert!(item.message.contains("CoreDNS 2/3 Ready"), "{}", item.message);
    }

    #[test]
    fn critical_pods_outside_kube_system_count_and_workloads_do_not() {
        let snapshot = healthy()
            .pod(
                PodFixture::running("calico-system", "calico-node-1")
                    .priority("system-node-critical")
                    .not_ready(),
            )
            .pod(PodFixture::running("shop", "api-1").waiting("ImagePullBackOff", 0));
        let item = item(&snapshot);
        assert_eq!(named(&item), ["calico-node-1"]);
        assert!(item.message.contains("CNI 0/1 Ready"), "{}", item.message);
    }

    #[test]
    fn pending_pods_fail_only_after_the_grace() {
        let young = healthy().pod(coredns("coredns-new").pending(Duration::seconds(30)));
        assert_eq!(item(&young).phase, ItemPhase::Success);
        let old = healthy().pod(coredns("coredns-stuck").pending(Duration::minutes(10)));
        let item = item(&old);
        assert_eq!(named(&item), ["coredns-stuck"]);
        assert!(item.evidence[0].reason.contains("Unschedulable"), "{}", item.evidence[0].reason);
    }

    #[test]
    fn pods_on_unready_nodes_are_left_to_node_ready() {
        let snapshot = Snapshot::test()
            .node(NodeFixture::ready("n1"))
            .node(NodeFixture::ready("n2").unreachable())
            .pod(
                PodFixture::running("kube-system", "kube-proxy-2")
                    .label("k8s-app", "kube-proxy")
                    .on("n2")
                    .not_ready(),
            );
        let item = item(&snapshot);
        assert_eq!(item.phase, ItemPhase::Success, "{}", item.message);
        assert!(item.message.contains("left to node-ready"), "{}", item.message);
    }

    #[test]
    fn excluded_namespaces_and_completed_pods_are_ignored() {
        let snapshot = healthy().pod(PodFixture::running("kube-system", "job-x").succeeded());
        assert_eq!(item(&snapshot).phase, ItemPhase::Success);
        let snapshot = healthy().pod(coredns("coredns-c").waiting("CrashLoopBackOff", 1));
        let mut policy = Policy::default();
        policy.exclude.names = vec!["kube-system/coredns-c".into()];
        assert_eq!(
            run("system-pods", &snapshot, None, &CheckSpec::default(), &policy).phase,
            ItemPhase::Success
        );
    }

    fn dns_deployment(ready: i32, desired: i32) -> WorkloadFixture {
        let mut w = WorkloadFixture::complete("Deployment", "kube-system", "coredns", desired);
        w.0.ready = ready;
        w.0.available = ready;
        w
    }

    #[test]
    fn dns_scaled_to_zero_while_its_service_remains_fails_naming_both() {
        let snapshot = Snapshot::test()
            .nodes(["n1", "n2"].map(NodeFixture::ready))
            .workload(dns_deployment(0, 0))
            .service("kube-system", "kube-dns", 0);
        let item = item(&snapshot);
        assert_eq!(item.phase, ItemPhase::Failed, "{}", item.message);
        assert_eq!(named(&item), ["coredns", "kube-dns"]);
        assert!(item.evidence[0].reason.contains("scaled to zero"), "{}", item.evidence[0].reason);
        assert!(item.evidence[0].reason.contains("kube-system/kube-dns"), "{:?}", item.evidence);
        assert!(item.evidence[1].reason.contains("coredns 0/0"), "{:?}", item.evidence);
        assert!(item.message.contains("CoreDNS has no pods"), "{}", item.message);
        // With or without a baseline.
        let with = run(
            "system-pods",
            &snapshot,
            Some(&snapshot),
            &CheckSpec::default(),
            &Policy::default(),
        );
        assert_eq!(with.phase, ItemPhase::Failed);
    }

    #[test]
    fn a_dns_service_without_a_ready_endpoint_fails_even_without_a_workload() {
        let snapshot = healthy().service("kube-system", "kube-dns", 0);
        let item = item(&snapshot);
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["kube-dns"]);
        assert!(item.evidence[0].reason.contains("no workload"), "{}", item.evidence[0].reason);
    }

    #[test]
    fn a_cni_daemonset_missing_pods_on_some_nodes_fails() {
        let mut ds = WorkloadFixture::complete("DaemonSet", "kube-system", "calico-node", 3);
        ds.0.ready = 1;
        let item = item(&healthy().workload(ds));
        assert_eq!(item.phase, ItemPhase::Failed);
        assert_eq!(named(&item), ["calico-node"]);
        assert!(item.evidence[0].reason.contains("CNI 1/3 ready"), "{}", item.evidence[0].reason);
    }

    #[test]
    fn a_short_component_workload_fails_and_a_healthy_one_passes() {
        let item =
            item(&healthy().workload(dns_deployment(1, 2)).service("kube-system", "kube-dns", 1));
        assert_eq!(named(&item), ["coredns"]);
        let item =
            item_ok(healthy().workload(dns_deployment(2, 2)).service("kube-system", "kube-dns", 2));
        assert!(item.message.contains("CoreDNS Deployment 2/2 ready"), "{}", item.message);
        assert!(item.message.contains("metrics-server not installed"), "{}", item.message);
    }

    #[test]
    fn any_kube_system_service_with_a_selector_and_no_endpoint_fails() {
        let item = item(&healthy().service("kube-system", "my-addon", 0));
        assert_eq!(named(&item), ["my-addon"]);
    }

    fn item_ok(snapshot: Snapshot) -> postcheck_model::CheckItem {
        let item = item(&snapshot);
        assert_eq!(item.phase, ItemPhase::Success, "{}: {:?}", item.message, item.evidence);
        item
    }

    /// Legitimate states: none of these is a failure.
    #[test]
    fn legitimate_states_pass() {
        // A component scaled to zero with no Service depending on it.
        let mut autoscaler =
            WorkloadFixture::complete("Deployment", "kube-system", "cluster-autoscaler", 0);
        autoscaler.0.ready = 0;
        item_ok(healthy().workload(autoscaler));
        // A DaemonSet whose node selector matches no node: nothing desired.
        item_ok(healthy().workload(WorkloadFixture::complete(
            "DaemonSet",
            "kube-system",
            "yangtse-agent",
            0,
        )));
        // Succeeded pods and pods of completed Jobs.
        item_ok(healthy().pod(PodFixture::running("kube-system", "cleanup-job-x").succeeded()));
        let mut retried =
            PodFixture::running("kube-system", "cleanup-job-y").owned_by("Job", "cleanup");
        retried.0.phase = "Failed".into();
        retried.0.ready = false;
        item_ok(healthy().pod(retried));
        // A selector-less Service with manually managed EndpointSlices (and none ready).
        let mut s = healthy().service("kube-system", "manual", 0);
        if let crate::snapshot::Gathered::Ok(list) = &mut s.services {
            list.last_mut().unwrap().has_selector = false;
        }
        item_ok(s);
        // Not installed at all: no workload, no Service.
        let item = item_ok(healthy());
        assert!(item.message.contains("everest not installed"), "{}", item.message);
    }
}
