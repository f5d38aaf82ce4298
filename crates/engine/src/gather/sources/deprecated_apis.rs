//! The API server's `/metrics`, read for one metric: `apiserver_requested_deprecated_apis`,
//! a gauge set to 1 for every deprecated API version a client has requested since the API
//! server started (labels `group`, `version`, `resource`, `subresource`, `removed_release`).
//! The Prometheus text format is parsed here, as far as that metric's series.

use super::super::{Pass, plan};
use crate::snapshot::DeprecatedApiCall;

/// The metric's name.
const METRIC: &str = "apiserver_requested_deprecated_apis";

pub(super) async fn read(pass: &Pass<'_>) -> Result<Vec<DeprecatedApiCall>, kube::Error> {
    plan::in_chain("deprecated-apis", async {
        let request =
            http::Request::get("/metrics").body(Vec::new()).map_err(kube::Error::HttpError)?;
        let text = pass.client.request_text(request).await?;
        Ok(parse_metrics(&text))
    })
    .await
}

/// Every series of the metric whose value is not 0, in the order the API server lists them.
pub(super) fn parse_metrics(text: &str) -> Vec<DeprecatedApiCall> {
    let mut out = Vec::new();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix(METRIC) else { continue };
        let Some(rest) = rest.strip_prefix('{') else { continue };
        let Some((labels, value)) = split_labels(rest) else { continue };
        if value.trim().parse::<f64>().map_or(true, |v| v == 0.0) {
            continue;
        }
        let get = |k: &str| labels.iter().find(|(key, _)| key == k).map(|(_, v)| v.clone());
        let (Some(version), Some(resource)) = (get("version"), get("resource")) else {
            continue;
        };
        let call = DeprecatedApiCall {
            group: get("group").unwrap_or_default(),
            version,
            resource,
            subresource: get("subresource").unwrap_or_default(),
            removed_release: get("removed_release").filter(|r| !r.is_empty()),
        };
        if !out.contains(&call) {
            out.push(call);
        }
    }
    out
}

/// Reads `k="v",k2="v2"} value` into the labels and the rest of the line after `}`.
fn split_labels(text: &str) -> Option<(Vec<(String, String)>, &str)> {
    let mut labels = Vec::new();
    let mut rest = text;
    loop {
        rest = rest.trim_start_matches([',', ' ']);
        if let Some(after) = rest.strip_prefix('}') {
            return Some((labels, after));
        }
        let (key, after) = rest.split_once("=\"")?;
        let mut value = String::new();
        let mut chars = after.char_indices();
        let end = loop {
            let (i, c) = chars.next()?;
            match c {
                '\\' => match chars.next()?.1 {
                    'n' => value.push('\n'),
                    other => value.push(other),
                },
                '"' => break i,
                c => value.push(c),
            }
        };
        labels.push((key.trim().to_owned(), value));
        rest = &after[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_deprecated_api_series_and_ignores_the_rest() {
        let text = r#"# HELP apiserver_requested_deprecated_apis [STABLE] Gauge of deprecated APIs that have been requested, broken out by API group, version, resource, subresource, and removed_release.
# TYPE apiserver_requested_deprecated_apis gauge
apiserver_requested_deprecated_apis{group="faults.postcheck.dev",removed_release="",resource="widgets",subresource="",version="v1beta1"} 1
apiserver_requested_deprecated_apis{group="",removed_release="1.38",resource="things",subresource="status",version="v1beta2"} 1
apiserver_requested_deprecated_apis{group="gone.example",removed_release="",resource="olds",subresource="",version="v1"} 0
apiserver_request_total{code="200",verb="GET"} 17
"#;
        let calls = parse_metrics(text);
        assert_eq!(calls.len(), 2, "{calls:?}");
        assert_eq!(calls[0].url(), "/apis/faults.postcheck.dev/v1beta1/widgets");
        assert_eq!(calls[0].removed_release, None);
        assert_eq!(calls[1].removed_release.as_deref(), Some("1.38"));
        assert_eq!(calls[1].url(), "/api/v1beta2/things/status");
    }

    #[test]
    fn escaped_quotes_in_a_label_do_not_end_it() {
        let (labels, value) = split_labels(r#"a="x\"y",b="z"} 1"#).unwrap();
        assert_eq!(labels, [("a".into(), "x\"y".into()), ("b".into(), "z".into())]);
        assert_eq!(value, " 1");
        assert!(split_labels(r#"a="unterminated"#).is_none());
    }
}
