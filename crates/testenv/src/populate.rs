//! The scale generator behind `testcluster populate` and the benchmarks: thousands of kwok
//! nodes and tens of thousands of pods of realistic size (labels, owner references, two or
//! three containers, conditions from kwok, managedFields as the API server writes them),
//! created concurrently with a bound on the requests in flight.
//!
//! Why the order below: creating 30,000 pods through the real ReplicaSet controller and
//! scheduler takes far too long on two cores, so the generator creates the pods itself,
//! bound to their nodes (`spec.nodeName`) and owned by their ReplicaSet from the start (no
//! adoption: 30,000 ownership patches by the controller-manager take many minutes). For the
//! moment between a ReplicaSet's creation and its pods', a ValidatingAdmissionPolicy (CEL,
//! inside the API server: no webhook, nothing dialled) stops the ReplicaSet controller from
//! creating the pods itself:
//! 1. the policy, denying pod creation to the ReplicaSet controller for generated pods;
//! 2. the ReplicaSets (`<deployment>-<hash>`, `replicas` as planned);
//! 3. the pods, with the ReplicaSet as controller owner and its `pod-template-hash` label;
//! 4. the Deployments, whose controller adopts the ReplicaSet (same template but the hash);
//! 5. Services selecting the Deployments' pods (the real EndpointSlice controller fills them);
//! 6. the policy removed, and once all is settled, the `FailedCreate` events it caused.
//!
//! The cluster then stays as it is: every controller sees what it wants.

use std::time::{Duration, Instant};

use futures::{StreamExt, TryStreamExt};
use std::collections::BTreeMap;

use k8s_openapi::api::admissionregistration::v1::{
    ValidatingAdmissionPolicy, ValidatingAdmissionPolicyBinding,
};
use k8s_openapi::api::apps::v1::{Deployment, ReplicaSet};
use k8s_openapi::api::core::v1::{Event, Pod, Service};
use kube::Api;
use kube::api::{DeleteParams, ListParams, PostParams};
use serde_json::{Value, json};

use crate::apply::create_cluster;
use crate::error::TestEnvError;
use crate::nodes;
use crate::wait::{Look, poll_until};
use crate::workloads::{ensure_namespace, kwok_placement};

/// The label every object the generator creates carries (`postcheck.dev/populate=true`).
pub const POPULATE_LABEL: (&str, &str) = ("postcheck.dev/populate", "true");

/// How many objects of what to create.
#[derive(Debug, Clone)]
pub struct PopulateOptions {
    /// Total kwok nodes wanted (`kwok-node-0..N-1`; existing ones are kept).
    pub nodes: usize,
    /// Pods to create, spread over the Deployments.
    pub pods: usize,
    /// Deployments (each with one ReplicaSet owning its share of the pods).
    pub deployments: usize,
    /// Services, each selecting one Deployment's pods.
    pub services: usize,
    /// Namespaces the workloads are spread over (`scale-0..K-1`).
    pub namespaces: usize,
    /// Requests in flight at most.
    pub parallel: usize,
    /// How long to wait for every pod to be Ready and adopted.
    pub ready_timeout: Duration,
}

/// What `populate` did and how long each step took.
#[derive(Debug, Clone, serde::Serialize)]
pub struct PopulateReport {
    /// Nodes in the cluster after populating.
    pub nodes: usize,
    /// Pods created.
    pub pods: usize,
    /// Deployments (and ReplicaSets) created.
    pub deployments: usize,
    /// Services created.
    pub services: usize,
    /// Seconds to create the nodes.
    pub nodes_seconds: f64,
    /// Seconds to create the pods.
    pub pods_seconds: f64,
    /// Seconds to create the ReplicaSets, Deployments and Services (and hold, release).
    pub workloads_seconds: f64,
    /// Seconds until every pod was Running, Ready and owned by its ReplicaSet.
    pub settle_seconds: f64,
    /// Seconds in all.
    pub total_seconds: f64,
}

/// One Deployment of the plan: where it lives and how many pods it has.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Workload {
    /// Its namespace.
    pub namespace: String,
    /// The Deployment's name.
    pub name: String,
    /// Its ReplicaSet's `pod-template-hash`.
    pub hash: String,
    /// Its replicas (and so its pods).
    pub replicas: usize,
    /// Containers per pod (2 or 3).
    pub containers: usize,
}

impl Workload {
    /// The ReplicaSet's name, `<deployment>-<hash>`, as the Deployment controller names it.
    pub(crate) fn replica_set(&self) -> String {
        format!("{}-{}", self.name, self.hash)
    }
}

/// Spreads `pods` over `deployments` Deployments in `namespaces` namespaces; the first
/// `pods % deployments` get one pod more. Every third Deployment runs three containers.
pub(crate) fn plan(pods: usize, deployments: usize, namespaces: usize) -> Vec<Workload> {
    let deployments = deployments.max(1);
    let namespaces = namespaces.max(1);
    (0..deployments)
        .map(|i| {
            let name = format!("app-{i}");
            Workload {
                namespace: format!("scale-{}", i % namespaces),
                hash: template_hash(&name),
                name,
                replicas: pods / deployments + usize::from(i < pods % deployments),
                containers: if i % 3 == 2 { 3 } else { 2 },
            }
        })
        .collect()
}

/// The characters Kubernetes uses for generated names (`rand.SafeEncodeString`).
const SAFE: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// A stable 10-character hash-like suffix for `seed` (FNV-1a encoded as Kubernetes does).
fn template_hash(seed: &str) -> String {
    suffix(seed, 10)
}

fn suffix(seed: &str, len: usize) -> String {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in seed.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (0..len)
        .map(|_| {
            let c = SAFE[(h % SAFE.len() as u64) as usize] as char;
            h = (h / SAFE.len() as u64) ^ h.rotate_left(17);
            c
        })
        .collect()
}

/// The labels of a workload's pods (without the hash).
fn labels(w: &Workload) -> Value {
    json!({
        "app": w.name,
        "app.kubernetes.io/name": w.name,
        "app.kubernetes.io/part-of": w.namespace,
        "app.kubernetes.io/version": "2.14.1",
        "tier": if w.containers == 3 { "backend" } else { "frontend" },
        POPULATE_LABEL.0: POPULATE_LABEL.1,
    })
}

/// The pod template shared by the Deployment, its ReplicaSet (plus the hash) and its pods.
pub(crate) fn pod_template(w: &Workload, with_hash: bool) -> Value {
    let (tolerations, affinity) = kwok_placement();
    let mut labels = labels(w);
    if with_hash {
        labels["pod-template-hash"] = json!(w.hash);
    }
    let mut containers = vec![
        json!({
            "name": "app",
            "image": format!("swr.ap-southeast-1.myhuaweicloud.com/shop/{}:2.14.1", w.name),
            "ports": [{ "containerPort": 8080, "name": "http" }, { "containerPort": 9090, "name": "metrics" }],
            "env": [
                { "name": "APP_ENV", "value": "production" },
                { "name": "LOG_LEVEL", "value": "info" },
                { "name": "POD_NAME", "valueFrom": { "fieldRef": { "fieldPath": "metadata.name" } } },
                { "name": "POD_IP", "valueFrom": { "fieldRef": { "fieldPath": "status.podIP" } } },
            ],
            "resources": {
                "requests": { "cpu": "100m", "memory": "128Mi" },
                "limits": { "cpu": "500m", "memory": "512Mi" },
            },
            "readinessProbe": { "httpGet": { "path": "/healthz", "port": 8080 }, "periodSeconds": 10 },
            "livenessProbe": { "httpGet": { "path": "/livez", "port": 8080 }, "periodSeconds": 20 },
            "volumeMounts": [{ "name": "config", "mountPath": "/etc/app" }],
        }),
        json!({
            "name": "log-shipper",
            "image": "swr.ap-southeast-1.myhuaweicloud.com/infra/fluent-bit:3.1.9",
            "args": ["--config=/fluent-bit/etc/fluent-bit.conf"],
            "resources": { "requests": { "cpu": "10m", "memory": "32Mi" }, "limits": { "memory": "64Mi" } },
            "volumeMounts": [{ "name": "varlog", "mountPath": "/var/log" }],
        }),
    ];
    if w.containers == 3 {
        containers.push(json!({
            "name": "istio-proxy",
            "image": "swr.ap-southeast-1.myhuaweicloud.com/istio/proxyv2:1.23.2",
            "args": ["proxy", "sidecar", "--domain", "$(POD_NAMESPACE).svc.cluster.local"],
            "env": [{ "name": "POD_NAMESPACE", "valueFrom": { "fieldRef": { "fieldPath": "metadata.namespace" } } }],
            "ports": [{ "containerPort": 15090, "name": "http-envoy-prom" }],
            "resources": { "requests": { "cpu": "50m", "memory": "64Mi" }, "limits": { "cpu": "1", "memory": "1Gi" } },
        }));
    }
    json!({
        "metadata": {
            "labels": labels,
            "annotations": { "prometheus.io/scrape": "true", "prometheus.io/port": "9090" },
        },
        "spec": {
            "tolerations": tolerations,
            "affinity": affinity,
            "containers": containers,
            "volumes": [
                { "name": "config", "configMap": { "name": "app-config", "optional": true } },
                { "name": "varlog", "emptyDir": {} },
            ],
        },
    })
}

/// The `index`th pod of `w`, bound to `node`, owned by its ReplicaSet (whose uid is `rs_uid`).
pub(crate) fn pod_manifest(w: &Workload, index: usize, node: &str, rs_uid: &str) -> Value {
    let mut pod = pod_template(w, true);
    pod["metadata"]["ownerReferences"] = json!([{
        "apiVersion": "apps/v1", "kind": "ReplicaSet", "name": w.replica_set(), "uid": rs_uid,
        "controller": true, "blockOwnerDeletion": true,
    }]);
    pod["apiVersion"] = json!("v1");
    pod["kind"] = json!("Pod");
    pod["metadata"]["name"] =
        json!(format!("{}-{}", w.replica_set(), suffix(&format!("{}/{index}", w.name), 5)));
    pod["metadata"]["namespace"] = json!(w.namespace);
    pod["spec"]["nodeName"] = json!(node);
    pod
}

fn replica_set_manifest(w: &Workload) -> Value {
    let mut selector = json!({ "app": w.name });
    selector["pod-template-hash"] = json!(w.hash);
    let mut labels = labels(w);
    labels["pod-template-hash"] = json!(w.hash);
    json!({
        "apiVersion": "apps/v1", "kind": "ReplicaSet",
        "metadata": {
            "name": w.replica_set(), "namespace": w.namespace, "labels": labels,
            "annotations": { "deployment.kubernetes.io/desired-replicas": w.replicas.to_string(),
                             "deployment.kubernetes.io/max-replicas": (w.replicas + w.replicas.div_ceil(4)).to_string(),
                             "deployment.kubernetes.io/revision": "1" },
        },
        "spec": { "replicas": w.replicas, "selector": { "matchLabels": selector }, "template": pod_template(w, true) },
    })
}

fn deployment_manifest(w: &Workload) -> Value {
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": w.name, "namespace": w.namespace, "labels": labels(w) },
        "spec": { "replicas": w.replicas, "selector": { "matchLabels": { "app": w.name } }, "template": pod_template(w, false) },
    })
}

fn service_manifest(w: &Workload, index: usize) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": format!("svc-{index}"), "namespace": w.namespace,
                      "labels": { "app": w.name, POPULATE_LABEL.0: POPULATE_LABEL.1 } },
        "spec": { "selector": { "app": w.name }, "ports": [
            { "name": "http", "port": 80, "targetPort": 8080 },
            { "name": "metrics", "port": 9090, "targetPort": 9090 },
        ] },
    })
}

/// Creates `manifests` as `K`s with at most `parallel` requests in flight; an object that
/// already exists counts as created, so populating again resumes.
///
/// Each manifest is sent as its JSON bytes, and the answer (the created object, managedFields
/// and all) is not decoded: at thousands of pods a second the client's own serde work
/// competes with the API server for the same cores.
async fn create_all<K>(
    client: &kube::Client,
    manifests: impl Iterator<Item = Value>,
    parallel: usize,
) -> Result<usize, TestEnvError>
where
    K: kube::Resource<Scope = k8s_openapi::NamespaceResourceScope, DynamicType = ()>,
{
    futures::stream::iter(manifests)
        .map(|manifest| async move {
            let namespace = manifest["metadata"]["namespace"].as_str().unwrap_or("default");
            let name = manifest["metadata"]["name"].as_str().unwrap_or_default();
            let what = format!("creating {} {namespace}/{name}", K::kind(&()));
            let body = serde_json::to_vec(&manifest)
                .map_err(|e| TestEnvError::Invalid(format!("{what}: {e}")))?;
            let request = http::Request::post(format!(
                "{}?fieldManager=testcluster-populate",
                K::url_path(&(), Some(namespace))
            ))
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(body)
            .map_err(|e| TestEnvError::Invalid(format!("{what}: {e}")))?;
            match client.request_text(request).await {
                Ok(_) => Ok(()),
                Err(kube::Error::Api(e)) if e.code == 409 => Ok(()),
                Err(e) => Err(TestEnvError::kube(what)(e)),
            }
        })
        .buffer_unordered(parallel.max(1))
        .try_fold(0, |n, ()| async move { Ok(n + 1) })
        .await
}

/// At most this many Services are created at once, whatever `parallel` says: each one
/// allocates its ClusterIP as an IPAddress object (a second etcd transaction), and at 128 in
/// flight on a loaded 2,000-node API server those transactions passed etcd's deadline (504s,
/// then the client's requests failed; `bench/results/NOTES.md`).
const SERVICES_IN_FLIGHT: usize = 8;

/// The name of the admission policy that holds the ReplicaSet controller back.
const HOLD_POLICY: &str = "postcheck-populate-hold";
/// The identity of the ReplicaSet controller (the controller-manager uses one per controller).
const REPLICASET_CONTROLLER: &str = "system:serviceaccount:kube-system:replicaset-controller";

/// Denies the ReplicaSet controller the creation of generated pods, until [`release_hold`].
async fn hold_replica_set_controller(client: &kube::Client) -> Result<(), TestEnvError> {
    create_cluster::<ValidatingAdmissionPolicy>(client, json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
        "metadata": { "name": HOLD_POLICY },
        "spec": {
            "failurePolicy": "Fail",
            "matchConstraints": {
                "resourceRules": [{ "apiGroups": [""], "apiVersions": ["v1"], "operations": ["CREATE"], "resources": ["pods"] }],
                "objectSelector": { "matchLabels": { POPULATE_LABEL.0: POPULATE_LABEL.1 } },
            },
            "validations": [{
                "expression": format!("request.userInfo.username != '{REPLICASET_CONTROLLER}'"),
                "message": "testcluster populate creates these pods itself",
            }],
        },
    }))
    .await?;
    create_cluster::<ValidatingAdmissionPolicyBinding>(client, json!({
        "apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding",
        "metadata": { "name": HOLD_POLICY },
        "spec": { "policyName": HOLD_POLICY, "validationActions": ["Deny"] },
    }))
    .await?;
    // The API server's admission picks new policies up from its informers.
    tokio::time::sleep(Duration::from_secs(3)).await;
    Ok(())
}

/// Removes the hold.
async fn release_hold(client: &kube::Client) -> Result<(), TestEnvError> {
    let gone = |r: Result<_, kube::Error>, what: &str| match r {
        Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
        Err(e) => Err(TestEnvError::kube(what.to_string())(e)),
    };
    gone(
        Api::<ValidatingAdmissionPolicyBinding>::all(client.clone())
            .delete(HOLD_POLICY, &DeleteParams::default())
            .await
            .map(|_| ()),
        "deleting the hold's policy binding",
    )?;
    gone(
        Api::<ValidatingAdmissionPolicy>::all(client.clone())
            .delete(HOLD_POLICY, &DeleteParams::default())
            .await
            .map(|_| ()),
        "deleting the hold's policy",
    )
}

/// Deletes the `FailedCreate` events the hold caused (on the generated ReplicaSets), one
/// by one: they would otherwise be Warning events for an hour.
async fn delete_hold_events(client: &kube::Client, parallel: usize) -> Result<usize, TestEnvError> {
    let all: Api<Event> = Api::all(client.clone());
    let events = all
        .list(&ListParams::default().fields("reason=FailedCreate,involvedObject.kind=ReplicaSet"))
        .await
        .map_err(TestEnvError::kube("listing the FailedCreate events"))?;
    let ours: Vec<(String, String)> = events
        .items
        .into_iter()
        .filter(|e| e.message.as_deref().is_some_and(|m| m.contains(HOLD_POLICY)))
        .filter_map(|e| Some((e.metadata.namespace?, e.metadata.name?)))
        .collect();
    futures::stream::iter(&ours)
        .map(|(ns, name)| async move {
            match Api::<Event>::namespaced(client.clone(), ns)
                .delete(name, &DeleteParams::default())
                .await
            {
                Ok(_) | Err(kube::Error::Api(_)) => Ok(()),
                Err(e) => Err(TestEnvError::kube(format!("deleting the event {ns}/{name}"))(e)),
            }
        })
        .buffer_unordered(parallel.max(1))
        .try_collect::<Vec<()>>()
        .await?;
    Ok(ours.len())
}

/// Creates the ReplicaSets of `plan` (at most `parallel` at once) and returns their uids.
async fn create_replica_sets(
    client: &kube::Client,
    plan: &[Workload],
    parallel: usize,
) -> Result<BTreeMap<(String, String), String>, TestEnvError> {
    futures::stream::iter(plan)
        .map(|w| async move {
            let api: Api<ReplicaSet> = Api::namespaced(client.clone(), &w.namespace);
            let what = format!("creating ReplicaSet {}/{}", w.namespace, w.replica_set());
            let rs: ReplicaSet = serde_json::from_value(replica_set_manifest(w))
                .map_err(|e| TestEnvError::Invalid(format!("{what}: {e}")))?;
            let created = match api.create(&PostParams::default(), &rs).await {
                Ok(rs) => rs,
                Err(kube::Error::Api(e)) if e.code == 409 => {
                    api.get(&w.replica_set()).await.map_err(TestEnvError::kube(what.clone()))?
                }
                Err(e) => return Err(TestEnvError::kube(what)(e)),
            };
            let uid = created.metadata.uid.unwrap_or_default();
            Ok(((w.namespace.clone(), w.replica_set()), uid))
        })
        .buffer_unordered(parallel.max(1))
        .try_collect()
        .await
}

/// Populates the cluster reached by `client` (whose nodes report `version`) per `opts`,
/// and waits until every generated pod is Running, Ready and owned by its ReplicaSet.
pub async fn populate(
    client: &kube::Client,
    version: &str,
    opts: &PopulateOptions,
) -> Result<PopulateReport, TestEnvError> {
    if opts.nodes == 0 {
        return Err(TestEnvError::Invalid("populate needs at least one node".into()));
    }
    let started = Instant::now();
    nodes::create(client, opts.nodes, version).await?;
    let nodes_seconds = started.elapsed().as_secs_f64();
    tracing::info!(nodes = opts.nodes, seconds = nodes_seconds, "populate: nodes created");

    let plan = plan(opts.pods, opts.deployments, opts.namespaces);
    let namespaces: Vec<String> =
        (0..opts.namespaces.max(1).min(plan.len())).map(|ns| format!("scale-{ns}")).collect();
    for ns in &namespaces {
        ensure_namespace(client, ns).await?;
    }

    // 1-2. The hold, then the ReplicaSets.
    let workloads_started = Instant::now();
    hold_replica_set_controller(client).await?;
    let uids = create_replica_sets(client, &plan, opts.parallel).await?;

    // 3. The pods, round robin over the nodes, owned by their ReplicaSet.
    let pods_started = Instant::now();
    let node_count = opts.nodes;
    let pods = plan.iter().flat_map(|w| (0..w.replicas).map(move |i| (w, i))).enumerate().map(
        |(n, (w, i))| {
            let uid = uids
                .get(&(w.namespace.clone(), w.replica_set()))
                .map(String::as_str)
                .unwrap_or_default();
            pod_manifest(w, i, &nodes::node_name(n % node_count), uid)
        },
    );
    let created = create_all::<Pod>(client, pods, opts.parallel).await;
    let pods_seconds = pods_started.elapsed().as_secs_f64();
    if let Err(e) = created {
        let _ = release_hold(client).await;
        return Err(e);
    }
    let pods = opts.pods;
    tracing::info!(pods, seconds = pods_seconds, "populate: pods created");

    // 4-6. The Deployments and Services, then the hold goes.
    let deployments =
        create_all::<Deployment>(client, plan.iter().map(deployment_manifest), opts.parallel)
            .await?;
    let services = create_all::<Service>(
        client,
        (0..opts.services).map(|j| service_manifest(&plan[j % plan.len()], j)),
        opts.parallel.min(SERVICES_IN_FLIGHT),
    )
    .await?;
    release_hold(client).await?;
    let workloads_seconds = workloads_started.elapsed().as_secs_f64() - pods_seconds;
    tracing::info!(
        deployments,
        services,
        seconds = workloads_seconds,
        "populate: workloads created"
    );

    let settle_started = Instant::now();
    wait_settled(client, opts.pods, opts.ready_timeout).await?;
    let deleted = delete_hold_events(client, opts.parallel).await?;
    tracing::info!(deleted, "populate: the hold's FailedCreate events deleted");
    let settle_seconds = settle_started.elapsed().as_secs_f64();
    Ok(PopulateReport {
        nodes: opts.nodes,
        pods,
        deployments,
        services,
        nodes_seconds,
        pods_seconds,
        workloads_seconds,
        settle_seconds,
        total_seconds: started.elapsed().as_secs_f64(),
    })
}

/// Counts of the generated pods in each state that matters.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
struct Census {
    total: usize,
    ready: usize,
    owned: usize,
}

async fn census(client: &kube::Client) -> Result<Census, TestEnvError> {
    let api: Api<Pod> = Api::all(client.clone());
    let mut census = Census::default();
    let mut token: Option<String> = None;
    loop {
        let mut params = ListParams::default()
            .labels(&format!("{}={}", POPULATE_LABEL.0, POPULATE_LABEL.1))
            .limit(500);
        if let Some(t) = &token {
            params = params.continue_token(t);
        }
        let page =
            api.list(&params).await.map_err(TestEnvError::kube("listing the generated pods"))?;
        for pod in &page.items {
            census.total += 1;
            let ready = pod
                .status
                .as_ref()
                .and_then(|s| s.conditions.as_ref())
                .is_some_and(|c| c.iter().any(|c| c.type_ == "Ready" && c.status == "True"));
            census.ready += usize::from(ready);
            let owned = pod.metadata.owner_references.as_ref().is_some_and(|o| {
                o.iter().any(|o| o.kind == "ReplicaSet" && o.controller == Some(true))
            });
            census.owned += usize::from(owned);
        }
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok(census),
        }
    }
}

/// Waits until exactly `pods` generated pods exist, all Ready and owned by a ReplicaSet
/// (a different count means the ReplicaSet controller created or deleted some).
async fn wait_settled(
    client: &kube::Client,
    pods: usize,
    timeout: Duration,
) -> Result<(), TestEnvError> {
    poll_until(
        format!("{pods} generated pods Ready and adopted"),
        timeout,
        Duration::from_secs(10),
        async || {
            let c = census(client).await?;
            tracing::info!(total = c.total, ready = c.ready, owned = c.owned, "populate: settling");
            if c.total == pods && c.ready == pods && c.owned == pods {
                return Ok(Look::Done(()));
            }
            Ok(Look::waiting(format!(
                "{} pods, {} Ready, {} owned by their ReplicaSet",
                c.total, c.ready, c.owned
            )))
        },
    )
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_the_pods_over_the_deployments_without_losing_one() {
        let plan = plan(1_001, 10, 3);
        assert_eq!(plan.iter().map(|w| w.replicas).sum::<usize>(), 1_001);
        assert_eq!(plan[0].replicas, 101);
        assert_eq!(plan[9].replicas, 100);
        assert_eq!(plan[4].namespace, "scale-1");
        assert!(plan.iter().all(|w| w.containers == 2 || w.containers == 3));
        let names: std::collections::BTreeSet<_> = plan.iter().map(|w| w.replica_set()).collect();
        assert_eq!(names.len(), 10, "ReplicaSet names must be distinct");
    }

    #[test]
    fn a_pod_matches_its_replica_set_and_differs_from_the_deployment_only_by_the_hash() {
        let w = &plan(30, 3, 1)[2];
        let pod = pod_manifest(w, 7, "kwok-node-4", "uid-of-the-rs");
        let rs = replica_set_manifest(w);
        for (key, value) in rs["spec"]["selector"]["matchLabels"].as_object().unwrap() {
            assert_eq!(&pod["metadata"]["labels"][key], value, "selector label {key}");
        }
        assert_eq!(pod["spec"]["containers"].as_array().unwrap().len(), 3);
        assert_eq!(pod["spec"]["nodeName"], "kwok-node-4");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["uid"], "uid-of-the-rs");
        assert_eq!(pod["metadata"]["ownerReferences"][0]["name"], json!(w.replica_set()));
        let mut deployment_template = deployment_manifest(w)["spec"]["template"].clone();
        deployment_template["metadata"]["labels"]["pod-template-hash"] = json!(w.hash);
        assert_eq!(deployment_template, rs["spec"]["template"]);
        assert!(pod["metadata"]["name"].as_str().unwrap().starts_with(&w.replica_set()));
        let _: Pod = serde_json::from_value(pod).expect("the pod manifest is a valid Pod");
    }

    #[test]
    fn generated_suffixes_look_like_kubernetes_names() {
        let h = template_hash("app-12");
        assert_eq!(h.len(), 10);
        assert!(h.bytes().all(|b| SAFE.contains(&b)));
        assert_ne!(h, template_hash("app-13"));
    }
}
