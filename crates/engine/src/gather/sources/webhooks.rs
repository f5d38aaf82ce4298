//! Validating and mutating webhook configurations and CRDs, listed concurrently, kept as the
//! webhooks that call a Service (admission webhooks, CRD conversion webhooks).

use k8s_openapi::api::admissionregistration::v1::{
    MutatingWebhookConfiguration, ValidatingWebhookConfiguration,
};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;

use super::super::Pass;
use super::super::api;
use super::super::page::{ListRequest, list_all};
use super::api_services::service_ref;
use crate::snapshot::{Source, Webhook};

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<Webhook>, kube::Error> {
    let (validating, mutating, crds) = tokio::join!(
        list_all(pass, ListRequest::all::<ValidatingWebhookConfiguration>(), Source::Webhooks, |c| {
            Some(admission_webhooks("ValidatingWebhookConfiguration", c))
        }),
        list_all(pass, ListRequest::all::<MutatingWebhookConfiguration>(), Source::Webhooks, |c| {
            Some(admission_webhooks("MutatingWebhookConfiguration", c))
        }),
        list_all(pass, ListRequest::all::<CustomResourceDefinition>(), Source::Webhooks, conversion),
    );
    Ok([validating?, mutating?].into_iter().flatten().flatten().chain(crds?).collect())
}

/// The webhooks of one admission configuration that call a Service; an absent failure
/// policy means `Fail`.
fn admission_webhooks(owner_kind: &str, c: api::WebhookConfiguration) -> Vec<Webhook> {
    let owner_name = c.metadata.name;
    c.webhooks
        .into_iter()
        .filter_map(|w| {
            Some(Webhook {
                owner_kind: owner_kind.into(),
                owner_name: owner_name.clone(),
                fails_closed: w.failure_policy.as_deref().is_none_or(|p| p == "Fail"),
                service: service_ref(w.client_config.service?),
                name: w.name,
            })
        })
        .collect()
}

/// A CRD's conversion webhook, when it calls a Service.
fn conversion(c: api::Crd) -> Option<Webhook> {
    let name = c.metadata.name;
    let service = c.spec.conversion?.webhook?.client_config?.service?;
    Some(Webhook {
        owner_kind: "CustomResourceDefinition".into(),
        owner_name: name.clone(),
        name,
        fails_closed: true,
        service: service_ref(service),
    })
}
