//! Views of the API extensions: APIServices, admission webhook configurations, CRDs'
//! conversion webhooks.

use serde::Deserialize;

use super::{ClientConfig, ConditionsOnly, Meta, ServiceReference, null_default};

/// An APIService.
#[derive(Debug, Deserialize)]
pub(crate) struct ApiService {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: ApiServiceSpec,
    /// Status.
    #[serde(default)]
    pub(crate) status: ConditionsOnly,
}

/// An APIService's spec.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct ApiServiceSpec {
    /// The Service behind it; absent for the API server's own groups.
    #[serde(default)]
    pub(crate) service: Option<ServiceReference>,
}

/// A Validating- or MutatingWebhookConfiguration.
#[derive(Debug, Deserialize)]
pub(crate) struct WebhookConfiguration {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Its webhooks.
    #[serde(default, deserialize_with = "null_default")]
    pub(crate) webhooks: Vec<AdmissionWebhook>,
}

/// One admission webhook.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct AdmissionWebhook {
    /// Name.
    #[serde(default)]
    pub(crate) name: String,
    /// `Fail` (the default) or `Ignore`.
    #[serde(default)]
    pub(crate) failure_policy: Option<String>,
    /// Where it is called.
    #[serde(default)]
    pub(crate) client_config: ClientConfig,
}

/// A CustomResourceDefinition, as far as its conversion webhook.
#[derive(Debug, Deserialize)]
pub(crate) struct Crd {
    /// Metadata.
    #[serde(default)]
    pub(crate) metadata: Meta,
    /// Spec.
    #[serde(default)]
    pub(crate) spec: CrdSpec,
}

/// A CRD's spec, as far as its conversion webhook.
#[derive(Debug, Default, Deserialize)]
pub(crate) struct CrdSpec {
    /// Conversion.
    #[serde(default)]
    pub(crate) conversion: Option<CrdConversion>,
}

/// A CRD's conversion.
#[derive(Debug, Deserialize)]
pub(crate) struct CrdConversion {
    /// The webhook, when the strategy is `Webhook`.
    #[serde(default)]
    pub(crate) webhook: Option<CrdConversionWebhook>,
}

/// A CRD's conversion webhook.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct CrdConversionWebhook {
    /// Where it is called.
    #[serde(default)]
    pub(crate) client_config: Option<ClientConfig>,
}
