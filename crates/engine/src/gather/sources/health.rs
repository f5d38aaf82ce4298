//! `/readyz?verbose` and `/livez?verbose`: every line of both, one after the other (one
//! chain of the floor plan).

use super::super::{Pass, plan};
use crate::snapshot::HealthCheck;

/// The lines of `/readyz?verbose` and `/livez?verbose`. A failing endpoint answers 500
/// with the same verbose text, which is what we want to read.
pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<HealthCheck>, kube::Error> {
    plan::in_chain("health", both(pass.client)).await
}

async fn both(client: &kube::Client) -> Result<Vec<HealthCheck>, kube::Error> {
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
fn parse_health(endpoint: &str, text: &str) -> Vec<HealthCheck> {
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
}
