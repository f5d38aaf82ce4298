//! The cluster's own components judged as components, for `system-pods`: a component is
//! known by its workload and its Service, not only by the pods found.
//!
//! A component is "not installed" only when neither its workload nor its Service exists.
//! Fatal: a component's workload with fewer ready replicas than desired; a workload
//! scaled to zero while its Service remains; a kube-system Service with a selector and no
//! ready endpoint (the cluster DNS Service among them, with or without a baseline). A
//! workload scaled to zero with no Service depending on it, and a DaemonSet whose node
//! selector matches no node (nothing desired), are deliberate and pass.

use postcheck_model::Evidence;

use crate::policy::Policy;
use crate::snapshot::{ServiceEndpoints, Snapshot, Workload};

/// The namespaces a component's workload may live in (operators install some CNIs in
/// their own namespace).
const NAMESPACES: [&str; 4] = ["kube-system", "calico-system", "kube-flannel", "kube-ovn"];

/// A component: its name, its workloads' names and its Services' names.
struct Component {
    name: &'static str,
    workloads: &'static [&'static str],
    services: &'static [&'static str],
}

const COMPONENTS: [Component; 6] = [
    Component {
        name: "CoreDNS",
        workloads: &["coredns", "kube-dns"],
        services: &["kube-dns", "coredns"],
    },
    Component { name: "kube-proxy", workloads: &["kube-proxy"], services: &[] },
    Component {
        name: "CNI",
        workloads: &[
            "calico-node",
            "calico-kube-controllers",
            "cilium",
            "cilium-operator",
            "kube-flannel-ds",
            "kube-flannel",
            "flannel",
            "kube-ovn-cni",
            "kube-ovn-controller",
            "ovs-ovn",
            "yangtse",
            "yangtse-agent",
            "canal",
        ],
        services: &[],
    },
    Component {
        name: "metrics-server",
        workloads: &["metrics-server"],
        services: &["metrics-server"],
    },
    Component {
        name: "everest",
        workloads: &["everest-csi-controller", "everest-csi-driver"],
        services: &[],
    },
    Component {
        name: "autoscaler",
        workloads: &["cluster-autoscaler", "autoscaler"],
        services: &[],
    },
];

/// What the components look like: a summary for the message and the evidence of faults.
pub(super) struct Judged {
    /// `CoreDNS Deployment 2/2 ready`, one per component.
    pub(super) summary: Vec<String>,
    /// The components with a workload or a Service.
    pub(super) present: Vec<&'static str>,
    /// The faulty workloads and Services, each naming the other.
    pub(super) evidence: Vec<Evidence>,
}

fn short(w: &Workload) -> bool {
    w.desired > 0 && w.ready < w.desired
}

fn service_words(s: &ServiceEndpoints) -> String {
    format!("Service {}/{} ({} ready endpoint(s))", s.namespace, s.name, s.ready)
}

/// Judges the components, and every kube-system Service with a selector.
pub(super) fn judge(snapshot: &Snapshot, policy: &Policy) -> Judged {
    let excluded = |ns: &str, name: &str| policy.excludes_object(ns, name);
    let workloads: Vec<&Workload> = snapshot
        .workload_list()
        .iter()
        .filter(|w| NAMESPACES.contains(&w.namespace.as_str()) && !excluded(&w.namespace, &w.name))
        .collect();
    let services: Vec<&ServiceEndpoints> = snapshot
        .service_list()
        .iter()
        .filter(|s| s.namespace == "kube-system" && !excluded(&s.namespace, &s.name))
        .collect();
    let mut summary = Vec::new();
    let mut present = Vec::new();
    let mut evidence = Vec::new();
    let mut services_named: Vec<&str> = Vec::new();
    for c in &COMPONENTS {
        let mine: Vec<&&Workload> =
            workloads.iter().filter(|w| c.workloads.contains(&w.name.as_str())).collect();
        let svc: Vec<&&ServiceEndpoints> =
            services.iter().filter(|s| c.services.contains(&s.name.as_str())).collect();
        if mine.is_empty() && svc.is_empty() {
            summary.push(format!("{} not installed", c.name));
            continue;
        }
        let svc_text = if svc.is_empty() {
            String::new()
        } else {
            format!("; {}", svc.iter().map(|s| service_words(s)).collect::<Vec<_>>().join(", "))
        };
        let workload_text = if mine.is_empty() {
            "no workload".to_owned()
        } else {
            mine.iter()
                .map(|w| format!("{} {}/{} ready", w.kind, w.ready, w.desired))
                .collect::<Vec<_>>()
                .join(", ")
        };
        present.push(c.name);
        summary.push(format!("{} {workload_text}", c.name));
        for w in &mine {
            let why = if short(w) {
                Some(format!("{} {}/{} ready", c.name, w.ready, w.desired))
            } else if w.desired == 0 && !svc.is_empty() {
                Some(format!("{} scaled to zero while its Service remains", c.name))
            } else {
                None
            };
            if let Some(why) = why {
                evidence.push(Evidence::namespaced(
                    &w.kind,
                    &w.namespace,
                    &w.name,
                    format!("{why}{svc_text}"),
                ));
            }
        }
        for s in &svc {
            services_named.push(&s.name);
            if s.has_selector && s.ready == 0 {
                let behind = if mine.is_empty() {
                    format!("no workload of {} exists", c.name)
                } else {
                    mine.iter()
                        .map(|w| {
                            format!(
                                "{} {}/{} {}/{} ready",
                                w.kind, w.namespace, w.name, w.ready, w.desired
                            )
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                };
                evidence.push(Evidence::namespaced(
                    "Service",
                    &s.namespace,
                    &s.name,
                    format!("{} Service has no ready endpoint: {behind}", c.name),
                ));
            }
        }
    }
    for s in services.iter().filter(|s| !services_named.contains(&s.name.as_str())) {
        if s.has_selector && s.ready == 0 {
            evidence.push(Evidence::namespaced(
                "Service",
                &s.namespace,
                &s.name,
                "kube-system Service with a selector has no ready endpoint",
            ));
        }
    }
    Judged { summary, present, evidence }
}
