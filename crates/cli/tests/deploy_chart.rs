//! The Helm chart (`deploy/helm/postcheck`) through real Helm, no cluster: `helm lint`
//! clean, `helm template` equal to the golden files of each mode, the values schema
//! refusing what it must, every pod locked down, and the ClusterRole and Roles equal to
//! what the engine's table of permissions says the sources read (so the chart cannot drift
//! from gathering), the README's RBAC table too. Helm comes from `scripts/helm-binary`
//! (`POSTCHECK_HELM` names it; `scripts/test` sets it); without it these fail, loudly.
//!
//! `POSTCHECK_UPDATE_GOLDEN=1` rewrites the golden files instead of comparing.

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::Command;

mod tools;

use postcheck_engine::permissions::{self, Grant, Scope, Switch};
use serde_yaml_ng::Value;
use tools::{helm, root};

fn chart() -> PathBuf {
    root().join("deploy/helm/postcheck")
}

/// `helm ARGS`: (success, stdout, stderr).
fn run_helm(args: &[&str]) -> (bool, String, String) {
    let out = Command::new(helm()).args(args).output().expect("running helm");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// `helm template` of the chart as release `pc` in namespace `postcheck`, with `args`.
fn template(args: &[&str]) -> String {
    let chart = chart();
    let mut all = vec!["template", "pc", chart.to_str().unwrap(), "--namespace", "postcheck"];
    all.extend(args);
    let (ok, stdout, stderr) = run_helm(&all);
    assert!(ok, "helm template {args:?} failed:\n{stderr}");
    stdout
}

/// The rendered documents.
fn documents(rendered: &str) -> Vec<Value> {
    serde_yaml_ng::Deserializer::from_str(rendered)
        .map(|d| serde::Deserialize::deserialize(d).expect("helm rendered YAML"))
        .filter(|v: &Value| !v.is_null())
        .collect()
}

fn kind(doc: &Value) -> &str {
    doc["kind"].as_str().unwrap_or_default()
}

fn name(doc: &Value) -> &str {
    doc["metadata"]["name"].as_str().unwrap_or_default()
}

fn strings(v: &Value) -> Vec<String> {
    v.as_sequence()
        .map(|s| s.iter().filter_map(|x| x.as_str().map(str::to_owned)).collect())
        .unwrap_or_default()
}

/// The grants of the chart's ClusterRole and of its synthetic Role, as the engine names them.
fn chart_grants(rendered: &str) -> BTreeSet<Grant> {
    let mut grants = BTreeSet::new();
    for doc in documents(rendered) {
        let scope = match (kind(&doc), name(&doc)) {
            ("ClusterRole", _) => Scope::Cluster,
            ("Role", n) if n.ends_with("-synthetic") => Scope::SyntheticNamespace,
            _ => continue,
        };
        for rule in doc["rules"].as_sequence().expect("rules") {
            assert!(rule.get("resourceNames").is_none(), "{rule:?}");
            for group in strings(&rule["apiGroups"]) {
                for resource in strings(&rule["resources"]) {
                    for verb in strings(&rule["verbs"]) {
                        grants.insert(Grant {
                            scope,
                            group: group.clone(),
                            resource: resource.clone(),
                            verb,
                        });
                    }
                }
            }
        }
    }
    grants
}

/// The values files of the golden renders, and their golden files, by name.
const GOLDEN: [&str; 4] = ["job", "job-hook-everything", "cronjob", "service"];

fn golden_args(name: &str) -> Vec<String> {
    let values = chart().join(format!("tests/values/{name}.yaml"));
    vec!["--values".into(), values.to_str().unwrap().into()]
}

fn render_golden(name: &str) -> String {
    let args = golden_args(name);
    template(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn helm_lint_is_clean_in_both_modes() {
    let chart = chart();
    for name in GOLDEN {
        let mut args =
            vec!["lint".to_owned(), chart.to_str().unwrap().to_owned(), "--strict".into()];
        args.extend(golden_args(name));
        let (ok, stdout, stderr) = run_helm(&args.iter().map(String::as_str).collect::<Vec<_>>());
        assert!(ok, "helm lint ({name}) failed:\n{stdout}\n{stderr}");
        assert!(
            !stdout.contains("[WARNING]") && !stdout.contains("[ERROR]"),
            "helm lint ({name}):\n{stdout}"
        );
        assert!(stdout.contains("1 chart(s) linted, 0 chart(s) failed"), "{stdout}");
    }
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn helm_template_renders_each_mode_as_its_golden_file() {
    let update = std::env::var_os("POSTCHECK_UPDATE_GOLDEN").is_some();
    let mut stale = vec![];
    for name in GOLDEN {
        let rendered = render_golden(name);
        let path = chart().join(format!("tests/golden/{name}.yaml"));
        if update {
            std::fs::write(&path, &rendered).unwrap();
            continue;
        }
        let golden = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{path:?}: {e} (POSTCHECK_UPDATE_GOLDEN=1 writes it)"));
        if golden != rendered {
            stale.push(name);
            pretty_assertions::assert_eq!(golden, rendered, "{name}");
        }
    }
    assert!(stale.is_empty());
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn the_rbac_is_exactly_what_the_engine_says_its_sources_read() {
    for (sets, switches) in [
        (vec![], vec![]),
        (vec!["--set", "rbac.helmReleases=true"], vec![Switch::HelmReleases]),
        (vec!["--set", "synthetic.enabled=true"], vec![Switch::Synthetic]),
        (
            vec!["--set", "synthetic.enabled=true", "--set", "rbac.helmReleases=true"],
            vec![Switch::Synthetic, Switch::HelmReleases],
        ),
    ] {
        let chart = chart_grants(&template(&sets));
        let engine = permissions::rules(&switches);
        let missing: Vec<_> = engine.difference(&chart).collect();
        let extra: Vec<_> = chart.difference(&engine).collect();
        assert!(
            missing.is_empty() && extra.is_empty(),
            "{sets:?}: the chart's RBAC and crates/engine/src/permissions.rs differ:\n  missing from the chart: {missing:#?}\n  in the chart, needed by no source: {extra:#?}"
        );
    }
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn no_secret_is_granted_unless_helm_releases_are_asked_for_and_no_write_unless_synthetic() {
    let default = documents(&template(&[]));
    let rules: Vec<&Value> = default
        .iter()
        .filter(|d| matches!(kind(d), "ClusterRole" | "Role"))
        .flat_map(|d| d["rules"].as_sequence().unwrap())
        .collect();
    assert!(rules.iter().all(|r| !strings(&r["resources"]).contains(&"secrets".to_owned())));
    assert!(rules.iter().all(|r| strings(&r["verbs"]) == ["list"]), "{rules:?}");
    // The synthetic check's writes are a Role in its own namespace, never cluster-wide.
    let synthetic = documents(&template(&["--set", "synthetic.enabled=true"]));
    for doc in synthetic.iter().filter(|d| matches!(kind(d), "ClusterRole" | "Role")) {
        let writes = doc["rules"]
            .as_sequence()
            .unwrap()
            .iter()
            .any(|r| strings(&r["verbs"]).iter().any(|v| v != "list"));
        if writes {
            assert_eq!(
                (kind(doc), doc["metadata"]["namespace"].as_str()),
                ("Role", Some("postcheck-synthetic"))
            );
        }
    }
    // The result ConfigMap: get and patch of that one object.
    let result = documents(&template(&["--set", "job.resultConfigMap.enabled=true"]));
    let role = result.iter().find(|d| kind(d) == "Role").expect("the result's Role");
    let rule = &role["rules"][0];
    assert_eq!(strings(&rule["resourceNames"]), ["pc-postcheck-result"]);
    assert_eq!(strings(&rule["verbs"]), ["get", "patch"]);
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn every_pod_runs_non_root_read_only_unprivileged_and_bounded() {
    for name in GOLDEN {
        let docs = documents(&render_golden(name));
        let pods: Vec<&Value> = docs
            .iter()
            .filter_map(|d| match kind(d) {
                "Job" | "Deployment" => Some(&d["spec"]["template"]["spec"]),
                "CronJob" => Some(&d["spec"]["jobTemplate"]["spec"]["template"]["spec"]),
                _ => None,
            })
            .collect();
        assert_eq!(pods.len(), 1, "{name}: one workload");
        for pod in pods {
            assert_eq!(pod["securityContext"]["runAsNonRoot"].as_bool(), Some(true), "{name}");
            for c in pod["containers"].as_sequence().unwrap() {
                let sc = &c["securityContext"];
                assert_eq!(sc["readOnlyRootFilesystem"].as_bool(), Some(true), "{name}");
                assert_eq!(sc["allowPrivilegeEscalation"].as_bool(), Some(false), "{name}");
                assert_eq!(strings(&sc["capabilities"]["drop"]), ["ALL"], "{name}");
                for bound in ["requests", "limits"] {
                    assert!(c["resources"][bound]["memory"].as_str().is_some(), "{name}: {bound}");
                }
            }
        }
    }
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn the_service_mode_has_its_secrets_probes_service_and_monitor() {
    let docs = documents(&render_golden("service"));
    let kinds: BTreeSet<&str> = docs.iter().map(kind).collect();
    assert_eq!(
        kinds,
        BTreeSet::from(["Deployment", "Service", "ServiceAccount", "ServiceMonitor"])
    );
    let deployment = docs.iter().find(|d| kind(d) == "Deployment").unwrap();
    let c = &deployment["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["startupProbe"]["httpGet"]["path"].as_str(), Some("/healthz"));
    assert_eq!(c["livenessProbe"]["httpGet"]["path"].as_str(), Some("/healthz"));
    assert_eq!(c["readinessProbe"]["httpGet"]["path"].as_str(), Some("/readyz"));
    let env = c["env"].as_sequence().unwrap();
    let from_secret = |var: &str| {
        env.iter().find(|e| e["name"].as_str() == Some(var)).unwrap()["valueFrom"]["secretKeyRef"]
            ["name"]
            .as_str()
            .map(str::to_owned)
    };
    assert_eq!(from_secret("POSTCHECK_DATABASE_URL").as_deref(), Some("postcheck-db"));
    assert_eq!(from_secret("POSTCHECK_KEY").as_deref(), Some("postcheck-key"));
    assert_eq!(
        deployment["spec"]["template"]["spec"]["automountServiceAccountToken"].as_bool(),
        Some(false)
    );
}

#[test]
#[ignore = "needs Helm (scripts/helm-binary); scripts/test runs it"]
fn the_values_schema_refuses_what_cannot_work() {
    let chart = chart();
    let chart = chart.to_str().unwrap();
    for (sets, says) in [
        (vec!["--set", "mode=daemon"], "mode"),
        (vec!["--set", "mode=service"], "secretName"),
        (vec!["--set", "no.such=value"], "additional properties 'no'"),
        (vec!["--set", "job.target=latest"], "target"),
        (vec!["--set", "synthetic.namespace=Not_A_Name"], "namespace"),
    ] {
        let mut args = vec!["template", "pc", chart];
        args.extend(&sets);
        let (ok, _, stderr) = run_helm(&args);
        assert!(!ok, "{sets:?} rendered");
        assert!(stderr.contains("schema") && stderr.contains(says), "{sets:?}: {stderr}");
    }
}

#[test]
fn the_readme_rbac_table_is_the_engines() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let table = permissions::markdown_table();
    assert!(
        readme.contains(&table),
        "README.md's RBAC table is not the engine's; paste this under \"Install in a cluster\":\n{table}"
    );
}
