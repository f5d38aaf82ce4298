//! The Snapshot: what one gathering pass learned about a cluster, kept compact.
//!
//! Checks judge a Snapshot, never the API, so every check is a pure function that unit
//! tests feed with hand-built snapshots (see `crate::testing`). The same type, written to
//! a file, is the pre-upgrade baseline (`postcheck baseline -o FILE`), so it is versioned
//! with `snapshotVersion` and records when it was taken and what the API server said.
//!
//! Only the fields some check reads are kept: never whole k8s-openapi objects, so that a
//! cluster with 150,000 pods still fits in little memory. Each list is a [`Gathered`]: it
//! was listed, it could not be (forbidden, absent: the reason is kept), or it was not asked
//! for. Sources added later are `#[serde(default)]` fields, so older baseline files still read.
//!
//! **The one table of sources** is [`source_table!`]: one row per source (its [`Source`]
//! variant, its Snapshot field and type, its name and its description). Everything else
//! about a source is derived from that row: the [`Source`] enum, [`Source::ALL`], its names,
//! the Snapshot's fields, [`Snapshot::empty`], [`Snapshot::availability`]; and, in
//! `crate::gather::sources`, the module that reads it and the pass's dispatch. The compact
//! types live one file per family beside this one.

mod apiserver;
mod control_plane;
mod disruption;
mod events;
mod extensions;
mod intern;
mod node_join;
mod nodes;
mod pods;
mod removed_apis;
mod services;
mod storage;
mod synthetic;
mod workloads;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

pub use apiserver::{DeprecatedApiCall, ServingCertificate};
pub use control_plane::{HealthCheck, Lease};
pub use disruption::{LabelSelector, Pdb, SelectorRequirement};
pub use events::WarningEvent;
pub use extensions::{ApiService, CrdVersions, Webhook};
pub use intern::{Atom, Interner, Labels, decode_interned};
pub use node_join::{
    BOOTSTRAPPERS, BootstrapBinding, BootstrapToken, IssuedCertificate, NODE_BOOTSTRAPPER_ROLE,
    NODE_CLIENT_AUTO_APPROVAL_ROLE, NodeJoinOutcome,
};
pub use nodes::{Condition, Node, Taint};
pub use pods::{Container, Owner, Pod};
pub use removed_apis::{ApiUse, HelmRelease, ManagedEntry, ManifestObject, RemovedApiUses};
pub use services::{ServiceEndpoints, ServiceRef};
pub use storage::{Claim, StorageClass};
pub use synthetic::{FailedNode, SyntheticOutcome};
pub use workloads::Workload;

/// The snapshot format this build writes. Readers accept this version and older ones.
pub const SNAPSHOT_VERSION: u32 = 1;

/// The one table of sources. Each row: the [`Source`] variant (with its doc), the module
/// of `crate::gather::sources` that reads it, the Snapshot field and its type, the name
/// (progress lines, the catalogue) and the phrase ("the nodes were not gathered").
/// `gathered` rows are read by the gathering pass, in this order; `actions` rows are
/// produced beside it by `crate::actions` and never part of a baseline.
///
/// Invoked with the name of a macro that receives the table: [`define_snapshot!`] here,
/// `define_gathering!` in `crate::gather::sources`.
macro_rules! source_table {
    ($then:ident) => {
        $then! {
            gathered {
                /// `/version`; always read: it is how we learn the cluster can be examined at all.
                Version version server_version: String = "version", "the API server's version";
                /// `/readyz?verbose` and `/livez?verbose`.
                Health health health: Vec<HealthCheck> = "health", "the API server's health checks";
                /// The node list.
                Nodes nodes nodes: Vec<Node> = "nodes", "the nodes";
                /// The pod list, all namespaces.
                Pods pods pods: Vec<Pod> = "pods", "the pods";
                /// The Leases of kube-system.
                Leases leases leases: Vec<Lease> = "leases", "the kube-system Leases";
                /// Deployments, StatefulSets and DaemonSets, all namespaces.
                Workloads workloads workloads: Vec<Workload> =
                    "workloads", "the Deployments, StatefulSets and DaemonSets";
                /// Services and their EndpointSlices, all namespaces.
                Services services services: Vec<ServiceEndpoints> =
                    "services", "the Services and EndpointSlices";
                /// PersistentVolumeClaims, all namespaces.
                Claims claims claims: Vec<Claim> = "claims", "the PersistentVolumeClaims";
                /// APIServices.
                ApiServices api_services api_services: Vec<ApiService> =
                    "apiservices", "the APIServices";
                /// Validating and mutating webhook configurations, and CRDs' conversion webhooks.
                Webhooks webhooks webhooks: Vec<Webhook> =
                    "webhooks", "the webhook configurations and CRDs";
                /// Metadata of the kinds of the removed-API rules, and Helm v3 release Secrets.
                RemovedApis removed_apis removed_apis: RemovedApiUses =
                    "removed-apis", "the objects and Helm releases checked for removed APIs";
                /// Warning events, all namespaces.
                Events events events: Vec<WarningEvent> = "events", "the Warning events";
                /// CustomResourceDefinitions' served and stored versions.
                CrdVersions crd_versions crd_versions: Vec<CrdVersions> =
                    "crd-versions", "the CustomResourceDefinitions' versions";
                /// StorageClasses' volume binding modes.
                StorageClasses storage_classes storage_classes: Vec<StorageClass> =
                    "storage-classes", "the StorageClasses";
                /// PodDisruptionBudgets, all namespaces (the pre-check: drains they block).
                Pdbs pdbs pdbs: Vec<Pdb> = "pdbs", "the PodDisruptionBudgets";
                /// The API server's `apiserver_requested_deprecated_apis` metric (`/metrics`).
                DeprecatedApis deprecated_apis deprecated_apis: Vec<DeprecatedApiCall> =
                    "deprecated-apis", "the deprecated APIs clients called";
                /// The API server's serving certificate, from a TLS handshake with its
                /// address (read only when the caller gives the address).
                ServingCert serving_cert serving_cert: Vec<ServingCertificate> =
                    "serving-cert", "the API server's serving certificate";
                /// kube-system's bootstrap token Secrets (ids, expirations, usages; never the secret).
                BootstrapTokens bootstrap_tokens bootstrap_tokens: Vec<BootstrapToken> =
                    "bootstrap-tokens", "the bootstrap token Secrets of kube-system";
                /// ClusterRoleBindings granting the system:bootstrappers groups a role.
                BootstrapBindings bootstrap_bindings bootstrap_bindings: Vec<BootstrapBinding> =
                    "bootstrap-bindings", "the ClusterRoleBindings of system:bootstrappers";
            }
            actions {
                /// The synthetic pod's run: an action, opt-in, so not in [`Source::ALL`].
                Synthetic synthetic synthetic: SyntheticOutcome =
                    "synthetic", "the synthetic pod's run";
                /// The node-join run (a kubelet client certificate requested, approved and
                /// issued): an action, opt-in, so not in [`Source::ALL`].
                NodeJoin node_join node_join: NodeJoinOutcome =
                    "node-join", "the node-join certificate request's run";
            }
        }
    };
}
pub(crate) use source_table;

/// Defines [`Source`] and [`Snapshot`] from [`source_table!`].
macro_rules! define_snapshot {
    (
        gathered { $( $(#[$doc:meta])* $variant:ident $module:ident $field:ident : $ty:ty = $name:literal, $describe:literal; )* }
        actions { $( $(#[$adoc:meta])* $avariant:ident $amodule:ident $afield:ident : $aty:ty = $aname:literal, $adescribe:literal; )* }
    ) => {
        /// What a gathering pass can read. Each check declares the sources it needs; a pass
        /// reads only what the selected checks need (a baseline reads everything).
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub enum Source {
            $( $(#[$doc])* $variant, )*
            $( $(#[$adoc])* $avariant, )*
        }

        impl Source {
            /// Every gathered source, in gathering order (actions are not gathered).
            pub const ALL: [Source; [$(Source::$variant),*].len()] = [$(Source::$variant),*];

            /// The source's name in progress lines and the catalogue.
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Self::$variant => $name, )*
                    $( Self::$avariant => $aname, )*
                }
            }

            /// The source in a sentence ("the nodes were not gathered").
            pub fn describe(self) -> &'static str {
                match self {
                    $( Self::$variant => $describe, )*
                    $( Self::$avariant => $adescribe, )*
                }
            }
        }

        /// One gathering pass over a cluster.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(rename_all = "camelCase")]
        pub struct Snapshot {
            /// The format version ([`SNAPSHOT_VERSION`] when written by this build).
            pub snapshot_version: u32,
            /// When the pass started, by the local clock.
            pub taken_at: DateTime<Utc>,
            /// The API server's clock (its `Date` header) when the pass started; ages of
            /// leases and pods are measured against it so a skewed local clock does not matter.
            #[serde(default, skip_serializing_if = "Option::is_none")]
            pub server_time: Option<DateTime<Utc>>,
            $(
                #[doc = concat!("What was read of ", $describe, ".")]
                #[serde(default)]
                pub $field: Gathered<$ty>,
            )*
            $(
                #[doc = concat!("What was recorded of ", $adescribe, ".")]
                #[serde(default)]
                pub $afield: Gathered<$aty>,
            )*
        }

        impl Snapshot {
            /// An empty snapshot taken `at`, with nothing gathered.
            pub fn empty(at: DateTime<Utc>) -> Self {
                Self {
                    snapshot_version: SNAPSHOT_VERSION,
                    taken_at: at,
                    server_time: None,
                    $( $field: Gathered::NotGathered, )*
                    $( $afield: Gathered::NotGathered, )*
                }
            }

            /// Whether `source` was gathered; the reason when it was not.
            pub fn availability(&self, source: Source) -> Result<(), String> {
                let state = match source {
                    $( Source::$variant => self.$field.state(), )*
                    $( Source::$avariant => self.$afield.state(), )*
                };
                match state {
                    Ok(()) => Ok(()),
                    Err(None) => Err(format!("{} were not gathered", source.describe())),
                    Err(Some(u)) => {
                        Err(format!("{} could not be read: {}", source.describe(), u.reason))
                    }
                }
            }

            /// Records `source` as unreadable.
            pub fn set_unavailable(&mut self, source: Source, unavailable: Unavailable) {
                match source {
                    $( Source::$variant => self.$field = Gathered::Unavailable(unavailable), )*
                    $( Source::$avariant => self.$afield = Gathered::Unavailable(unavailable), )*
                }
            }

            /// Every gathered source read and empty (actions not run): the start of the
            /// test fixtures' snapshots.
            #[cfg(any(test, feature = "test-util"))]
            pub(crate) fn every_source_empty(mut self) -> Self {
                $( self.$field = Gathered::Ok(Default::default()); )*
                self
            }
        }
    };
}

source_table!(define_snapshot);

impl Snapshot {
    /// "Now" for ages: the API server's clock when known, the local one otherwise.
    pub fn now(&self) -> DateTime<Utc> {
        self.server_time.unwrap_or(self.taken_at)
    }
}

/// The outcome of reading one source.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Gathered<T> {
    /// No selected check needed it.
    #[default]
    NotGathered,
    /// Read in full.
    Ok(T),
    /// Could not be read; the checks that need it report that they could not run.
    Unavailable(Unavailable),
}

/// Why a source could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Unavailable {
    /// The HTTP status, when the API server answered (403 forbidden, 404 absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub code: Option<u16>,
    /// What went wrong, for a person.
    pub reason: String,
}

impl<T> Gathered<T> {
    /// The value, when it was read.
    pub fn ok(&self) -> Option<&T> {
        match self {
            Self::Ok(v) => Some(v),
            _ => None,
        }
    }

    /// `Ok` when read; `Err(None)` when not asked for; `Err(Some(why))` when unreadable.
    pub fn state(&self) -> Result<(), Option<&Unavailable>> {
        match self {
            Self::Ok(_) => Ok(()),
            Self::NotGathered => Err(None),
            Self::Unavailable(u) => Err(Some(u)),
        }
    }
}
