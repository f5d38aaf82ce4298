//! What the API must allow postcheck to do: the RBAC each source needs, with why.
//!
//! [`Permission::of`] is one exhaustive `match` over [`Source`] (gathered sources and actions
//! alike, no `_` arm): a new row in the table of sources does not compile until it says
//! what it reads here. The Helm chart's ClusterRole (`deploy/helm/postcheck`) is checked
//! against [`rules`] by a test (`crates/cli/tests/deploy_chart.rs`), and the README's RBAC
//! table against [`markdown_table`], so the chart cannot drift from what gathering reads.
//!
//! Three kinds of permission: cluster-wide `list`s (the gathering pass), the few a cluster
//! grants every authenticated user by default (`/version`, `/readyz`, `/livez`, discovery:
//! [`Scope::Public`], not in the chart), and those behind a switch ([`Switch`]): the Helm
//! release Secrets, and the synthetic check's writes, confined to its own namespace.

use std::collections::BTreeSet;

use crate::rules::removed_apis;
use crate::snapshot::Source;

/// Where a permission applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Scope {
    /// Every namespace (a ClusterRole bound by a ClusterRoleBinding).
    Cluster,
    /// One fixed namespace (a Role there).
    Namespace(&'static str),
    /// The synthetic check's own namespace (a Role there, only when it is enabled).
    SyntheticNamespace,
    /// A non-resource URL every authenticated user may read by default (the ClusterRoles
    /// `system:public-info-viewer` and `system:discovery`): nothing to grant.
    Public,
}

/// The value that turns a permission on; `None` on a [`Permission`] means always needed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Switch {
    /// Reading Helm v3 releases (Secrets of type `helm.sh/release.v1`, all namespaces), for
    /// the Helm part of `removed-apis`. Off by default: Secrets hold credentials.
    HelmReleases,
    /// The synthetic-pod check (`--synthetic`), which writes.
    Synthetic,
    /// The pre-check's own reading beyond a post-check's: the API server's `/metrics`
    /// (which clients still call deprecated APIs). Not in the chart, whose Job runs the
    /// post-check; a pre-check without it says `deprecated-api-clients` could not run.
    Precheck,
    /// The node-join check (`--node-join`), which writes CertificateSigningRequests, and
    /// its bootstrap evidence (kube-system's bootstrap token Secrets, the
    /// `system:bootstrappers` bindings). Not in the chart: run it with an admin's
    /// credentials.
    NodeJoin,
}

/// One thing a source needs the API to allow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permission {
    /// The source (or action) that needs it.
    pub source: Source,
    /// The API group (`""` for the core group); empty for a non-resource URL.
    pub group: String,
    /// The resource's plural name, or the non-resource URL (`/version`).
    pub resource: String,
    /// The verbs.
    pub verbs: &'static [&'static str],
    /// Where.
    pub scope: Scope,
    /// What turns it on (`None`: always needed).
    pub switch: Option<Switch>,
    /// Why the source needs it, in a phrase.
    pub reason: String,
}

const LIST: &[&str] = &["list"];
const GET: &[&str] = &["get"];

/// A cluster-wide `list` of `group/resource`, always needed.
fn list(source: Source, group: &str, resource: &str, reason: &str) -> Permission {
    Permission {
        source,
        group: group.to_owned(),
        resource: resource.to_owned(),
        verbs: LIST,
        scope: Scope::Cluster,
        switch: None,
        reason: reason.to_owned(),
    }
}

/// A non-resource URL every authenticated user may `get` by default.
fn public(source: Source, path: &str, reason: &str) -> Permission {
    Permission {
        source,
        group: String::new(),
        resource: path.to_owned(),
        verbs: GET,
        scope: Scope::Public,
        switch: None,
        reason: reason.to_owned(),
    }
}

impl Permission {
    /// Everything `source` needs. One exhaustive match: a new source must say what it reads.
    pub fn of(source: Source) -> Vec<Permission> {
        use Source as S;
        let s = source;
        match source {
            S::Version => vec![public(s, "/version", "the API server's version and clock")],
            S::Health => vec![
                public(s, "/readyz", "the API server's readiness checks (`?verbose`)"),
                public(s, "/livez", "the API server's liveness checks (`?verbose`)"),
            ],
            S::Nodes => vec![list(s, "", "nodes", "every node check")],
            S::Pods => vec![list(s, "", "pods", "system pods, workloads' pods, restarts")],
            S::Leases => vec![Permission {
                scope: Scope::Namespace("kube-system"),
                ..list(s, "coordination.k8s.io", "leases", "the control plane's leader election")
            }],
            S::Workloads => vec![
                list(s, "apps", "deployments", "workload availability"),
                list(s, "apps", "statefulsets", "workload availability"),
                list(s, "apps", "daemonsets", "workload availability"),
            ],
            S::Services => vec![
                list(s, "", "services", "Services that lost their endpoints"),
                list(s, "discovery.k8s.io", "endpointslices", "each Service's ready endpoints"),
            ],
            S::Claims => vec![list(s, "", "persistentvolumeclaims", "claims left unbound")],
            S::ApiServices => {
                vec![list(
                    s,
                    "apiregistration.k8s.io",
                    "apiservices",
                    "aggregated APIs' availability",
                )]
            }
            S::Webhooks => vec![
                list(
                    s,
                    "admissionregistration.k8s.io",
                    "validatingwebhookconfigurations",
                    "webhooks whose Service is gone",
                ),
                list(
                    s,
                    "admissionregistration.k8s.io",
                    "mutatingwebhookconfigurations",
                    "webhooks whose Service is gone",
                ),
                list(
                    s,
                    "apiextensions.k8s.io",
                    "customresourcedefinitions",
                    "CRD conversion webhooks",
                ),
            ],
            S::RemovedApis => removed_api_kinds(s),
            S::Events => vec![list(s, "", "events", "Warning events since the upgrade")],
            S::CrdVersions => vec![list(
                s,
                "apiextensions.k8s.io",
                "customresourcedefinitions",
                "stored versions no longer served",
            )],
            S::StorageClasses => {
                vec![list(s, "storage.k8s.io", "storageclasses", "claims' binding modes")]
            }
            S::Synthetic => synthetic(s),
            S::Pdbs => vec![list(s, "policy", "poddisruptionbudgets", "drains a PDB would block")],
            S::DeprecatedApis => vec![Permission {
                switch: Some(Switch::Precheck),
                scope: Scope::Cluster,
                ..public(s, "/metrics", "clients still calling deprecated APIs (the pre-check)")
            }],
            S::ServingCert => vec![public(
                s,
                "(TLS handshake)",
                "the serving certificate's expiry: a handshake, no request, nothing to grant",
            )],
            S::BootstrapTokens => vec![Permission {
                scope: Scope::Namespace("kube-system"),
                switch: Some(Switch::NodeJoin),
                ..list(
                    s,
                    "",
                    "secrets",
                    "bootstrap tokens (fieldSelector type=bootstrap.kubernetes.io/token; id, expiry, usages only)",
                )
            }],
            S::BootstrapBindings => vec![Permission {
                switch: Some(Switch::NodeJoin),
                ..list(
                    s,
                    "rbac.authorization.k8s.io",
                    "clusterrolebindings",
                    "the system:bootstrappers bindings",
                )
            }],
            S::NodeJoin => node_join(s),
        }
    }
}

/// `removed-apis`: the metadata of every kind of the rule table, through its replacement
/// version (a replacement that was itself removed, `policy/v1beta1` PodSecurityPolicy, is
/// served by no cluster since 1.25: on an older one its list is forbidden and the item
/// says so), and the Helm release Secrets behind a switch.
fn removed_api_kinds(s: Source) -> Vec<Permission> {
    let rules = removed_apis::rules();
    let removed_too = |version: &str, kind: &str| {
        rules.iter().any(|r| r.api_version == version && r.kind == kind)
    };
    let mut kinds: BTreeSet<(String, String)> = BTreeSet::new();
    for r in rules.iter().filter(|r| !r.replacement.is_empty()) {
        // Reviews (TokenReview, SubjectAccessReview...) are created, never stored: the pass
        // skips them (discovery says they cannot be listed), so nothing to grant.
        if removed_too(&r.replacement, &r.kind) || r.kind.ends_with("Review") {
            continue;
        }
        let (group, version) = r.replacement.split_once('/').unwrap_or(("", &r.replacement));
        let gvk = kube::core::GroupVersionKind::gvk(group, version, &r.kind);
        let plural = kube::core::ApiResource::from_gvk(&gvk).plural;
        kinds.insert((group.to_owned(), plural));
    }
    let mut out: Vec<Permission> = kinds
        .into_iter()
        .map(|(group, plural)| {
            list(
                s,
                &group,
                &plural,
                "objects last written through a removed API version (metadata only)",
            )
        })
        .collect();
    out.push(Permission {
        switch: Some(Switch::HelmReleases),
        ..list(
            s,
            "",
            "secrets",
            "Helm v3 releases (label owner=helm) rendering removed API versions",
        )
    });
    out
}

/// The synthetic pod: nodes to expect a pod on, and in its own namespace a DaemonSet
/// created, watched through its pods, and deleted.
fn synthetic(s: Source) -> Vec<Permission> {
    let here = |group: &str, resource: &str, verbs, reason: &str| Permission {
        source: s,
        group: group.to_owned(),
        resource: resource.to_owned(),
        verbs,
        scope: Scope::SyntheticNamespace,
        switch: Some(Switch::Synthetic),
        reason: reason.to_owned(),
    };
    vec![
        Permission {
            switch: Some(Switch::Synthetic),
            ..list(s, "", "nodes", "the nodes a pod must start on")
        },
        here("apps", "daemonsets", &["create", "delete"], "the DaemonSet it runs"),
        here("apps", "daemonsets", LIST, "its leftovers, swept"),
        here("", "pods", LIST, "whether each node's pod became Ready"),
    ]
}

/// node-join: a kubelet client certificate request created, approved, read back and
/// deleted (and an earlier run's leftovers listed and swept).
fn node_join(s: Source) -> Vec<Permission> {
    let csr = |resource: &str, verbs, reason: &str| Permission {
        source: s,
        group: "certificates.k8s.io".to_owned(),
        resource: resource.to_owned(),
        verbs,
        scope: Scope::Cluster,
        switch: Some(Switch::NodeJoin),
        reason: reason.to_owned(),
    };
    vec![
        csr(
            "certificatesigningrequests",
            &["create", "get", "list", "delete"],
            "the kubelet client certificate request it makes, reads back and deletes",
        ),
        csr("certificatesigningrequests/approval", &["update"], "approving its own request"),
        csr(
            "signers",
            &["approve"],
            "resourceName kubernetes.io/kube-apiserver-client-kubelet only",
        ),
    ]
}

/// Every permission of every source and action, in the table's order.
pub fn all() -> Vec<Permission> {
    Source::ALL
        .into_iter()
        .chain([Source::Synthetic, Source::NodeJoin])
        .flat_map(Permission::of)
        .collect()
}

/// One grant to give: `verb` on `group/resource` in `scope`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Grant {
    /// Where ([`Scope::Public`] never appears: nothing to grant).
    pub scope: Scope,
    /// The API group.
    pub group: String,
    /// The resource.
    pub resource: String,
    /// The verb.
    pub verb: String,
}

/// The grants a deployment with these switches on needs: every permission not public and
/// switched on, one grant per verb, a namespaced grant dropped when a cluster-wide one
/// covers it (so that every grant left is needed by something).
pub fn rules(switches: &[Switch]) -> BTreeSet<Grant> {
    let grants: BTreeSet<Grant> = all()
        .into_iter()
        .filter(|p| p.scope != Scope::Public)
        .filter(|p| p.switch.is_none_or(|s| switches.contains(&s)))
        .flat_map(|p| {
            p.verbs
                .iter()
                .map(|v| Grant {
                    scope: p.scope,
                    group: p.group.clone(),
                    resource: p.resource.clone(),
                    verb: (*v).to_owned(),
                })
                .collect::<Vec<_>>()
        })
        .collect();
    let covered = |g: &Grant| {
        g.scope != Scope::Cluster && grants.contains(&Grant { scope: Scope::Cluster, ..g.clone() })
    };
    grants.iter().filter(|g| !covered(g)).cloned().collect()
}

/// One row of the README's RBAC table.
struct Row {
    resources: Vec<String>,
    scope: String,
    verbs: String,
    switch: &'static str,
    why: Vec<String>,
}

impl Row {
    fn alike(&self, other: &Row) -> bool {
        (&self.scope, &self.verbs, self.switch) == (&other.scope, &other.verbs, other.switch)
    }
}

/// The README's RBAC table: the resources, with their scope, verbs, switch and the sources
/// that need them and why (resources needed alike share a row).
pub fn markdown_table() -> String {
    // One row per resource first, with every source that needs it...
    let mut rows: Vec<Row> = Vec::new();
    for p in all() {
        let resource = if p.group.is_empty() {
            format!("`{}`", p.resource)
        } else {
            format!("`{}.{}`", p.resource, p.group)
        };
        let row = Row {
            resources: vec![resource],
            scope: match p.scope {
                Scope::Cluster => "cluster".to_owned(),
                Scope::Namespace(ns) => format!("`{ns}`"),
                Scope::SyntheticNamespace => "the synthetic check's namespace".to_owned(),
                Scope::Public => "granted to everyone by default".to_owned(),
            },
            verbs: p.verbs.join(", "),
            switch: match p.switch {
                None => "always",
                Some(Switch::HelmReleases) => "`rbac.helmReleases`",
                Some(Switch::Synthetic) => "`synthetic.enabled`",
                Some(Switch::Precheck) => "the pre-check (not in the chart)",
                Some(Switch::NodeJoin) => "`--node-join` (not in the chart)",
            },
            why: vec![format!("{}: {}", p.source.as_str(), p.reason)],
        };
        match rows.iter_mut().find(|r| r.resources == row.resources && r.alike(&row)) {
            Some(r) if !r.why.contains(&row.why[0]) => r.why.extend(row.why),
            Some(_) => {}
            None => rows.push(row),
        }
    }
    // ...then the resources needed alike, for the same reasons, share a row.
    let mut merged: Vec<Row> = Vec::new();
    for row in rows {
        match merged.iter_mut().find(|m| m.alike(&row) && m.why == row.why) {
            Some(m) => m.resources.extend(row.resources),
            None => merged.push(row),
        }
    }
    let mut out =
        String::from("| Resources | Where | Verbs | When | Needed by |\n|---|---|---|---|---|\n");
    for r in merged {
        out.push_str(&format!(
            "| {} | {} | {} | {} | {} |\n",
            r.resources.join(", "),
            r.scope,
            r.verbs,
            r.switch,
            r.why.join("; ")
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn grant(scope: Scope, group: &str, resource: &str, verb: &str) -> Grant {
        Grant { scope, group: group.into(), resource: resource.into(), verb: verb.into() }
    }

    #[test]
    fn every_source_and_action_says_what_it_needs() {
        for s in Source::ALL.into_iter().chain([Source::Synthetic, Source::NodeJoin]) {
            assert!(!Permission::of(s).is_empty(), "{} needs nothing?", s.as_str());
        }
    }

    #[test]
    fn removed_apis_lists_each_kind_through_its_replacement_with_discoverys_plural() {
        let rules = rules(&[]);
        for (group, resource) in [
            ("flowcontrol.apiserver.k8s.io", "prioritylevelconfigurations"),
            ("networking.k8s.io", "networkpolicies"),
            ("networking.k8s.io", "ingresses"),
            ("storage.k8s.io", "csistoragecapacities"),
            ("policy", "poddisruptionbudgets"),
        ] {
            assert!(rules.contains(&grant(Scope::Cluster, group, resource, "list")), "{resource}");
        }
        assert!(!rules.iter().any(|g| g.resource == "podsecuritypolicies"));
        assert!(!rules.iter().any(|g| g.resource.ends_with("reviews")), "{rules:?}");
    }

    #[test]
    fn secrets_only_with_the_helm_switch_and_writes_only_with_the_synthetic_one() {
        let default = rules(&[]);
        assert!(!default.iter().any(|g| g.resource == "secrets"));
        assert!(default.iter().all(|g| g.verb == "list" && g.scope != Scope::SyntheticNamespace));
        let helm = rules(&[Switch::HelmReleases]);
        assert!(helm.contains(&grant(Scope::Cluster, "", "secrets", "list")));
        let synthetic = rules(&[Switch::Synthetic]);
        let writes: Vec<_> = synthetic.iter().filter(|g| g.verb != "list").collect();
        assert_eq!(writes.len(), 2, "{writes:?}");
        assert!(writes.iter().all(|g| g.scope == Scope::SyntheticNamespace));
    }

    #[test]
    fn a_namespaced_grant_a_cluster_wide_one_covers_is_not_given_twice() {
        // Leases: kube-system for the control plane's leader election, and every namespace
        // for removed-apis; and the synthetic check's pod list beside the pods source's.
        let rules = rules(&[Switch::Synthetic]);
        assert!(rules.contains(&grant(Scope::Cluster, "coordination.k8s.io", "leases", "list")));
        assert!(!rules.iter().any(|g| g.resource == "leases" && g.scope != Scope::Cluster));
        assert!(!rules.iter().any(|g| g.resource == "pods" && g.scope != Scope::Cluster));
    }

    #[test]
    fn the_table_has_a_row_per_resource_and_names_who_needs_it() {
        let table = markdown_table();
        assert!(table.contains("| `nodes` | cluster | list | always | nodes: every node check |"));
        assert!(table.contains("| `secrets` | cluster | list | `rbac.helmReleases` |"));
        assert!(table.contains("`/version`"));
    }
}
