//! Prometheus metrics at `/metrics`: requests, latencies, tasks by phase, check durations.
//!
//! - `postcheck_http_requests_total{method,route,status}` and
//!   `postcheck_http_request_duration_seconds{method,route}`: every request. Every label
//!   comes from a closed set, so no client can grow the exposition: the method is one of
//!   the standard ones or `other`, the route is the matched template (never the raw path)
//!   or `unmatched`.
//! - `postcheck_tasks_total{phase}`: tasks that ended, by phase; `postcheck_tasks_running`:
//!   checks running on this replica now.
//! - `postcheck_check_duration_seconds{phase}`: how long checks took.

//!
//! Plain data: the request middleware that feeds it lives in `routes::middleware`.

use std::time::Duration;

use http::Method;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: &'static str,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: &'static str,
    route: String,
}

/// The label of a method: one of the standard ones, else `other`.
pub fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::PATCH => "PATCH",
        _ => "other",
    }
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PhaseLabels {
    phase: String,
}

type HistogramFamily<L> = Family<L, Histogram, fn() -> Histogram>;

fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 16))
}

fn check_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.01, 2.0, 16))
}

/// The service's metrics and their registry.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: HistogramFamily<RouteLabels>,
    tasks: Family<PhaseLabels, Counter>,
    running: Gauge,
    check_duration: HistogramFamily<PhaseLabels>,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics(..)")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    /// A fresh set of metrics.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("postcheck");
        let requests = Family::<RequestLabels, Counter>::default();
        let latency: HistogramFamily<RouteLabels> = Family::new_with_constructor(latency_histogram);
        let tasks = Family::<PhaseLabels, Counter>::default();
        let running = Gauge::default();
        let check_duration: HistogramFamily<PhaseLabels> =
            Family::new_with_constructor(check_histogram);
        registry.register("http_requests", "HTTP requests answered", requests.clone());
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request",
            latency.clone(),
        );
        registry.register(
            "tasks",
            "Check tasks (post and pre) that ended, by phase",
            tasks.clone(),
        );
        registry.register(
            "tasks_running",
            "Post-check tasks running on this replica",
            running.clone(),
        );
        registry.register(
            "check_duration_seconds",
            "Time a check (post or pre) took, by phase",
            check_duration.clone(),
        );
        Self { registry, requests, latency, tasks, running, check_duration }
    }

    /// Records one answered request: `route` is the matched route template (one of the
    /// application's constants), `None` when no route matched.
    pub fn observe_request(
        &self,
        method: &Method,
        route: Option<&str>,
        status: u16,
        elapsed: Duration,
    ) {
        let method = method_label(method);
        let route = route.unwrap_or("unmatched").to_owned();
        self.requests.get_or_create(&RequestLabels { method, route: route.clone(), status }).inc();
        self.latency.get_or_create(&RouteLabels { method, route }).observe(elapsed.as_secs_f64());
    }

    /// A check started on this replica.
    pub fn task_started(&self) {
        self.running.inc();
    }

    /// A check (post or pre) ended on this replica, in `phase` (as CCE spells it: a closed
    /// set), after `elapsed`.
    pub fn task_finished(&self, phase: &'static str, elapsed: Duration) {
        self.running.dec();
        let labels = PhaseLabels { phase: phase.into() };
        self.tasks.get_or_create(&labels).inc();
        self.check_duration.get_or_create(&labels).observe(elapsed.as_secs_f64());
    }

    /// The Prometheus text exposition of every metric.
    pub fn render(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use postcheck_model::TaskPhase;

    #[test]
    fn renders_requests_and_tasks_by_phase() {
        let m = Metrics::new();
        m.observe_request(
            &Method::POST,
            Some("/api/v3/projects/{project_id}/clusters"),
            201,
            Duration::from_millis(3),
        );
        for i in 0..100 {
            let odd = Method::from_bytes(format!("M{i}").as_bytes()).unwrap();
            m.observe_request(&odd, None, 405, Duration::from_millis(1));
        }
        m.task_started();
        m.task_finished(TaskPhase::Failed.as_str(), Duration::from_secs(2));
        let text = m.render();
        assert!(text.contains(r#"postcheck_http_requests_total{method="POST",route="/api/v3/projects/{project_id}/clusters",status="201"} 1"#), "{text}");
        assert!(text.contains(r#"postcheck_tasks_total{phase="Failed"} 1"#), "{text}");
        assert!(text.contains("postcheck_tasks_running 0"), "{text}");
        assert!(
            text.contains(r#"postcheck_http_requests_total{method="other",route="unmatched",status="405"} 100"#),
            "{text}"
        );
        assert!(
            text.contains("postcheck_check_duration_seconds_count{phase=\"Failed\"} 1"),
            "{text}"
        );
    }
}
