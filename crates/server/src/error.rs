//! Every way a request can fail, mapped to CCE's HTTP status, error code and body.
//!
//! CCE documents its error body as `{"errorCode": "CCE.01400001", "errorMessage": "..."}`.
//! The official Huawei Cloud SDKs, however, read the pair `error_code`/`error_msg` (then
//! `errorCode`/`errorMsg`, then `code`/`message`), so the body carries CCE's documented
//! pair and the SDKs' pair with the same values: consoles and SDKs both see the CCE code.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

/// A request that failed, with what a client should be told.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed: bad JSON, missing or wrong fields, bad IDs.
    #[error("Invalid request. {0}")]
    InvalidRequest(String),
    /// The body is not `application/json`.
    #[error("Content type not supported. {0}")]
    UnsupportedContentType(String),
    /// A version is not one the check can work with (the target is older than the source).
    #[error("Version not supported. {0}")]
    UnsupportedVersion(String),
    /// No credentials, or credentials that do not verify.
    #[error("Authorization failed. {0}")]
    Unauthorized(String),
    /// Valid credentials for another project.
    #[error("Forbidden. {0}")]
    Forbidden(String),
    /// No such cluster, task or route in the caller's project.
    #[error("Resource not found. {0}")]
    NotFound(String),
    /// Creating something that exists already.
    #[error("The resource already exists. {0}")]
    AlreadyExists(String),
    /// The body is larger than the service accepts (the limit, when known).
    #[error("Request body too large{}.", if *.0 > 0 { format!(": the limit is {} bytes", .0) } else { String::new() })]
    PayloadTooLarge(usize),
    /// Another check of the same cluster is running.
    #[error("Resource locked by other requests. {0}")]
    Locked(String),
    /// The route exists but not with this method.
    #[error("Method not allowed. {0}")]
    MethodNotAllowed(String),
    /// The client did not send its body in time.
    #[error("Request timeout. The body was not received within {0} seconds.")]
    RequestTimeout(u64),
    /// Too many requests of this credential or address; retry after so many seconds.
    #[error("The throttling threshold has been reached. {message}")]
    Throttled {
        /// What was throttled.
        message: String,
        /// Seconds until a retry may succeed (`Retry-After`).
        retry_after: u64,
    },
    /// The project has as many clusters as it may.
    #[error("Quota exceeded. {0}")]
    QuotaExceeded(String),
    /// The service is at its limit of requests in flight, or its database is not
    /// answering: retry later.
    #[error("Service temporarily unavailable. {0}")]
    ServiceUnavailable(String),
    /// The registered cluster could not be examined for a synchronous operation.
    #[error("The cluster could not be examined. {0}")]
    Unavailable(String),
    /// Something failed on the service's side; the detail is logged, not returned.
    #[error("Internal error.")]
    Internal(String),
}

impl ApiError {
    /// 404 for a cluster the project has not registered (or another project's).
    pub fn cluster_not_registered(cluster: &impl std::fmt::Display) -> Self {
        Self::NotFound(format!("Cluster {cluster} is not registered in this project."))
    }

    /// The HTTP status and CCE error code of this error.
    pub fn status_and_code(&self) -> (StatusCode, &'static str) {
        match self {
            Self::InvalidRequest(_) => (StatusCode::BAD_REQUEST, "CCE.01400001"),
            Self::UnsupportedContentType(_) => (StatusCode::BAD_REQUEST, "CCE.01400006"),
            Self::UnsupportedVersion(_) => (StatusCode::BAD_REQUEST, "CCE.01400015"),
            Self::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "CCE.01401001"),
            Self::Forbidden(_) => (StatusCode::FORBIDDEN, "CCE.01403001"),
            Self::NotFound(_) => (StatusCode::NOT_FOUND, "CCE.01404001"),
            Self::AlreadyExists(_) => (StatusCode::CONFLICT, "CCE.01409001"),
            Self::PayloadTooLarge(_) => (StatusCode::PAYLOAD_TOO_LARGE, "CCE.01413001"),
            Self::Locked(_) => (StatusCode::TOO_MANY_REQUESTS, "CCE.01429002"),
            Self::MethodNotAllowed(_) => (StatusCode::METHOD_NOT_ALLOWED, "CCE.01405001"),
            Self::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "CCE.01408001"),
            Self::Throttled { .. } => (StatusCode::TOO_MANY_REQUESTS, "CCE.02429001"),
            Self::QuotaExceeded(_) => (StatusCode::FORBIDDEN, "CCE.01403002"),
            Self::ServiceUnavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "CCE.01503002"),
            Self::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "CCE.01503001"),
            Self::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "CCE.01500001"),
        }
    }

    /// The error a bare status from outside the handlers stands for (a framework's 404, 405,
    /// 413, 415...), so that it too answers in CCE's form.
    pub fn for_status(status: StatusCode) -> Self {
        match status {
            StatusCode::NOT_FOUND => Self::NotFound("No such route.".into()),
            StatusCode::METHOD_NOT_ALLOWED => {
                Self::MethodNotAllowed("The route does not take this method.".into())
            }
            StatusCode::PAYLOAD_TOO_LARGE => Self::PayloadTooLarge(0),
            StatusCode::UNSUPPORTED_MEDIA_TYPE => {
                Self::UnsupportedContentType("Send the body as application/json.".into())
            }
            StatusCode::REQUEST_TIMEOUT => Self::RequestTimeout(0),
            StatusCode::TOO_MANY_REQUESTS => {
                Self::Throttled { message: "Retry later.".into(), retry_after: 1 }
            }
            StatusCode::UNAUTHORIZED => Self::Unauthorized("Authorization failed.".into()),
            StatusCode::FORBIDDEN => Self::Forbidden("Forbidden.".into()),
            StatusCode::SERVICE_UNAVAILABLE => Self::ServiceUnavailable("Retry later.".into()),
            s if s.is_client_error() => Self::InvalidRequest(
                s.canonical_reason().unwrap_or("The request was refused").to_owned() + ".",
            ),
            s => Self::Internal(format!("a bare {s} from outside the handlers")),
        }
    }

    /// An internal error from anything displayable; the detail goes to the log only.
    pub fn internal(context: &str, e: impl std::fmt::Display) -> Self {
        Self::Internal(format!("{context}: {e}"))
    }
}

impl From<postcheck_store::StoreError> for ApiError {
    fn from(e: postcheck_store::StoreError) -> Self {
        match e {
            postcheck_store::StoreError::Conflict { what } => {
                Self::AlreadyExists(format!("{what} already exists."))
            }
            postcheck_store::StoreError::QuotaExceeded { limit } => Self::QuotaExceeded(format!(
                "The project has {limit} clusters registered, as many as it may; remove one first."
            )),
            unavailable @ postcheck_store::StoreError::Unavailable { .. } => {
                tracing::error!(error = %unavailable, "the database is unavailable");
                Self::ServiceUnavailable("The database is not answering; retry later.".into())
            }
            other => Self::internal("the database", other),
        }
    }
}

/// CCE's error body, with the SDKs' spelling of the same pair.
#[derive(Debug, Clone, Serialize, serde::Deserialize, ToSchema)]
pub struct ErrorBody {
    /// CCE's error code, such as `CCE.01400001`.
    #[serde(rename = "errorCode")]
    pub error_code: String,
    /// What went wrong, for a person.
    #[serde(rename = "errorMessage")]
    pub error_message: String,
    /// The same code, where the Huawei Cloud SDKs read it.
    #[serde(rename = "error_code")]
    pub sdk_error_code: String,
    /// The same message, where the Huawei Cloud SDKs read it.
    #[serde(rename = "error_msg")]
    pub sdk_error_msg: String,
}

impl ErrorBody {
    fn new(code: &str, message: String) -> Self {
        Self {
            error_code: code.to_owned(),
            sdk_error_code: code.to_owned(),
            sdk_error_msg: message.clone(),
            error_message: message,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code) = self.status_and_code();
        if let Self::Internal(detail) = &self {
            tracing::error!(error = %detail, "request failed on the service's side");
        }
        let message = self.to_string();
        let message = message.trim_end().to_owned();
        let mut response = (status, Json(ErrorBody::new(code, message))).into_response();
        if let Self::Throttled { retry_after, .. } = &self {
            response.headers_mut().insert(http::header::RETRY_AFTER, (*retry_after).max(1).into());
        }
        response
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn an_error_answers_in_cce_shape_readable_by_the_sdks() {
        let response = ApiError::Forbidden("not your project".into()).into_response();
        assert_eq!(response.status(), StatusCode::FORBIDDEN);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let v: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(v["errorCode"], "CCE.01403001");
        assert_eq!(v["error_code"], "CCE.01403001");
        assert_eq!(v["errorMessage"], "Forbidden. not your project");
        assert_eq!(v["error_msg"], v["errorMessage"]);
    }

    #[tokio::test]
    async fn an_internal_error_does_not_leak_its_detail() {
        let response =
            ApiError::internal("the database", "password=hunter2 refused").into_response();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 16).await.unwrap();
        let text = String::from_utf8(bytes.to_vec()).unwrap();
        assert!(!text.contains("hunter2"), "{text}");
        assert!(text.contains("CCE.01500001"));
    }
}
