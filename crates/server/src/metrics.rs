//! Prometheus metrics served at `GET /metrics`.

use std::sync::Arc;
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

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    method: String,
    route: String,
    status: u16,
}

/// Why something was refused or cut: one label, a fixed set of values.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct ReasonLabels {
    reason: &'static str,
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
    /// Password-hashing threads at work.
    pub hash_pool_busy: Gauge,
    /// Hashing refused because every thread (or the client's share) was busy.
    pub hash_pool_saturated: Counter,
    /// Login attempts refused by the backoff, by the record that refused them.
    login_throttled: Family<ReasonLabels, Counter>,
    /// Sends refused by a rate limit, by limit.
    rate_limited: Family<ReasonLabels, Counter>,
    /// WebSockets refused by a cap, by cap.
    ws_refused: Family<ReasonLabels, Counter>,
    /// Open TCP connections, WebSockets included.
    pub http_connections: Gauge,
    /// New connections answered `503` because `max_connections` were open.
    pub http_connections_refused: Counter,
    /// Connections closed for a timeout, by timeout.
    http_timeouts: Family<ReasonLabels, Counter>,
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
        let hash_pool_busy = Gauge::default();
        let hash_pool_saturated = Counter::default();
        let login_throttled = Family::default();
        let rate_limited = Family::default();
        let ws_refused = Family::default();
        let http_connections = Gauge::default();
        let http_connections_refused = Counter::default();
        let http_timeouts = Family::default();
        registry.register(
            "password_hash_busy",
            "Password-hashing threads at work",
            hash_pool_busy.clone(),
        );
        registry.register(
            "password_hash_saturated",
            "Password hashes refused because the hashing threads were busy",
            hash_pool_saturated.clone(),
        );
        registry.register(
            "login_throttled",
            "Login attempts refused by the failed-login backoff",
            login_throttled.clone(),
        );
        registry.register(
            "rate_limited",
            "Sends refused by a rate limit",
            rate_limited.clone(),
        );
        registry.register(
            "ws_refused",
            "WebSocket connections refused by a cap",
            ws_refused.clone(),
        );
        registry.register(
            "http_connections",
            "Open TCP connections, WebSockets included",
            http_connections.clone(),
        );
        registry.register(
            "http_connections_refused",
            "New connections refused because max_connections were open",
            http_connections_refused.clone(),
        );
        registry.register(
            "http_timeouts",
            "Connections and requests cut by a timeout",
            http_timeouts.clone(),
        );
        Self {
            registry,
            connections,
            events,
            deliveries,
            slow_consumers,
            fanout_relinks,
            requests,
            hash_pool_busy,
            hash_pool_saturated,
            login_throttled,
            rate_limited,
            ws_refused,
            http_connections,
            http_connections_refused,
            http_timeouts,
        }
    }
}

impl Metrics {
    /// A login refused by the backoff on its `address` or `username` record.
    pub fn login_throttled(&self, reason: &'static str) {
        self.login_throttled
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// A send refused by the `publish` or `chat` limit.
    pub fn rate_limited(&self, reason: &'static str) {
        self.rate_limited
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// A WebSocket refused by the `per_user` or `unauthenticated_per_ip` cap.
    pub fn ws_refused(&self, reason: &'static str) {
        self.ws_refused
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    /// A connection cut by the `header`, `keep_alive` or `body` timeout.
    pub fn http_timeout(&self, reason: &'static str) {
        self.http_timeouts
            .get_or_create(&ReasonLabels { reason })
            .inc();
    }

    pub fn render(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry)
            .expect("writing to a String cannot fail");
        out
    }
}

/// Times every request, labelled by its route pattern (never the raw path, which
/// would make one series per id).
pub async fn track(State(metrics): State<Arc<Metrics>>, request: Request, next: Next) -> Response {
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
    metrics
        .requests
        .get_or_create(&labels)
        .observe(started.elapsed().as_secs_f64());
    response
}
