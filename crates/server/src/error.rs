//! The server's one error type and its single mapping to HTTP.

use std::time::Duration;

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use herald_protocol::{ErrorBody, ErrorDetail};
use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    MalformedJson(String),
    #[error("{0}")]
    Unauthorized(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Conflict(String),
    #[error("unknown or disabled users: {}", .0.join(", "))]
    UnknownUsers(Vec<String>),
    #[error("request body is larger than {} KiB", herald_protocol::MAX_BODY_BYTES / 1024)]
    PayloadTooLarge,
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Over a rate limit, or a busy password pool: try again after `retry_after`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after: Duration,
    },
    /// Over a cap on open connections.
    #[error("{message}")]
    TooManyConnections {
        message: String,
        retry_after: Duration,
    },
    #[error("the request body did not arrive within {0} s")]
    RequestTimeout(u32),
    #[error("configuration: {0}")]
    Config(String),
    #[error(transparent)]
    Store(#[from] herald_store::Error),
    #[error("I/O: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Internal(String),
}

impl Error {
    fn status_and_code(&self) -> (StatusCode, &'static str) {
        use herald_store::Error as S;
        match self {
            Error::BadRequest(_) | Error::Store(S::Invalid(_)) => {
                (StatusCode::BAD_REQUEST, "invalid_input")
            }
            Error::MalformedJson(_) => (StatusCode::BAD_REQUEST, "malformed_json"),
            Error::Unauthorized(_) => (StatusCode::UNAUTHORIZED, "unauthorized"),
            Error::Forbidden(_) | Error::Store(S::Forbidden(_)) => {
                (StatusCode::FORBIDDEN, "forbidden")
            }
            Error::NotFound(_) | Error::Store(S::NotFound(_)) => {
                (StatusCode::NOT_FOUND, "not_found")
            }
            Error::Conflict(_) | Error::Store(S::Conflict(_)) => (StatusCode::CONFLICT, "conflict"),
            Error::UnknownUsers(_) | Error::Store(S::UnknownUsers(_)) => {
                (StatusCode::UNPROCESSABLE_ENTITY, "unknown_users")
            }
            Error::PayloadTooLarge => (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
            Error::UnsupportedMediaType(_) => {
                (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type")
            }
            Error::RateLimited { .. } => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
            Error::TooManyConnections { .. } => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_connections")
            }
            Error::RequestTimeout(_) => (StatusCode::REQUEST_TIMEOUT, "request_timeout"),
            Error::Store(S::Closed) => (StatusCode::SERVICE_UNAVAILABLE, "shutting_down"),
            Error::Store(e) if e.is_storage_full() => {
                (StatusCode::INSUFFICIENT_STORAGE, "insufficient_storage")
            }
            Error::Store(S::CommitFailed(_) | S::Unavailable(_)) => {
                (StatusCode::SERVICE_UNAVAILABLE, "unavailable")
            }
            Error::Config(_) | Error::Store(_) | Error::Io(_) | Error::Internal(_) => {
                (StatusCode::INTERNAL_SERVER_ERROR, "internal")
            }
        }
    }

    /// The body clients see. Internal failures are logged in full and answered
    /// with a generic sentence: no SQL, paths or stack in a response.
    pub fn detail(&self) -> ErrorDetail {
        let (_, code) = self.status_and_code();
        // Storage failures are logged in full where they happen (the writer)
        // and answered in fixed words: their text may name files or SQL.
        let message = match code {
            "internal" => {
                tracing::error!(error = %self, "internal error");
                "internal server error; the server log has the details"
            }
            "insufficient_storage" => {
                "the server's storage is full: nothing was stored; try again once space is freed"
            }
            "unavailable" => "the database is unavailable: nothing was stored; try again shortly",
            _ => {
                return ErrorDetail {
                    code: code.to_owned(),
                    message: self.to_string(),
                }
            }
        };
        ErrorDetail {
            code: code.to_owned(),
            message: message.to_owned(),
        }
    }
}

/// A refused text field is the sender's mistake: `400 invalid_input` with the
/// field and the position of the offending character.
impl From<herald_protocol::text::TextError> for Error {
    fn from(error: herald_protocol::text::TextError) -> Self {
        Error::BadRequest(error.to_string())
    }
}

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        let (status, _) = self.status_and_code();
        let body = ErrorBody {
            error: self.detail(),
        };
        let mut response = (status, axum::Json(body)).into_response();
        if let Error::RateLimited { retry_after, .. }
        | Error::TooManyConnections { retry_after, .. } = self
        {
            let seconds = crate::limits::whole_seconds(retry_after);
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
        }
        response
    }
}
