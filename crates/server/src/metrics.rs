//! Prometheus metrics at `/metrics`: requests, latencies, tasks by phase, check durations.
//!
//! - `postcheck_http_requests_total{method,route,status}` and
//!   `postcheck_http_request_duration_seconds{method,route}`: every request, labelled with
//!   the route template (never the raw path, so IDs do not explode the label space).
//! - `postcheck_tasks_total{phase}`: tasks that ended, by phase; `postcheck_tasks_running`:
//!   checks running on this replica now.
//! - `postcheck_check_duration_seconds{phase}`: how long checks took.

use std::time::{Duration, Instant};

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use postcheck_model::TaskPhase;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use crate::state::AppState;

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    method: String,
    route: String,
    status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    method: String,
    route: String,
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
        registry.register("tasks", "Post-check tasks that ended, by phase", tasks.clone());
        registry.register(
            "tasks_running",
            "Post-check tasks running on this replica",
            running.clone(),
        );
        registry.register(
            "check_duration_seconds",
            "Time a post-check took, by phase",
            check_duration.clone(),
        );
        Self { registry, requests, latency, tasks, running, check_duration }
    }

    /// Records one answered request.
    pub fn observe_request(&self, method: &str, route: &str, status: u16, elapsed: Duration) {
        self.requests
            .get_or_create(&RequestLabels { method: method.into(), route: route.into(), status })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { method: method.into(), route: route.into() })
            .observe(elapsed.as_secs_f64());
    }

    /// A check started on this replica.
    pub fn task_started(&self) {
        self.running.inc();
    }

    /// A check ended on this replica, in `phase`, after `elapsed`.
    pub fn task_finished(&self, phase: TaskPhase, elapsed: Duration) {
        self.running.dec();
        let labels = PhaseLabels { phase: phase.as_str().into() };
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

/// The middleware that times and counts every request.
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().as_str().to_owned();
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map_or_else(|| "unmatched".to_owned(), |p| p.as_str().to_owned());
    let response = next.run(request).await;
    state.metrics.observe_request(&method, &route, response.status().as_u16(), started.elapsed());
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_requests_and_tasks_by_phase() {
        let m = Metrics::new();
        m.observe_request(
            "POST",
            "/api/v3/projects/{project_id}/clusters",
            201,
            Duration::from_millis(3),
        );
        m.task_started();
        m.task_finished(TaskPhase::Failed, Duration::from_secs(2));
        let text = m.render();
        assert!(text.contains(r#"postcheck_http_requests_total{method="POST",route="/api/v3/projects/{project_id}/clusters",status="201"} 1"#), "{text}");
        assert!(text.contains(r#"postcheck_tasks_total{phase="Failed"} 1"#), "{text}");
        assert!(text.contains("postcheck_tasks_running 0"), "{text}");
        assert!(
            text.contains("postcheck_check_duration_seconds_count{phase=\"Failed\"} 1"),
            "{text}"
        );
    }
}
