//! Which answer a client asked for: the HTML report or the JSON document.
//!
//! The service answers a task as JSON unless the `Accept` header prefers HTML outright, so
//! CCE's SDKs (`application/json`), curl (`*/*`) and clients that send nothing keep getting
//! the document, and a browser (`text/html,…,*/*;q=0.8`) gets the report. Ties go to JSON.

/// Whether an `Accept` header value prefers `text/html` to `application/json`.
pub fn prefers_html(accept: &str) -> bool {
    let ranges: Vec<(&str, &str, f32)> = accept.split(',').filter_map(media_range).collect();
    quality(&ranges, "text", "html") > quality(&ranges, "application", "json")
}

/// `type/subtype;q=0.8` → (`type`, `subtype`, 0.8); `None` when it does not parse.
fn media_range(range: &str) -> Option<(&str, &str, f32)> {
    let mut parts = range.split(';');
    let (kind, subtype) = parts.next()?.trim().split_once('/')?;
    let mut q = 1.0;
    for param in parts {
        if let Some((name, value)) = param.split_once('=')
            && name.trim().eq_ignore_ascii_case("q")
        {
            q = value.trim().parse::<f32>().ok().filter(|q| (0.0..=1.0).contains(q))?;
        }
    }
    Some((kind.trim(), subtype.trim(), q))
}

/// The quality of `kind/subtype` under the most specific range that matches it (RFC 9110,
/// 12.5.1); 0 when none does.
fn quality(ranges: &[(&str, &str, f32)], kind: &str, subtype: &str) -> f32 {
    let specificity = |(k, s, _): &&(&str, &str, f32)| match (*k, *s) {
        (k, s) if k.eq_ignore_ascii_case(kind) && s.eq_ignore_ascii_case(subtype) => Some(2),
        (k, "*") if k.eq_ignore_ascii_case(kind) => Some(1),
        ("*", "*") => Some(0),
        _ => None,
    };
    ranges
        .iter()
        .filter_map(|r| specificity(&r).map(|s| (s, r.2)))
        .max_by_key(|(s, _)| *s)
        .map_or(0.0, |(_, q)| q)
}

#[cfg(test)]
mod tests {
    use super::prefers_html;

    #[test]
    fn a_browser_gets_html_and_api_clients_get_json() {
        let chromium =
            "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8";
        assert!(prefers_html(chromium));
        assert!(prefers_html("text/html"));
        assert!(prefers_html("TEXT/HTML; charset=utf-8"));
        assert!(prefers_html("application/json;q=0.5, text/html"));
    }

    #[test]
    fn json_stays_the_default() {
        for accept in [
            "",
            "*/*",
            "application/json",
            "application/json, text/html",
            "text/html;q=0.5, application/json",
            "text/html;q=0",
            "text/*, application/*",
            "text/html;q=nonsense",
            "garbage",
        ] {
            assert!(!prefers_html(accept), "{accept:?} must answer JSON");
        }
    }
}
