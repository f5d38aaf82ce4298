//! The ClusterRoleBindings that grant a `system:bootstrappers` group (or one of its
//! `system:bootstrappers:…` subgroups, as kubeadm binds) a role: how a bootstrapping kubelet
//! may create its certificate request and have it auto-approved. Every binding is listed;
//! only those with a bootstrapper group subject are kept.

use k8s_openapi::api::rbac::v1::ClusterRoleBinding;
use serde::Deserialize;

use super::super::Pass;
use super::super::api::{Meta, null_default};
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{BOOTSTRAPPERS, BootstrapBinding, Source};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<BootstrapBinding>, kube::Error> {
    list_all(pass, ListRequest::all::<ClusterRoleBinding>(), Source::BootstrapBindings, binding)
        .await
}

/// A ClusterRoleBinding as far as its role and subjects.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct View {
    #[serde(default)]
    metadata: Meta,
    #[serde(default)]
    role_ref: RoleRef,
    #[serde(default, deserialize_with = "null_default")]
    subjects: Vec<Subject>,
}

#[derive(Debug, Default, Deserialize)]
struct RoleRef {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

#[derive(Debug, Deserialize)]
struct Subject {
    #[serde(default)]
    kind: String,
    #[serde(default)]
    name: String,
}

fn is_bootstrappers(group: &str) -> bool {
    group == BOOTSTRAPPERS
        || group.strip_prefix(BOOTSTRAPPERS).is_some_and(|rest| rest.starts_with(':'))
}

fn binding(b: View) -> Option<BootstrapBinding> {
    let groups: Vec<String> = b
        .subjects
        .into_iter()
        .filter(|s| s.kind == "Group" && is_bootstrappers(&s.name))
        .map(|s| s.name)
        .collect();
    (b.role_ref.kind == "ClusterRole" && !groups.is_empty()).then_some(BootstrapBinding {
        name: b.metadata.name,
        role: b.role_ref.name,
        groups,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn view(name: &str, role: &str, subjects: serde_json::Value) -> View {
        serde_json::from_value(serde_json::json!({
            "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects
        }))
        .unwrap()
    }

    #[test]
    fn keeps_only_bindings_of_bootstrapper_groups() {
        let kubeadm = view(
            "kubeadm:kubelet-bootstrap",
            "system:node-bootstrapper",
            serde_json::json!([{"kind": "Group", "name": "system:bootstrappers:kubeadm:default-node-token"}]),
        );
        let b = binding(kubeadm).unwrap();
        assert_eq!(
            (b.name.as_str(), b.role.as_str(), b.groups.as_slice()),
            (
                "kubeadm:kubelet-bootstrap",
                "system:node-bootstrapper",
                &["system:bootstrappers:kubeadm:default-node-token".to_owned()][..]
            )
        );
        let admin = view(
            "cluster-admin",
            "cluster-admin",
            serde_json::json!([{"kind": "Group", "name": "system:masters"}]),
        );
        assert!(binding(admin).is_none());
        let lookalike = view(
            "x",
            "system:node-bootstrapper",
            serde_json::json!([{"kind": "Group", "name": "system:bootstrappers-not"}, {"kind": "User", "name": "system:bootstrappers"}]),
        );
        assert!(binding(lookalike).is_none());
        let none: View = serde_json::from_value(serde_json::json!({"metadata": {"name": "y"}, "roleRef": {"kind": "ClusterRole", "name": "r"}, "subjects": null})).unwrap();
        assert!(binding(none).is_none());
    }
}
