//! `/version`: the API server's gitVersion, and its clock from the response's `Date` header
//! (ages of leases and pods are measured against it). Always read: it is how the pass learns
//! the cluster can be examined at all.

use chrono::{DateTime, Utc};

use super::super::Pass;
use super::super::page::send;

/// `/version`'s gitVersion; the server's clock goes to the pass.
pub(super) async fn read(pass: &Pass<'_>) -> Result<String, kube::Error> {
    let request =
        http::Request::get("/version").body(Vec::new()).map_err(kube::Error::HttpError)?;
    let response = send(pass.client, request).await?;
    let date = response
        .headers()
        .get(http::header::DATE)
        .and_then(|d| d.to_str().ok())
        .and_then(|d| DateTime::parse_from_rfc2822(d).ok())
        .map(|d| d.with_timezone(&Utc));
    let body = response.into_body();
    let info: k8s_openapi::apimachinery::pkg::version::Info =
        serde_json::from_slice(&body).map_err(kube::Error::SerdeError)?;
    if let Ok(mut time) = pass.server_time.lock() {
        *time = date;
    }
    Ok(info.git_version)
}
