//! The Helm chart on the real test control plane, one cluster for the file: `helm install`
//! of both modes succeeds and their objects exist (kwok simulates the pods; the check itself
//! runs in this test); `postcheck check` in in-cluster mode, with a token of the chart's own
//! ServiceAccount laid out as a pod sees it, reports no item `Error` and the admin's verdict
//! and items; and the RBAC is minimal: each rule of the chart's ClusterRole (and of the
//! synthetic Role) removed in turn makes exactly the items that need it report `Error`
//! naming the forbidden resource, and with Helm-release reading off no Secret can be read
//! and `removed-apis` says its Helm part could not run.
//!
//! Helm and kubectl come from the binaries cache (`scripts/helm-binary`,
//! `scripts/k8s-binaries`); `scripts/test` runs this with `--include-ignored`, and it panics
//! when the control plane cannot start.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::time::{Duration, Instant};

mod tools;

use k8s_openapi::api::authorization::v1::{
    ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec,
};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace, Secret, ServiceAccount};
use k8s_openapi::api::rbac::v1::{ClusterRole, ClusterRoleBinding, PolicyRule, Role, RoleBinding};
use kube::api::{Api, PostParams};
use postcheck_engine::access::ClusterCredentials;
use postcheck_engine::permissions::{Permission, Scope};
use postcheck_engine::{CheckRequest, CheckSpec, Policy, Source, catalogue};
use postcheck_model::{CheckItem, ItemPhase, PostCheckTask, TaskPhase, TaskStatus};
use postcheck_testenv::{TestCluster, UpOptions};
use tools::root;

const RELEASE: &str = "pc";
const NAMESPACE: &str = "postcheck";
/// The chart's ServiceAccount and ClusterRole: `<release>-<chart>`.
const FULLNAME: &str = "pc-postcheck";
const SYNTHETIC_NAMESPACE: &str = "postcheck-synthetic";

/// Runs `program args` with the admin kubeconfig; its stdout, panicking with stderr on failure.
async fn run(program: &Path, kubeconfig: &Path, args: &[&str]) -> String {
    let out = tokio::process::Command::new(program)
        .args(args)
        .env("KUBECONFIG", kubeconfig)
        .output()
        .await
        .unwrap_or_else(|e| panic!("running {program:?}: {e}"));
    assert!(
        out.status.success(),
        "{program:?} {args:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// One run of the binary: its task document and exit code.
struct Run {
    code: i32,
    task: PostCheckTask,
}

async fn postcheck(args: &[&str], env: &[(&str, &str)], home: &Path) -> Run {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_postcheck"));
    cmd.args(args).env("NO_COLOR", "1").env("HOME", home).env_remove("KUBECONFIG");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().await.expect("running postcheck");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let task = serde_json::from_str(&stdout).unwrap_or_else(|e| {
        panic!(
            "postcheck {args:?} printed no task ({e}):\n{stdout}\n{}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    Run { code: out.status.code().unwrap_or(-1), task }
}

/// What two runs must agree on: each item's name, phase, level, message and evidence (the
/// synthetic pod's message has its timing, so only its phase and evidence).
fn comparable(status: &TaskStatus) -> Vec<(String, ItemPhase, String, Vec<String>)> {
    status
        .items_status
        .iter()
        .map(|i| {
            let message = if i.name == "synthetic-pod" { String::new() } else { i.message.clone() };
            let evidence = i
                .evidence
                .iter()
                .map(|e| format!("{} {:?} {}: {}", e.kind, e.namespace, e.name, e.reason))
                .collect();
            (format!("{} ({:?})", i.name, i.level), i.phase, message, evidence)
        })
        .collect()
}

fn errors(status: &TaskStatus) -> Vec<&CheckItem> {
    status.items_status.iter().filter(|i| i.phase == ItemPhase::Error).collect()
}

/// Whether the ServiceAccount behind `client` may `verb` `group/resource` (cluster-wide, or
/// in `namespace`), as the API server's authorizer answers now.
async fn allowed(
    client: &kube::Client,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
) -> bool {
    let review = SelfSubjectAccessReview {
        spec: SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                verb: Some(verb.into()),
                group: Some(group.into()),
                resource: Some(resource.into()),
                namespace: namespace.map(str::to_owned),
                ..Default::default()
            }),
            ..Default::default()
        },
        ..Default::default()
    };
    let answer = Api::<SelfSubjectAccessReview>::all(client.clone())
        .create(&PostParams::default(), &review)
        .await
        .expect("a SelfSubjectAccessReview");
    answer.status.is_some_and(|s| s.allowed)
}

/// Waits until the authorizer gives `want` for the grant (RBAC changes reach it through a
/// watch, a moment after the write).
async fn until_allowed(
    client: &kube::Client,
    verb: &str,
    group: &str,
    resource: &str,
    namespace: Option<&str>,
    want: bool,
) {
    let until = Instant::now() + Duration::from_secs(30);
    while allowed(client, verb, group, resource, namespace).await != want {
        assert!(Instant::now() < until, "{verb} {resource}.{group} never became {want}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The rules without `resource` of `group` (for `verb`, or every verb when `None`); a rule
/// left with no resource or verb is dropped.
fn without(
    rules: &[PolicyRule],
    group: &str,
    resource: &str,
    verb: Option<&str>,
) -> Vec<PolicyRule> {
    let mut out = Vec::new();
    for rule in rules {
        let groups = rule.api_groups.clone().unwrap_or_default();
        if !groups.iter().any(|g| g == group) {
            out.push(rule.clone());
            continue;
        }
        assert_eq!(groups.len(), 1, "the chart gives one API group per rule: {rule:?}");
        let resources = rule.resources.clone().unwrap_or_default();
        if !resources.iter().any(|r| r == resource) {
            out.push(rule.clone());
            continue;
        }
        match verb {
            None => {
                let rest: Vec<String> = resources.into_iter().filter(|r| r != resource).collect();
                if !rest.is_empty() {
                    out.push(PolicyRule { resources: Some(rest), ..rule.clone() });
                }
            }
            Some(verb) => {
                let verbs: Vec<String> =
                    rule.verbs.iter().filter(|v| *v != verb).cloned().collect();
                if !verbs.is_empty() {
                    out.push(PolicyRule { verbs, ..rule.clone() });
                }
            }
        }
    }
    out
}

/// The (group, resource) pairs of rules.
fn resources(rules: &[PolicyRule]) -> Vec<(String, String)> {
    rules
        .iter()
        .flat_map(|r| {
            let group = r.api_groups.clone().unwrap_or_default().remove(0);
            r.resources.clone().unwrap_or_default().into_iter().map(move |res| (group.clone(), res))
        })
        .collect()
}

/// The sources that need `group/resource`, by the engine's table: cluster-wide, or in a
/// fixed namespace (kube-system's Leases), which the cluster-wide rule is the chart's grant for.
fn sources_needing(group: &str, resource: &str) -> BTreeSet<Source> {
    Source::ALL
        .into_iter()
        .filter(|s| {
            Permission::of(*s).iter().any(|p| {
                matches!(p.scope, Scope::Cluster | Scope::Namespace(_))
                    && p.group == group
                    && p.resource == resource
                    && p.switch.is_none()
            })
        })
        .collect()
}

fn spec() -> CheckSpec {
    CheckSpec { source: None, target: Some("v1.36".parse().unwrap()) }
}

async fn engine_check(client: &kube::Client, policy: Policy) -> TaskStatus {
    let request = CheckRequest { policy, ..CheckRequest::new(spec(), Duration::from_secs(60)) };
    postcheck_engine::check(client.clone(), &request).await
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "needs the control plane and Helm; scripts/test runs it"]
async fn the_chart_installs_and_its_service_account_sees_what_the_admin_sees_and_no_more() {
    let _ = rustls::crypto::aws_lc_rs::default_provider().install_default();
    let cluster = TestCluster::up(UpOptions { version: "1.36".into(), nodes: 3, state_dir: None })
        .await
        .unwrap_or_else(|e| panic!("the test control plane could not start: {e}"));
    let kubeconfig = cluster.kubeconfig_path();
    let admin = cluster.client().await.expect("the admin's client");
    let (helm, kubectl) = (tools::helm(), tools::kubectl());
    let chart = root().join("deploy/helm/postcheck");
    let chart = chart.to_str().unwrap();
    let work = tempfile::tempdir().unwrap();

    // 1. helm install, job mode, everything on: the objects exist.
    run(
        &helm,
        &kubeconfig,
        &[
            "install",
            RELEASE,
            chart,
            "--namespace",
            NAMESPACE,
            "--create-namespace",
            "--set",
            "job.target=v1.36",
            "--set",
            "rbac.helmReleases=true",
            "--set",
            "synthetic.enabled=true",
            "--set",
            "job.resultConfigMap.enabled=true",
        ],
    )
    .await;
    let ns = |kind: &str| format!("{kind} {NAMESPACE}/{FULLNAME}");
    assert!(
        Api::<ServiceAccount>::namespaced(admin.clone(), NAMESPACE)
            .get_opt(FULLNAME)
            .await
            .unwrap()
            .is_some(),
        "{}",
        ns("ServiceAccount")
    );
    let job = Api::<k8s_openapi::api::batch::v1::Job>::namespaced(admin.clone(), NAMESPACE);
    assert!(job.get_opt(FULLNAME).await.unwrap().is_some(), "{}", ns("Job"));
    let cluster_roles = Api::<ClusterRole>::all(admin.clone());
    let role = cluster_roles.get(FULLNAME).await.expect("the chart's ClusterRole");
    assert!(
        Api::<ClusterRoleBinding>::all(admin.clone()).get_opt(FULLNAME).await.unwrap().is_some()
    );
    assert!(
        Api::<Namespace>::all(admin.clone()).get_opt(SYNTHETIC_NAMESPACE).await.unwrap().is_some()
    );
    let synthetic_roles = Api::<Role>::namespaced(admin.clone(), SYNTHETIC_NAMESPACE);
    let synthetic_role = format!("{FULLNAME}-synthetic");
    let synthetic_rules =
        synthetic_roles.get(&synthetic_role).await.expect("the synthetic Role").rules.unwrap();
    assert!(
        Api::<RoleBinding>::namespaced(admin.clone(), SYNTHETIC_NAMESPACE)
            .get_opt(&synthetic_role)
            .await
            .unwrap()
            .is_some()
    );
    let result_name = format!("{FULLNAME}-result");
    let configmaps = Api::<ConfigMap>::namespaced(admin.clone(), NAMESPACE);
    assert!(configmaps.get_opt(&result_name).await.unwrap().is_some());

    // helm install, service mode, in its own namespace beside it: its objects exist.
    let service_ns = "postcheck-service";
    run(&kubectl, &kubeconfig, &["create", "namespace", service_ns]).await;
    let secrets = Api::<Secret>::namespaced(admin.clone(), service_ns);
    for (name, key, value) in [
        ("postcheck-db", "url", "postgres://postcheck@postgres.example:5432/postcheck"),
        (
            "postcheck-key",
            "key",
            "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
        ),
    ] {
        let secret: Secret = serde_json::from_value(serde_json::json!({
            "metadata": {"name": name}, "stringData": {key: value}
        }))
        .unwrap();
        secrets.create(&PostParams::default(), &secret).await.unwrap();
    }
    let service_values = root().join("deploy/helm/postcheck/tests/values/service.yaml");
    run(
        &helm,
        &kubeconfig,
        &[
            "install",
            "svc",
            chart,
            "--namespace",
            service_ns,
            "--values",
            service_values.to_str().unwrap(),
            "--set",
            "service.serviceMonitor.enabled=false",
        ],
    )
    .await;
    let deployment =
        Api::<k8s_openapi::api::apps::v1::Deployment>::namespaced(admin.clone(), service_ns)
            .get("svc-postcheck")
            .await
            .expect("the service's Deployment");
    assert_eq!(deployment.spec.unwrap().replicas, Some(3));
    assert!(
        Api::<k8s_openapi::api::core::v1::Service>::namespaced(admin.clone(), service_ns)
            .get_opt("svc-postcheck")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        cluster_roles.get_opt("svc-postcheck").await.unwrap().is_none(),
        "the service needs no ClusterRole"
    );

    // 2. In-cluster mode: a token of the chart's ServiceAccount, laid out as a pod sees it.
    let token = run(
        &kubectl,
        &kubeconfig,
        &["create", "token", FULLNAME, "--namespace", NAMESPACE, "--duration", "1h"],
    )
    .await;
    let sa_dir = work.path().join("serviceaccount");
    std::fs::create_dir_all(&sa_dir).unwrap();
    std::fs::write(sa_dir.join("token"), token.trim()).unwrap();
    std::fs::write(sa_dir.join("ca.crt"), cluster.ca_pem()).unwrap();
    std::fs::write(sa_dir.join("namespace"), NAMESPACE).unwrap();
    let port = cluster.server_url().rsplit(':').next().unwrap().to_owned();
    let home = work.path().join("home"); // no ~/.kube/config: in-cluster it is
    std::fs::create_dir_all(&home).unwrap();
    let pod_env = [
        ("KUBERNETES_SERVICE_HOST", "127.0.0.1"),
        ("KUBERNETES_SERVICE_PORT", port.as_str()),
        ("POSTCHECK_SERVICE_ACCOUNT_DIR", sa_dir.to_str().unwrap()),
    ];
    let result_target = format!("{NAMESPACE}/{result_name}");
    let in_pod = postcheck(
        &[
            "check",
            "--target",
            "v1.36",
            "-o",
            "json",
            "--synthetic",
            "--synthetic-namespace",
            SYNTHETIC_NAMESPACE,
            "--write-configmap",
            &result_target,
        ],
        &pod_env,
        &home,
    )
    .await;
    let kubeconfig_arg = kubeconfig.to_str().unwrap();
    let as_admin = postcheck(
        &[
            "check",
            "--kubeconfig",
            kubeconfig_arg,
            "--target",
            "v1.36",
            "-o",
            "json",
            "--synthetic",
        ],
        &[],
        &home,
    )
    .await;
    assert!(
        errors(&in_pod.task.status).is_empty(),
        "in-cluster: {:#?}",
        errors(&in_pod.task.status)
    );
    assert_eq!(
        (in_pod.code, in_pod.task.status.phase),
        (as_admin.code, as_admin.task.status.phase),
        "{:#?}",
        in_pod.task.status
    );
    pretty_assertions::assert_eq!(
        comparable(&in_pod.task.status),
        comparable(&as_admin.task.status)
    );
    let synthetic =
        in_pod.task.status.items_status.iter().find(|i| i.name == "synthetic-pod").unwrap();
    assert_eq!(synthetic.phase, ItemPhase::Success, "{synthetic:?}");
    // The document is in the result ConfigMap too.
    let written = configmaps.get(&result_name).await.unwrap().data.unwrap_or_default();
    let written: PostCheckTask = serde_json::from_str(&written["task.json"]).unwrap();
    assert_eq!(written.metadata.uid, in_pod.task.metadata.uid);

    // 3. Minimality: each rule of the ClusterRole removed in turn.
    let sa = ClusterCredentials::Token {
        endpoint: cluster.server_url(),
        ca_pem: Some(cluster.ca_pem()),
        token: token.trim().to_owned(),
    }
    .client()
    .await
    .expect("the ServiceAccount's client");
    let full = engine_check(&sa, Policy::default()).await;
    assert!(errors(&full).is_empty(), "with every rule: {:#?}", errors(&full));
    let rules = role.rules.clone().unwrap();
    let by_name: BTreeMap<&str, _> = catalogue().iter().map(|d| (d.name, d)).collect();
    let mut proven = 0;
    for (group, resource) in resources(&rules) {
        if resource == "secrets" {
            continue; // the Helm part: below
        }
        let mut reduced = role.clone();
        reduced.rules = Some(without(&rules, &group, &resource, None));
        reduced.metadata.managed_fields = None;
        reduced.metadata.resource_version = None;
        cluster_roles.replace(FULLNAME, &PostParams::default(), &reduced).await.unwrap();
        until_allowed(&sa, "list", &group, &resource, None, false).await;
        let status = engine_check(&sa, Policy::default()).await;
        let forbidden = format!("cannot list resource \"{resource}\" in API group \"{group}\"");
        if resource == "nodes" {
            // Without nodes nothing can be judged: the task itself is an Error.
            assert_eq!(status.phase, TaskPhase::Error, "{status:#?}");
            assert!(
                status.message.as_deref().unwrap_or_default().contains(&forbidden),
                "{status:#?}"
            );
        } else {
            let needing = sources_needing(&group, &resource);
            assert!(!needing.is_empty(), "{resource}.{group}: in the chart, needed by no source");
            for (item, before) in status.items_status.iter().zip(&full.items_status) {
                let def = by_name[item.name.as_str()];
                if def.needs.iter().any(|s| needing.contains(s)) {
                    assert_eq!(
                        item.phase,
                        ItemPhase::Error,
                        "{resource}.{group} removed: {item:#?}"
                    );
                    assert!(item.message.contains(&forbidden), "{resource}.{group}: {item:#?}");
                } else {
                    assert_eq!(item.phase, before.phase, "{resource}.{group} removed: {item:#?}");
                }
            }
        }
        let mut restored = role.clone();
        restored.metadata.managed_fields = None;
        restored.metadata.resource_version = None;
        cluster_roles.replace(FULLNAME, &PostParams::default(), &restored).await.unwrap();
        until_allowed(&sa, "list", &group, &resource, None, true).await;
        proven += 1;
    }
    assert!(proven >= 30, "only {proven} rules proven");

    // The synthetic Role: each verb removed makes the synthetic item say so.
    let mut synthetic_policy = Policy::default();
    synthetic_policy.synthetic.enabled = true;
    synthetic_policy.synthetic.namespace = Some(SYNTHETIC_NAMESPACE.into());
    synthetic_policy.checks.only = vec!["synthetic-pod".into()];
    let synthetic_role_object = synthetic_roles.get(&synthetic_role).await.unwrap();
    for verb in ["create", "delete"] {
        let mut reduced = synthetic_role_object.clone();
        reduced.rules = Some(without(&synthetic_rules, "apps", "daemonsets", Some(verb)));
        reduced.metadata.managed_fields = None;
        reduced.metadata.resource_version = None;
        synthetic_roles.replace(&synthetic_role, &PostParams::default(), &reduced).await.unwrap();
        until_allowed(&sa, verb, "apps", "daemonsets", Some(SYNTHETIC_NAMESPACE), false).await;
        let status = engine_check(&sa, synthetic_policy.clone()).await;
        let item = status.items_status.iter().find(|i| i.name == "synthetic-pod").unwrap();
        assert_ne!(item.phase, ItemPhase::Success, "daemonsets {verb} removed: {item:#?}");
        assert!(
            item.message.contains(&format!("cannot {verb} resource \"daemonsets\"")),
            "daemonsets {verb} removed: {item:#?}"
        );
        let mut restored = synthetic_role_object.clone();
        restored.metadata.managed_fields = None;
        restored.metadata.resource_version = None;
        synthetic_roles.replace(&synthetic_role, &PostParams::default(), &restored).await.unwrap();
        until_allowed(&sa, verb, "apps", "daemonsets", Some(SYNTHETIC_NAMESPACE), true).await;
    }
    // Leftovers of the delete-less run are swept by the next one.
    let status = engine_check(&sa, synthetic_policy.clone()).await;
    let item = status.items_status.iter().find(|i| i.name == "synthetic-pod").unwrap();
    assert_eq!(item.phase, ItemPhase::Success, "{item:#?}");

    // 4. Helm releases off (the default): no Secret can be read, and removed-apis says its
    // Helm part could not run; nothing else changes.
    run(
        &helm,
        &kubeconfig,
        &[
            "upgrade",
            RELEASE,
            chart,
            "--namespace",
            NAMESPACE,
            "--reuse-values",
            "--set",
            "rbac.helmReleases=false",
        ],
    )
    .await;
    until_allowed(&sa, "list", "", "secrets", None, false).await;
    for verb in ["get", "list", "watch"] {
        assert!(!allowed(&sa, verb, "", "secrets", None).await, "{verb} secrets");
        assert!(
            !allowed(&sa, verb, "", "secrets", Some(NAMESPACE)).await,
            "{verb} secrets in {NAMESPACE}"
        );
    }
    let status = engine_check(&sa, Policy::default()).await;
    assert!(errors(&status).is_empty(), "{:#?}", errors(&status));
    let removed = status.items_status.iter().find(|i| i.name == "removed-apis").unwrap();
    assert!(removed.message.contains("its Helm part could not run"), "{removed:#?}");
    assert!(removed.message.contains("cannot list resource \"secrets\""), "{removed:#?}");
    for (item, before) in status.items_status.iter().zip(&full.items_status) {
        if item.name != "removed-apis" {
            assert_eq!((&item.name, item.phase), (&before.name, before.phase));
        }
    }

    cluster.down().await.expect("stopping the test control plane");
}
