//! Gathering: one concurrent, paginated pass over the API into a [`Snapshot`].
//!
//! Only the gatherer talks to the API. Each source is read concurrently with the others;
//! lists are read in pages ([`crate::list`]) and every page is decoded, through the few
//! fields of [`crate::wire`] the checks read, into the Snapshot's compact structs and then
//! dropped, so memory stays small on big clusters. A source that is forbidden (403), absent
//! (404) or otherwise unreadable is recorded as [`Gathered::Unavailable`] and only the
//! checks that need it say they could not run. The pass as a whole fails ([`GatherError`]) only when the cluster itself
//! cannot be examined: `/version` or the node list cannot be reached, the credentials are
//! rejected (401), the node list is forbidden (403: nothing about nodes could be judged,
//! and a Success then would be a silent miss), or the deadline passes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use k8s_openapi::api::coordination::v1::Lease as K8sLease;
use k8s_openapi::api::core::v1::{Node as K8sNode, Pod as K8sPod};

use crate::list::{ListRequest, list_all, send};
use crate::snapshot::{
    Condition, Container, Gathered, HealthCheck, Lease, Node, Owner, Pod, Snapshot, Source, Taint,
    Unavailable,
};
use crate::wire;

/// Why the cluster could not be examined at all.
#[derive(Debug, thiserror::Error)]
pub enum GatherError {
    /// The API server could not be reached (connection refused, DNS, TLS).
    #[error("the API server could not be reached while {what}: {reason}")]
    Unreachable {
        /// What was being read.
        what: &'static str,
        /// The cause and its causes, one after the other.
        reason: String,
    },
    /// The API server answered 401: the token or certificate is not accepted.
    #[error("the API server rejected the credentials (401 Unauthorized) while {what}: {message}")]
    CredentialsRejected {
        /// What was being read.
        what: &'static str,
        /// The API server's message.
        message: String,
    },
    /// The credentials may not read what every node check needs (403 on the node list).
    #[error(
        "the credentials are not allowed to examine the cluster (403 Forbidden while {what}): {message}"
    )]
    Forbidden {
        /// What was being read.
        what: &'static str,
        /// The API server's message.
        message: String,
    },
    /// The pass did not finish in time.
    #[error("the cluster could not be examined within the deadline of {}", humantime::format_duration(*.0))]
    Deadline(Duration),
}

/// What the gatherer reports while it works (the command line shows it on a terminal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum GatherEvent {
    /// A page of `source` was read; `so_far` items in total.
    Page {
        /// The source.
        source: Source,
        /// Items read so far.
        so_far: usize,
    },
    /// `source` is done: `Ok(count)` items, or why it could not be read.
    Done {
        /// The source.
        source: Source,
        /// Items read, or the reason it could not be.
        outcome: Result<usize, String>,
    },
}

/// Receives [`GatherEvent`]s. `()` ignores them.
pub trait Progress: Send + Sync {
    /// Called for every event.
    fn event(&self, event: GatherEvent);

    /// Called after each attempt of a `--wait` loop with its outcome and the number of
    /// consecutive passes so far.
    fn attempt(&self, _attempt: u32, _status: &postcheck_model::TaskStatus, _consecutive: u32) {}
}

impl Progress for () {
    fn event(&self, _event: GatherEvent) {}
}

/// Reads `sources` (and always the version) from the cluster into a Snapshot within `deadline`.
pub async fn gather(
    client: &kube::Client,
    sources: &[Source],
    deadline: Duration,
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    tokio::time::timeout(deadline, gather_unbounded(client, sources, progress))
        .await
        .unwrap_or(Err(GatherError::Deadline(deadline)))
}

async fn gather_unbounded(
    client: &kube::Client,
    sources: &[Source],
    progress: &dyn Progress,
) -> Result<Snapshot, GatherError> {
    let wants = |s| sources.contains(&s);
    let mut snapshot = Snapshot::empty(Utc::now());
    let (version, health, nodes, pods, leases, objects) = tokio::join!(
        version(client),
        async { if wants(Source::Health) { Some(health(client).await) } else { None } },
        async {
            if wants(Source::Nodes) {
                Some(
                    list_all(client, ListRequest::all::<K8sNode>(), Source::Nodes, progress, node)
                        .await,
                )
            } else {
                None
            }
        },
        async {
            if wants(Source::Pods) {
                Some(
                    list_all(client, ListRequest::all::<K8sPod>(), Source::Pods, progress, pod)
                        .await,
                )
            } else {
                None
            }
        },
        async {
            if wants(Source::Leases) {
                let leases = ListRequest::namespaced::<K8sLease>("kube-system");
                Some(list_all(client, leases, Source::Leases, progress, lease).await)
            } else {
                None
            }
        },
        crate::gather_objects::gather(client, sources, progress),
    );

    match version {
        Ok((git_version, server_time)) => {
            progress.event(GatherEvent::Done { source: Source::Version, outcome: Ok(1) });
            snapshot.server_version = Gathered::Ok(git_version);
            snapshot.server_time = server_time;
        }
        Err(e) => {
            fatal(&e, "reading /version", false)?;
            progress
                .event(GatherEvent::Done { source: Source::Version, outcome: Err(e.to_string()) });
            snapshot.server_version = Gathered::Unavailable(unavailable(&e));
        }
    }
    if let Some(Err(e)) = &nodes {
        // Without nodes nearly nothing can be judged: a pass that reports Success then
        // would be a silent miss, so a forbidden node list is an Error of the task.
        fatal(e, "listing nodes", true)?;
    }
    snapshot.health = record(Source::Health, health, progress);
    snapshot.nodes = record(Source::Nodes, nodes, progress);
    snapshot.pods = record(Source::Pods, pods, progress);
    snapshot.leases = record(Source::Leases, leases, progress);
    objects.apply(&mut snapshot, progress);
    Ok(snapshot)
}

/// Turns a connection or authentication failure (and, when `forbidden_too`, a 403) into
/// the pass's error.
fn fatal(e: &kube::Error, what: &'static str, forbidden_too: bool) -> Result<(), GatherError> {
    match e {
        kube::Error::Api(s) if s.code == 401 => {
            Err(GatherError::CredentialsRejected { what, message: s.message.clone() })
        }
        kube::Error::Api(s) if s.code == 403 && forbidden_too => {
            Err(GatherError::Forbidden { what, message: s.message.clone() })
        }
        kube::Error::Api(_) => Ok(()),
        _ => Err(GatherError::Unreachable { what, reason: chain(e) }),
    }
}

/// An error and its sources as one line, skipping causes already said.
pub fn chain(e: &dyn std::error::Error) -> String {
    let mut parts: Vec<String> = vec![e.to_string()];
    let mut next = e.source();
    while let Some(cause) = next {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = cause.source();
    }
    parts.join(": ")
}

pub(crate) fn record<T>(
    source: Source,
    outcome: Option<Result<Vec<T>, kube::Error>>,
    progress: &dyn Progress,
) -> Gathered<Vec<T>> {
    match outcome {
        None => Gathered::NotGathered,
        Some(Ok(items)) => {
            progress.event(GatherEvent::Done { source, outcome: Ok(items.len()) });
            Gathered::Ok(items)
        }
        Some(Err(e)) => {
            let u = unavailable(&e);
            progress.event(GatherEvent::Done { source, outcome: Err(u.reason.clone()) });
            Gathered::Unavailable(u)
        }
    }
}

pub(crate) fn unavailable(e: &kube::Error) -> Unavailable {
    match e {
        kube::Error::Api(s) => {
            let what = match s.code {
                403 => "forbidden".to_owned(),
                404 => "absent (404 Not Found)".to_owned(),
                code => format!("HTTP {code} {}", s.reason),
            };
            Unavailable { code: Some(s.code), reason: format!("{what}: {}", s.message.trim()) }
        }
        other => Unavailable { code: None, reason: chain(other) },
    }
}

/// `/version`'s gitVersion, and the server's clock from the response's `Date` header.
async fn version(client: &kube::Client) -> Result<(String, Option<DateTime<Utc>>), kube::Error> {
    let request =
        http::Request::get("/version").body(Vec::new()).map_err(kube::Error::HttpError)?;
    let response = send(client, request).await?;
    let date = response
        .headers()
        .get(http::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc));
    let body = response.into_body();
    let info: k8s_openapi::apimachinery::pkg::version::Info =
        serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
    Ok((info.git_version, date))
}

/// The lines of `/readyz?verbose` and `/livez?verbose`. A failing endpoint answers 500
/// with the same verbose text, which is what we want to read.
async fn health(client: &kube::Client) -> Result<Vec<HealthCheck>, kube::Error> {
    let mut out = Vec::new();
    for endpoint in ["readyz", "livez"] {
        let request = http::Request::get(format!("/{endpoint}?verbose"))
            .body(Vec::new())
            .map_err(kube::Error::HttpError)?;
        let text = match client.request_text(request).await {
            Ok(text) => text,
            Err(kube::Error::Api(s)) if s.code == 500 => s.message,
            Err(e) => return Err(e),
        };
        out.extend(parse_health(endpoint, &text));
    }
    Ok(out)
}

/// Parses `[+]ping ok` / `[-]etcd failed: reason withheld` lines.
pub fn parse_health(endpoint: &str, text: &str) -> Vec<HealthCheck> {
    text.lines()
        .filter_map(|line| {
            let (ok, rest) = if let Some(r) = line.strip_prefix("[+]") {
                (true, r)
            } else if let Some(r) = line.strip_prefix("[-]") {
                (false, r)
            } else {
                return None;
            };
            let (name, detail) = rest.split_once(' ').unwrap_or((rest, ""));
            Some(HealthCheck {
                endpoint: endpoint.into(),
                name: name.into(),
                ok,
                detail: detail.trim().into(),
            })
        })
        .collect()
}

fn node(n: wire::Node) -> Option<Node> {
    Some(Node {
        name: n.metadata.name,
        labels: n.metadata.labels,
        taints: n
            .spec
            .taints
            .into_iter()
            .map(|t| Taint {
                key: t.key,
                value: t.value.filter(|v| !v.is_empty()),
                effect: t.effect,
            })
            .collect(),
        unschedulable: n.spec.unschedulable.unwrap_or(false),
        conditions: n.status.conditions.into_iter().map(condition).collect(),
        kubelet_version: n.status.node_info.kubelet_version,
        kube_proxy_version: n.status.node_info.kube_proxy_version,
    })
}

fn condition(c: wire::Condition) -> Condition {
    Condition { kind: c.kind, status: c.status, reason: c.reason, message: c.message }
}

fn pod(mut p: wire::Pod) -> Option<Pod> {
    let conditions = &p.status.conditions;
    let ready = conditions.iter().any(|c| c.kind == "Ready" && c.status == "True");
    let unschedulable =
        conditions.iter().find(|c| c.kind == "PodScheduled" && c.status == "False").map(|c| {
            [c.reason.as_deref(), c.message.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(": ")
        });
    let statuses = &mut p.status.container_statuses;
    let containers = p
        .spec
        .containers
        .into_iter()
        .map(|c| {
            let st = statuses.iter_mut().find(|s| s.name == c.name);
            let (ready, restart_count, waiting_reason, last_terminated_reason) = match st {
                Some(s) => (
                    s.ready,
                    s.restart_count,
                    s.state.as_mut().and_then(|st| st.waiting.as_mut()?.reason.take()),
                    s.last_state.as_mut().and_then(|st| st.terminated.as_mut()?.reason.take()),
                ),
                None => (false, 0, None, None),
            };
            Container {
                image: c.image.unwrap_or_default(),
                ready,
                restart_count,
                waiting_reason,
                last_terminated_reason,
                name: c.name,
            }
        })
        .collect();
    let owner = p
        .metadata
        .owner_references
        .into_iter()
        .find(|o| o.controller == Some(true))
        .map(|o| Owner { kind: o.kind, name: o.name });
    Some(Pod {
        namespace: p.metadata.namespace.unwrap_or_default(),
        name: p.metadata.name,
        labels: p.metadata.labels,
        owner,
        created: p.metadata.creation_timestamp,
        deleting: p.metadata.deletion_timestamp,
        node_name: p.spec.node_name,
        priority_class: p.spec.priority_class_name,
        phase: p.status.phase.unwrap_or_else(|| "Unknown".into()),
        ready,
        unschedulable,
        containers,
    })
}

fn lease(l: wire::Lease) -> Option<Lease> {
    Some(Lease {
        namespace: l.metadata.namespace.unwrap_or_default(),
        name: l.metadata.name,
        holder: l.spec.holder_identity.filter(|h| !h.is_empty()),
        renew_time: l.spec.renew_time,
        duration_seconds: l.spec.lease_duration_seconds,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_verbose_health_lines() {
        let text = "[+]ping ok\n[+]log ok\n[-]etcd failed: reason withheld\n[+]poststarthook/start-apiextensions-controllers ok\nreadyz check failed\n";
        let checks = parse_health("readyz", text);
        assert_eq!(checks.len(), 4);
        let etcd = &checks[2];
        assert_eq!(
            (etcd.name.as_str(), etcd.ok, etcd.detail.as_str()),
            ("etcd", false, "failed: reason withheld")
        );
        assert_eq!(checks[3].name, "poststarthook/start-apiextensions-controllers");
    }

    #[test]
    fn decodes_a_node_into_its_compact_form() {
        let raw = serde_json::json!({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": "n1", "labels": {"kubernetes.io/hostname": "n1"}, "annotations": {"big": "x"}},
            "spec": {"unschedulable": true, "taints": [{"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}]},
            "status": {
                "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady", "message": "ok"}],
                "nodeInfo": {"kubeletVersion": "v1.37.2", "kubeProxyVersion": "", "architecture": "amd64", "bootID": "",
                    "containerRuntimeVersion": "", "kernelVersion": "", "machineID": "", "operatingSystem": "linux",
                    "osImage": "", "systemUUID": ""}
            }
        });
        let n = node(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!(n.name, "n1");
        assert!(n.unschedulable && n.is_ready());
        assert_eq!(n.taints[0].to_string(), "node.kubernetes.io/unschedulable:NoSchedule");
        assert_eq!(n.kubelet_version, "v1.37.2");
        assert_eq!(n.kube_proxy_version, "");
    }

    #[test]
    fn decodes_a_crashlooping_pod() {
        let raw = serde_json::json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"namespace": "kube-system", "name": "coredns-1", "creationTimestamp": "2026-11-29T04:00:00Z",
                "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "coredns-5d", "uid": "u", "controller": true}]},
            "spec": {"nodeName": "n1", "priorityClassName": "system-cluster-critical",
                "containers": [{"name": "coredns", "image": "registry.k8s.io/coredns/coredns:v1.12.0"}]},
            "status": {"phase": "Running",
                "conditions": [{"type": "Ready", "status": "False"}],
                "containerStatuses": [{"name": "coredns", "image": "x", "imageID": "", "ready": false, "restartCount": 4,
                    "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                    "lastState": {"terminated": {"exitCode": 1, "reason": "Error"}}}]}
        });
        let p = pod(serde_json::from_value(raw).unwrap()).unwrap();
        assert_eq!(p.owner.as_ref().map(|o| o.kind.as_str()), Some("ReplicaSet"));
        assert!(!p.ready);
        assert_eq!(p.containers[0].waiting_reason.as_deref(), Some("CrashLoopBackOff"));
        assert_eq!(p.containers[0].last_terminated_reason.as_deref(), Some("Error"));
        assert_eq!(p.containers[0].restart_count, 4);
        assert_eq!(p.created.unwrap().to_rfc3339(), "2026-11-29T04:00:00+00:00");
    }
}
