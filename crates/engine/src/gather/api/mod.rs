//! The API objects as the gatherer decodes them: only the fields some check reads.
//!
//! Decoding a list page into k8s-openapi's full types builds every field of every object
//! (a pod's managedFields alone is a tree of maps), only for most of it to be dropped a
//! moment later. These structs name just what the checks need; serde skips the rest of the
//! JSON without building it, which is most of a page's bytes. Every collection may be
//! absent or `null` on the wire, so each is read through [`null_default`].
//!
//! One file per family of objects; the envelope (pages, metadata, conditions, references)
//! here. Field names follow the API's JSON (camelCase); the compact Snapshot types are built from
//! these by `super::sources`, one file per source.

mod apps;
mod core;
mod extensions;
mod history;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer};

pub(crate) use apps::*;
pub(crate) use core::*;
pub(crate) use extensions::*;
pub(crate) use history::*;

/// An absent or `null` collection as its empty value.
pub(crate) fn null_default<'de, D: Deserializer<'de>, T: Default + Deserialize<'de>>(
    d: D,
) -> Result<T, D::Error> {
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// One page of a list: its items and the token of the next page.
#[derive(Debug, Deserialize)]
#[serde(bound = "T: Deserialize<'de>")]
pub(crate) struct ListPage<T> {
    /// The list's metadata (the pass reads the token earlier, through `page`'s list head).
    #[cfg_attr(not(test), allow(dead_code))]
    #[serde(default)]
    pub(crate) metadata: ListMeta,
    /// The objects of this page.
    #[serde(default = "Vec::new", deserialize_with = "null_default")]
    pub(crate) items: Vec<T>,
}

/// A list's metadata.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ListMeta {
    /// The token of the next page; absent or empty on the last.
    #[serde(default, rename = "continue")]
    pub(crate) continue_: Option<String>,
    /// How many items follow this page, when the API server says (an estimate).
    #[serde(default, rename = "remainingItemCount")]
    pub(crate) remaining_item_count: Option<i64>,
}

/// An object's metadata, as far as any check reads it.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Meta {
    /// The object's UID (nodes keep it: CCE names nodes by it).
    #[serde(default)]
    pub(crate) uid: String,
    /// Namespace (absent for cluster-scoped objects).
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    /// Name.
    #[serde(default)]
    pub(crate) name: String,
    /// Labels.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) labels: BTreeMap<String, String>,
    /// Owner references.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) owner_references: Vec<OwnerReference>,
    /// When the object was created.
    #[serde(default)]
    pub(crate) creation_timestamp: Option<DateTime<Utc>>,
    /// When its deletion was asked for.
    #[serde(default)]
    pub(crate) deletion_timestamp: Option<DateTime<Utc>>,
}

/// An owner reference.
#[derive(Debug, Deserialize)]
pub(crate) struct OwnerReference {
    /// The owner's kind.
    #[serde(default)]
    pub(crate) kind: String,
    /// The owner's name.
    #[serde(default)]
    pub(crate) name: String,
    /// Whether the owner is the controller.
    #[serde(default)]
    pub(crate) controller: Option<bool>,
}

/// A status condition (nodes, pods, workloads, APIServices).
#[derive(Debug, Deserialize)]
pub(crate) struct Condition {
    /// `type`.
    #[serde(default, rename = "type")]
    pub(crate) kind: String,
    /// `True`, `False` or `Unknown`.
    #[serde(default)]
    pub(crate) status: String,
    /// Machine-readable reason.
    #[serde(default)]
    pub(crate) reason: Option<String>,
    /// Human-readable message.
    #[serde(default)]
    pub(crate) message: Option<String>,
}

/// A status with only its phase read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct PhaseOnly {
    /// Phase.
    #[serde(default)]
    pub(crate) phase: Option<String>,
}

/// A reference to a Service (APIServices, webhooks).
#[derive(Debug, Deserialize)]
pub(crate) struct ServiceReference {
    /// Namespace.
    #[serde(default)]
    pub(crate) namespace: Option<String>,
    /// Name.
    #[serde(default)]
    pub(crate) name: Option<String>,
}

/// A status with only its conditions read.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ConditionsOnly {
    /// Conditions.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) conditions: Vec<Condition>,
}

/// Where a webhook is called: a Service or a URL.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ClientConfig {
    /// The Service, when it is one.
    #[serde(default)]
    pub(crate) service: Option<ServiceReference>,
}
