//! Warning events, all namespaces (a field selector: the API server filters), each kept with
//! its reason, a cut message, its count and when it last happened.

use k8s_openapi::api::core::v1::Event;
use kube::api::ListParams;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use crate::snapshot::{Source, WarningEvent};

/// How much of an event's message is kept.
const EVENT_MESSAGE_CHARS: usize = 300;

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<WarningEvent>, kube::Error> {
    let warnings = ListRequest::all::<Event>().params(ListParams::default().fields("type=Warning"));
    list_all(pass, warnings, Source::Events, event).await
}

fn event(e: api::Event) -> Option<WarningEvent> {
    let series = e.series.as_ref();
    let last_seen = series
        .and_then(|s| s.last_observed_time)
        .or(e.last_timestamp)
        .or(e.event_time)
        .or(e.first_timestamp)
        .or(e.metadata.creation_timestamp);
    let mut message = e.message.unwrap_or_default();
    if let Some((cut, _)) = message.char_indices().nth(EVENT_MESSAGE_CHARS) {
        message.truncate(cut);
    }
    Some(WarningEvent {
        namespace: e.metadata.namespace.unwrap_or_default(),
        kind: e.involved_object.kind.unwrap_or_default(),
        name: e.involved_object.name.unwrap_or_default(),
        reason: e.reason.unwrap_or_default(),
        message,
        count: series.and_then(|s| s.count).or(e.count).unwrap_or(1),
        last_seen,
    })
}
