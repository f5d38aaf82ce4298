//! Builders for the objects besides nodes and pods (workloads, Services, claims, API
//! extensions, removed-API uses, events), so tests read like the cluster they describe:
//!
//! ```
//! use postcheck_engine::Snapshot;
//! use postcheck_engine::testing::WorkloadFixture;
//! let snapshot = Snapshot::test()
//!     .workload(WorkloadFixture::complete("Deployment", "shop", "web", 3).available(1))
//!     .service("shop", "web", 1);
//! assert_eq!(snapshot.workload_list()[0].shortfall().as_deref(), Some("1/3 available"));
//! ```
//!
//! `Snapshot::test()` gathers every one of these lists, empty.

use chrono::Duration;

use super::fixture_time;
use crate::snapshot::{
    ApiService, ApiUse, Claim, Gathered, HelmRelease, ManagedEntry, ManifestObject,
    ServiceEndpoints, ServiceRef, Snapshot, StorageClass, WarningEvent, Webhook, Workload,
};

fn push<T>(list: &mut Gathered<Vec<T>>, item: T) {
    match list {
        Gathered::Ok(items) => items.push(item),
        _ => *list = Gathered::Ok(vec![item]),
    }
}

impl Snapshot {
    /// Adds a workload.
    pub fn workload(mut self, w: WorkloadFixture) -> Self {
        push(&mut self.workloads, w.0);
        self
    }

    /// Adds a Service with a selector and `ready` ready endpoints.
    pub fn service(mut self, namespace: &str, name: &str, ready: u32) -> Self {
        push(
            &mut self.services,
            ServiceEndpoints {
                namespace: namespace.into(),
                name: name.into(),
                has_selector: true,
                ready,
            },
        );
        self
    }

    /// Adds a PersistentVolumeClaim in `phase`.
    pub fn claim(self, namespace: &str, name: &str, phase: &str) -> Self {
        self.push_claim(namespace, name, phase, None)
    }

    /// Adds a PersistentVolumeClaim of StorageClass `class` in `phase`.
    pub fn claim_of_class(self, namespace: &str, name: &str, phase: &str, class: &str) -> Self {
        self.push_claim(namespace, name, phase, Some(class))
    }

    fn push_claim(mut self, namespace: &str, name: &str, phase: &str, class: Option<&str>) -> Self {
        push(
            &mut self.claims,
            Claim {
                namespace: namespace.into(),
                name: name.into(),
                phase: phase.into(),
                storage_class: class.map(Into::into),
            },
        );
        self
    }

    /// Adds a StorageClass; `wait_for_first_consumer` for `volumeBindingMode:
    /// WaitForFirstConsumer`.
    pub fn storage_class(mut self, name: &str, wait_for_first_consumer: bool) -> Self {
        push(
            &mut self.storage_classes,
            StorageClass { name: name.into(), wait_for_first_consumer },
        );
        self
    }

    /// Adds an APIService backed by `service` (or local); an unavailable one says
    /// `MissingEndpoints`.
    pub fn api_service(
        mut self,
        name: &str,
        service: Option<(&str, &str)>,
        available: bool,
    ) -> Self {
        let service = service
            .map(|(namespace, name)| ServiceRef { namespace: namespace.into(), name: name.into() });
        let reason = (!available).then(|| "Available is False: MissingEndpoints: endpoints for service/metrics-gone in \"monitoring\" have no addresses".to_owned());
        push(&mut self.api_services, ApiService { name: name.into(), service, available, reason });
        self
    }

    /// Adds a webhook of a `owner_kind` configuration named `name` calling `service`.
    pub fn webhook(
        mut self,
        owner_kind: &str,
        name: &str,
        fails_closed: bool,
        service: (&str, &str),
    ) -> Self {
        push(
            &mut self.webhooks,
            Webhook {
                owner_kind: owner_kind.into(),
                owner_name: name.into(),
                name: format!("{name}.example.com"),
                fails_closed,
                service: ServiceRef { namespace: service.0.into(), name: service.1.into() },
            },
        );
        self
    }

    /// Adds an object recorded with some API versions.
    pub fn api_use(mut self, used: ApiUse) -> Self {
        if let Gathered::Ok(uses) = &mut self.removed_apis {
            uses.objects.push(used);
        }
        self
    }

    /// Adds the latest deployed revision of a Helm release rendering `objects`
    /// (`(apiVersion, kind, name)`).
    pub fn helm_release(
        mut self,
        namespace: &str,
        name: &str,
        version: i64,
        objects: &[(&str, &str, &str)],
    ) -> Self {
        if let Gathered::Ok(uses) = &mut self.removed_apis {
            uses.releases.push(HelmRelease {
                namespace: namespace.into(),
                name: name.into(),
                version,
                status: "deployed".into(),
                objects: objects
                    .iter()
                    .map(|(a, k, n)| ManifestObject {
                        api_version: (*a).into(),
                        kind: (*k).into(),
                        name: (*n).into(),
                    })
                    .collect(),
            });
        }
        self
    }

    /// Adds a Warning event about `kind namespace/name`, seen `count` times, last `age` ago.
    pub fn event(
        mut self,
        namespace: &str,
        kind: &str,
        name: &str,
        reason: &str,
        count: i32,
        age: Duration,
    ) -> Self {
        push(
            &mut self.events,
            WarningEvent {
                namespace: namespace.into(),
                kind: kind.into(),
                name: name.into(),
                reason: reason.into(),
                message: format!("{reason} happened"),
                count,
                last_seen: Some(fixture_time() - age),
            },
        );
        self
    }
}

/// A workload under construction.
#[derive(Debug, Clone)]
pub struct WorkloadFixture(pub Workload);

impl WorkloadFixture {
    /// A `kind` (`Deployment`, `StatefulSet`, `DaemonSet`) with all `replicas` ready,
    /// available and updated.
    pub fn complete(kind: &str, namespace: &str, name: &str, replicas: i32) -> Self {
        Self(Workload {
            kind: kind.into(),
            namespace: namespace.into(),
            name: name.into(),
            desired: replicas,
            ready: replicas,
            available: replicas,
            updated: Some(replicas),
            stuck: None,
        })
    }

    /// Sets the available replicas.
    pub fn available(mut self, n: i32) -> Self {
        self.0.available = n;
        self
    }

    /// Sets the ready replicas.
    pub fn ready(mut self, n: i32) -> Self {
        self.0.ready = n;
        self
    }

    /// Sets the updated replicas.
    pub fn updated(mut self, n: i32) -> Self {
        self.0.updated = Some(n);
        self
    }

    /// The rollout exceeded its progress deadline with `message`.
    pub fn stuck(mut self, message: &str) -> Self {
        self.0.stuck = Some(message.into());
        self
    }
}

impl ApiUse {
    /// An object of `kind` with nothing recorded yet.
    pub fn object(kind: &str, namespace: Option<&str>, name: &str) -> Self {
        Self {
            kind: kind.into(),
            namespace: namespace.map(Into::into),
            name: name.into(),
            last_applied: None,
            managed: vec![],
        }
    }

    /// Its last-applied-configuration's apiVersion.
    pub fn last_applied(mut self, api_version: &str) -> Self {
        self.last_applied = Some(api_version.into());
        self
    }

    /// Appends (as the newest) a managedFields entry written through `api_version`.
    pub fn managed(mut self, api_version: &str, owns_last_applied: bool) -> Self {
        self.managed.push(ManagedEntry { api_version: api_version.into(), owns_last_applied });
        self
    }
}
