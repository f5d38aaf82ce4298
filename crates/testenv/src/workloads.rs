//! The realistic starting set every cluster comes up with, and the wait until it is fully
//! available: CoreDNS and kube-proxy in kube-system; in `shop` three Deployments with
//! Services, a StatefulSet with a headless Service, a DaemonSet and a PVC bound by the real
//! PV controller. Pods are simulated by kwok; controllers and the scheduler are real.

use std::time::Duration;

use k8s_openapi::api::apps::v1::{DaemonSet, Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{
    ConfigMap, Namespace, PersistentVolume, PersistentVolumeClaim, Service, ServiceAccount,
};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::api::storage::v1::StorageClass;
use kube::Api;
use kube::api::ListParams;
use serde_json::{Value, json};

use crate::apply::{create_cluster, create_namespaced};
use crate::components::KWOK_NODE_ANNOTATION;
use crate::error::TestEnvError;
use crate::wait::Waiter;

/// The namespace of the sample application.
pub(crate) const SHOP: &str = "shop";
/// The storage class of the statically provisioned volumes (no provisioner).
pub(crate) const STORAGE_CLASS: &str = "local-static";

/// The namespaces whose workloads `up` waits for.
pub(crate) const NAMESPACES: [&str; 2] = ["kube-system", SHOP];

/// Tolerations and affinity that put a pod on kwok's nodes, as kwok's docs say.
pub(crate) fn kwok_placement() -> (Value, Value) {
    let tolerations =
        json!([{ "key": KWOK_NODE_ANNOTATION.0, "operator": "Exists", "effect": "NoSchedule" }]);
    let affinity = json!({ "nodeAffinity": { "requiredDuringSchedulingIgnoredDuringExecution": { "nodeSelectorTerms": [
        { "matchExpressions": [{ "key": "type", "operator": "In", "values": ["kwok"] }] }
    ]}}});
    (tolerations, affinity)
}

/// A pod template running `image` with the given labels, placed on kwok nodes.
pub(crate) fn pod_template(labels: &Value, container: &str, image: &str, port: u16) -> Value {
    let (tolerations, affinity) = kwok_placement();
    json!({
        "metadata": { "labels": labels },
        "spec": {
            "tolerations": tolerations,
            "affinity": affinity,
            "containers": [{
                "name": container,
                "image": image,
                "ports": [{ "containerPort": port, "name": "http" }],
                "resources": { "requests": { "cpu": "10m", "memory": "32Mi" } },
                "readinessProbe": { "httpGet": { "path": "/healthz", "port": port }, "periodSeconds": 10 },
            }],
        },
    })
}

/// A Deployment of `replicas` pods labelled `app=<name>` in `namespace`.
pub(crate) fn deployment(
    namespace: &str,
    name: &str,
    replicas: i32,
    image: &str,
    port: u16,
) -> Value {
    let labels = json!({ "app": name, "app.kubernetes.io/part-of": namespace });
    json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": { "name": name, "namespace": namespace, "labels": labels },
        "spec": {
            "replicas": replicas,
            "selector": { "matchLabels": { "app": name } },
            "template": pod_template(&labels, name, image, port),
        },
    })
}

/// A ClusterIP Service for pods labelled `app=<name>`.
pub(crate) fn service(namespace: &str, name: &str, port: u16) -> Value {
    json!({
        "apiVersion": "v1", "kind": "Service",
        "metadata": { "name": name, "namespace": namespace, "labels": { "app": name } },
        "spec": { "selector": { "app": name }, "ports": [{ "name": "http", "port": port, "targetPort": port }] },
    })
}

fn namespace(name: &str) -> Value {
    json!({ "apiVersion": "v1", "kind": "Namespace", "metadata": { "name": name } })
}

fn service_account(namespace: &str, name: &str) -> Value {
    json!({ "apiVersion": "v1", "kind": "ServiceAccount", "metadata": { "name": name, "namespace": namespace } })
}

/// Creates a namespace and its `default` ServiceAccount (the admission plugin rejects pods
/// until that exists; creating it here saves waiting for the controller).
pub(crate) async fn ensure_namespace(
    client: &kube::Client,
    name: &str,
) -> Result<(), TestEnvError> {
    create_cluster::<Namespace>(client, namespace(name)).await?;
    create_namespaced::<ServiceAccount>(client, service_account(name, "default")).await?;
    Ok(())
}

/// Creates the starting set. `version` is the control plane's, used for kube-proxy's image.
pub(crate) async fn install(client: &kube::Client, version: &str) -> Result<(), TestEnvError> {
    let (tolerations, affinity) = kwok_placement();
    ensure_namespace(client, "kube-system").await?;
    ensure_namespace(client, SHOP).await?;

    // CoreDNS, as kubeadm installs it.
    let dns_labels = json!({ "k8s-app": "kube-dns" });
    let coredns = async {
        create_namespaced::<ServiceAccount>(client, service_account("kube-system", "coredns"))
            .await?;
        create_namespaced::<ConfigMap>(client, json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "coredns", "namespace": "kube-system" },
            "data": { "Corefile": ".:53 {\n    errors\n    health\n    ready\n    kubernetes cluster.local in-addr.arpa ip6.arpa\n    forward . /etc/resolv.conf\n    cache 30\n}\n" },
        }))
        .await?;
        create_namespaced::<Deployment>(client, json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "coredns", "namespace": "kube-system", "labels": dns_labels },
            "spec": {
                "replicas": 2,
                "selector": { "matchLabels": dns_labels },
                "template": {
                    "metadata": { "labels": dns_labels },
                    "spec": {
                        "serviceAccountName": "coredns",
                        "priorityClassName": "system-cluster-critical",
                        "tolerations": tolerations, "affinity": affinity,
                        "containers": [{
                            "name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.1",
                            "args": ["-conf", "/etc/coredns/Corefile"],
                            "ports": [
                                { "containerPort": 53, "name": "dns", "protocol": "UDP" },
                                { "containerPort": 53, "name": "dns-tcp", "protocol": "TCP" },
                                { "containerPort": 9153, "name": "metrics", "protocol": "TCP" },
                            ],
                            "resources": { "requests": { "cpu": "100m", "memory": "70Mi" } },
                        }],
                    },
                },
            },
        }))
        .await?;
        create_namespaced::<Service>(client, json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "kube-dns", "namespace": "kube-system", "labels": { "k8s-app": "kube-dns", "kubernetes.io/name": "CoreDNS" } },
            "spec": {
                "selector": dns_labels, "clusterIP": "10.96.0.10",
                "ports": [
                    { "name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53 },
                    { "name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53 },
                    { "name": "metrics", "port": 9153, "protocol": "TCP", "targetPort": 9153 },
                ],
            },
        }))
        .await?;
        Ok::<_, TestEnvError>(())
    };

    // kube-proxy: one host-network pod per node, tolerating everything.
    let proxy_labels = json!({ "k8s-app": "kube-proxy" });
    let kube_proxy = async {
        create_namespaced::<ServiceAccount>(client, service_account("kube-system", "kube-proxy"))
            .await?;
        create_namespaced::<DaemonSet>(client, json!({
            "apiVersion": "apps/v1", "kind": "DaemonSet",
            "metadata": { "name": "kube-proxy", "namespace": "kube-system", "labels": proxy_labels },
            "spec": {
                "selector": { "matchLabels": proxy_labels },
                "template": {
                    "metadata": { "labels": proxy_labels },
                    "spec": {
                        "serviceAccountName": "kube-proxy",
                        "priorityClassName": "system-node-critical",
                        "hostNetwork": true,
                        "tolerations": [{ "operator": "Exists" }],
                        "affinity": affinity,
                        "containers": [{
                            "name": "kube-proxy", "image": format!("registry.k8s.io/kube-proxy:v{version}"),
                            "command": ["/usr/local/bin/kube-proxy", "--config=/var/lib/kube-proxy/config.conf"],
                            "securityContext": { "privileged": true },
                        }],
                    },
                },
            },
        }))
        .await?;
        Ok::<_, TestEnvError>(())
    };

    // The shop: three Deployments with Services, a StatefulSet, a DaemonSet, a bound PVC.
    let shop = async {
        for (name, replicas, image, port) in [
            ("web", 3, "nginx:1.27", 8080u16),
            ("api", 2, "ghcr.io/example/shop-api:2.4.1", 8080),
            ("worker", 2, "ghcr.io/example/shop-worker:2.4.1", 9090),
        ] {
            create_namespaced::<Deployment>(client, deployment(SHOP, name, replicas, image, port))
                .await?;
            create_namespaced::<Service>(client, service(SHOP, name, port)).await?;
        }
        let db_labels = json!({ "app": "db", "app.kubernetes.io/part-of": SHOP });
        create_namespaced::<Service>(client, json!({
            "apiVersion": "v1", "kind": "Service",
            "metadata": { "name": "db", "namespace": SHOP, "labels": { "app": "db" } },
            "spec": { "clusterIP": "None", "selector": { "app": "db" }, "ports": [{ "name": "pg", "port": 5432 }] },
        }))
        .await?;
        create_namespaced::<StatefulSet>(
            client,
            json!({
                "apiVersion": "apps/v1", "kind": "StatefulSet",
                "metadata": { "name": "db", "namespace": SHOP, "labels": db_labels },
                "spec": {
                    "serviceName": "db", "replicas": 2, "podManagementPolicy": "Parallel",
                    "selector": { "matchLabels": { "app": "db" } },
                    "template": pod_template(&db_labels, "postgres", "postgres:16", 5432),
                },
            }),
        )
        .await?;
        let agent_labels = json!({ "app": "log-agent" });
        let mut agent_template =
            pod_template(&agent_labels, "log-agent", "fluent/fluent-bit:3.1", 2020);
        agent_template["spec"]["tolerations"] = json!([{ "operator": "Exists" }]);
        create_namespaced::<DaemonSet>(
            client,
            json!({
                "apiVersion": "apps/v1", "kind": "DaemonSet",
                "metadata": { "name": "log-agent", "namespace": SHOP, "labels": agent_labels },
                "spec": { "selector": { "matchLabels": agent_labels }, "template": agent_template },
            }),
        )
        .await?;
        create_cluster::<StorageClass>(
            client,
            json!({
                "apiVersion": "storage.k8s.io/v1", "kind": "StorageClass",
                "metadata": { "name": STORAGE_CLASS },
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain",
            }),
        )
        .await?;
        create_cluster::<PersistentVolume>(
            client,
            json!({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": { "name": "shop-uploads" },
                "spec": {
                    "capacity": { "storage": "10Gi" }, "accessModes": ["ReadWriteOnce"],
                    "storageClassName": STORAGE_CLASS, "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": { "path": "/var/lib/shop/uploads", "type": "DirectoryOrCreate" },
                },
            }),
        )
        .await?;
        create_namespaced::<PersistentVolumeClaim>(client, json!({
            "apiVersion": "v1", "kind": "PersistentVolumeClaim",
            "metadata": { "name": "uploads", "namespace": SHOP },
            "spec": { "accessModes": ["ReadWriteOnce"], "storageClassName": STORAGE_CLASS, "resources": { "requests": { "storage": "5Gi" } } },
        }))
        .await?;
        Ok::<_, TestEnvError>(())
    };

    futures::try_join!(coredns, kube_proxy, shop)?;
    Ok(())
}

/// Waits until every Deployment, DaemonSet and StatefulSet of the starting set is fully
/// available, every Service with a selector has a ready endpoint, and the PVC is Bound.
pub(crate) async fn wait_available(
    client: &kube::Client,
    nodes: usize,
    timeout: Duration,
) -> Result<(), TestEnvError> {
    let waiter = Waiter::new(
        "the starting workloads to become available",
        timeout,
        Duration::from_millis(500),
    );
    loop {
        let pending = not_available(client, nodes).await?;
        if pending.is_empty() {
            return Ok(());
        }
        tracing::debug!(elapsed = ?waiter.elapsed(), "waiting for {}", pending.join("; "));
        waiter.tick(pending.join("; ")).await?;
    }
}

/// What of the starting set is not available yet (empty when all is).
pub(crate) async fn not_available(
    client: &kube::Client,
    nodes: usize,
) -> Result<Vec<String>, TestEnvError> {
    let mut pending = Vec::new();
    let listed = crate::nodes::list(client).await?;
    let ready = listed.iter().filter(|n| crate::nodes::is_ready(n)).count();
    if listed.len() < nodes || ready < nodes {
        pending.push(format!("{ready} of {nodes} nodes Ready"));
    }
    for ns in NAMESPACES {
        let deployments: Api<Deployment> = Api::namespaced(client.clone(), ns);
        for d in deployments
            .list(&ListParams::default())
            .await
            .map_err(TestEnvError::kube(format!("listing Deployments in {ns}")))?
        {
            let want = d.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let status = d.status.clone().unwrap_or_default();
            let fresh = status.observed_generation == d.metadata.generation;
            if !fresh
                || status.available_replicas.unwrap_or(0) < want
                || status.updated_replicas.unwrap_or(0) < want
            {
                pending.push(format!(
                    "Deployment {ns}/{} {}/{} available",
                    name(&d.metadata),
                    status.available_replicas.unwrap_or(0),
                    want
                ));
            }
        }
        let statefulsets: Api<StatefulSet> = Api::namespaced(client.clone(), ns);
        for s in statefulsets
            .list(&ListParams::default())
            .await
            .map_err(TestEnvError::kube(format!("listing StatefulSets in {ns}")))?
        {
            let want = s.spec.as_ref().and_then(|s| s.replicas).unwrap_or(1);
            let status = s.status.clone().unwrap_or_default();
            if status.available_replicas.unwrap_or(0) < want
                || status.ready_replicas.unwrap_or(0) < want
            {
                pending.push(format!(
                    "StatefulSet {ns}/{} {}/{} ready",
                    name(&s.metadata),
                    status.ready_replicas.unwrap_or(0),
                    want
                ));
            }
        }
        let daemonsets: Api<DaemonSet> = Api::namespaced(client.clone(), ns);
        for d in daemonsets
            .list(&ListParams::default())
            .await
            .map_err(TestEnvError::kube(format!("listing DaemonSets in {ns}")))?
        {
            let status = d.status.clone().unwrap_or_default();
            let desired = status.desired_number_scheduled;
            if (desired as usize) < nodes
                || status.number_available.unwrap_or(0) < desired
                || status.number_ready < desired
            {
                pending.push(format!(
                    "DaemonSet {ns}/{} {}/{} available on {nodes} nodes",
                    name(&d.metadata),
                    status.number_available.unwrap_or(0),
                    desired
                ));
            }
        }
        let services: Api<Service> = Api::namespaced(client.clone(), ns);
        let slices: Api<EndpointSlice> = Api::namespaced(client.clone(), ns);
        let slices = slices
            .list(&ListParams::default())
            .await
            .map_err(TestEnvError::kube(format!("listing EndpointSlices in {ns}")))?;
        for s in services
            .list(&ListParams::default())
            .await
            .map_err(TestEnvError::kube(format!("listing Services in {ns}")))?
        {
            if s.spec.as_ref().and_then(|s| s.selector.as_ref()).is_none_or(|sel| sel.is_empty()) {
                continue;
            }
            let svc = name(&s.metadata);
            if ready_endpoints(&slices.items, &svc) == 0 {
                pending.push(format!("Service {ns}/{svc} has no ready endpoint"));
            }
        }
    }
    let pvcs: Api<PersistentVolumeClaim> = Api::namespaced(client.clone(), SHOP);
    for p in pvcs
        .list(&ListParams::default())
        .await
        .map_err(TestEnvError::kube("listing PVCs in shop"))?
    {
        let phase = p.status.as_ref().and_then(|s| s.phase.clone()).unwrap_or_default();
        if phase != "Bound" {
            pending.push(format!("PVC {SHOP}/{} is {phase:?}", name(&p.metadata)));
        }
    }
    Ok(pending)
}

/// How many ready endpoints the EndpointSlices of a Service hold.
pub(crate) fn ready_endpoints(slices: &[EndpointSlice], service: &str) -> usize {
    slices
        .iter()
        .filter(|s| {
            s.metadata
                .labels
                .as_ref()
                .and_then(|l| l.get("kubernetes.io/service-name"))
                .is_some_and(|n| n == service)
        })
        .flat_map(|s| s.endpoints.iter().flatten())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false))
        .count()
}

fn name(meta: &kube::api::ObjectMeta) -> String {
    meta.name.clone().unwrap_or_default()
}
