//! Kubeconfig files for the admin and each component: the cluster's URL, its CA inline, and
//! a static bearer token (the API server's `--token-auth-file`).

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;

use crate::components;
use crate::error::TestEnvError;

/// Renders a kubeconfig for `user` authenticating with `token`.
pub(crate) fn render(server: &str, ca_pem: &str, user: &str, token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: postcheck-testcluster\n  cluster:\n    server: {server}\n    certificate-authority-data: {ca}\nusers:\n- name: {user}\n  user:\n    token: {token}\ncontexts:\n- name: {user}@postcheck-testcluster\n  context:\n    cluster: postcheck-testcluster\n    user: {user}\ncurrent-context: {user}@postcheck-testcluster\n"
    )
}

/// Writes a kubeconfig (owner-readable only).
pub(crate) fn write(
    path: &Path,
    server: &str,
    ca_pem: &str,
    user: &str,
    token: &str,
) -> Result<(), TestEnvError> {
    crate::pki::write_private(path, &render(server, ca_pem, user, token))
}

/// Builds a kube client for a kubeconfig document.
pub(crate) async fn client(yaml: &str, server: &str) -> Result<kube::Client, TestEnvError> {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let fail = |reason: String| TestEnvError::Client { server: server.to_string(), reason };
    let kubeconfig = kube::config::Kubeconfig::from_yaml(yaml)
        .map_err(|e| fail(format!("parsing the kubeconfig: {e}")))?;
    let mut config = kube::Config::from_custom_kubeconfig(
        kubeconfig,
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .map_err(|e| fail(format!("reading the kubeconfig: {e}")))?;
    config.connect_timeout = Some(std::time::Duration::from_secs(5));
    config.read_timeout = Some(std::time::Duration::from_secs(60));
    kube::Client::try_from(config).map_err(|e| fail(e.to_string()))
}

/// A fresh bearer token.
pub(crate) fn new_token() -> String {
    uuid::Uuid::new_v4().simple().to_string()
}

/// Writes the API server's static token file (`--token-auth-file`), one line
/// `token,user,uid,"group,..."` for the admin and each component.
pub(crate) fn write_token_file(
    path: &Path,
    admin_token: &str,
    component_tokens: &BTreeMap<String, String>,
) -> Result<(), TestEnvError> {
    let mut lines = Vec::new();
    let (user, groups) = components::identity("admin");
    lines.push(format!("{admin_token},{user},{user},\"{groups}\""));
    for (component, token) in component_tokens {
        let (user, groups) = components::identity(component);
        lines.push(if groups.is_empty() {
            format!("{token},{user},{user}")
        } else {
            format!("{token},{user},{user},\"{groups}\"")
        });
    }
    crate::pki::write_private(path, &(lines.join("\n") + "\n"))
}
