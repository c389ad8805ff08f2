//! Health and metrics, for load balancers, service managers and Prometheus.

use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use axum::Json;
use herald_protocol::{Health, HealthStatus, WriteError};
use herald_store::{FailureKind, WriteFailure};

use crate::state::AppState;

/// 200 when the store answers reads and writes go through; 503 (same body)
/// when either does not, so a load balancer or service manager stops sending
/// writes to a server that can only refuse them.
#[utoipa::path(get, path = "/healthz", tag = "operations",
    responses((status = 200, body = Health), (status = 503, body = Health)))]
pub async fn healthz(State(state): State<AppState>) -> impl IntoResponse {
    let mut writer = state.store.writer_status();
    if writer.running && writer.failing.is_some() {
        // The last write failed: try one now (the disk may have been freed)
        // rather than report the failure until the next real write.
        if let Err(e) = state.store.probe_write().await {
            tracing::warn!(error = %e, "health check: writes still fail");
        }
        writer = state.store.writer_status();
    }
    let reads = match state.store.stream_bounds().await {
        Ok(_) => true,
        Err(e) => {
            tracing::warn!(error = %e, "health check: the store cannot be read");
            false
        }
    };
    let writes = writer.accepting_writes();
    let (code, status) = if reads && writes {
        (StatusCode::OK, HealthStatus::Ok)
    } else {
        (StatusCode::SERVICE_UNAVAILABLE, HealthStatus::Unavailable)
    };
    let health = Health {
        status,
        reads,
        writes,
        writer_running: writer.running,
        last_write_error: writer.last_failure.map(write_error),
    };
    (code, Json(health))
}

fn write_error(failure: WriteFailure) -> WriteError {
    let message = match failure.kind {
        FailureKind::StorageFull => "the disk holding the database is full",
        FailureKind::Commit => "a write transaction could not be committed",
        FailureKind::Panic => "a write failed on an internal error",
    };
    WriteError {
        at: failure.at,
        code: failure.kind.as_str().to_owned(),
        message: message.to_owned(),
    }
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "operations",
    responses((status = 200, body = String,
               content_type = "application/openmetrics-text; version=1.0.0; charset=utf-8")))]
pub async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}
