//! Prometheus metrics served at `GET /metrics`.

use std::time::Instant;

use axum::extract::{MatchedPath, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use crate::state::AppState;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

pub struct Metrics {
    registry: Registry,
    /// Open WebSocket connections.
    pub connections: Gauge,
    /// Events committed to the stream.
    pub events: Counter,
    /// Frames queued to connections (one per event per receiving socket).
    pub deliveries: Counter,
    /// Connections closed because they could not keep up.
    pub slow_consumers: Counter,
    /// Times the Redis link between nodes broke and was re-established.
    pub fanout_relinks: Counter,
    requests: Family<RouteLabels, Histogram>,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("herald");
        let connections = Gauge::default();
        let events = Counter::default();
        let deliveries = Counter::default();
        let slow_consumers = Counter::default();
        let fanout_relinks = Counter::default();
        let requests = Family::<RouteLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.000_25, 2.0, 16))
        });
        registry.register(
            "ws_connections",
            "Open WebSocket connections",
            connections.clone(),
        );
        registry.register("events", "Events committed to the stream", events.clone());
        registry.register(
            "deliveries",
            "Frames queued to WebSocket connections",
            deliveries.clone(),
        );
        registry.register(
            "slow_consumers",
            "Connections closed for not keeping up",
            slow_consumers.clone(),
        );
        registry.register(
            "fanout_relinks",
            "Times the Redis link to the other nodes was re-established",
            fanout_relinks.clone(),
        );
        registry.register(
            "http_request_duration_seconds",
            "REST request latency",
            requests.clone(),
        );
        Self {
            registry,
            connections,
            events,
            deliveries,
            slow_consumers,
            fanout_relinks,
            requests,
        }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Times every request, labelled by its route pattern (never the raw path, which
/// would make one series per id).
pub async fn track(State(state): State<AppState>, request: Request, next: Next) -> Response {
    let route = request
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_owned())
        .unwrap_or_else(|| "unmatched".to_owned());
    let method = request.method().to_string();
    let started = Instant::now();
    let response = next.run(request).await;
    let labels = RouteLabels {
        method,
        route,
        status: response.status().as_u16(),
    };
    state
        .metrics
        .requests
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}
