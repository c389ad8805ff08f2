//! `GET /healthz`: whether the server can read and write its store.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// The answer of `GET /healthz`: 200 with `status: "ok"` when the store answers
/// reads and writes go through, 503 with `status: "unavailable"` otherwise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Health {
    pub status: HealthStatus,
    /// The store answers reads.
    pub reads: bool,
    /// The writer runs and its last write went through.
    pub writes: bool,
    /// The writer (a thread for SQLite, a task for PostgreSQL) takes requests.
    pub writer_running: bool,
    /// The most recent failed write, even if writes have gone through since.
    pub last_write_error: Option<WriteError>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    Ok,
    Unavailable,
}

/// A failed write as `/healthz` shows it; the server's log has the details.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WriteError {
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    /// `storage_full`, `commit_failed` or `panic`.
    pub code: String,
    pub message: String,
}
