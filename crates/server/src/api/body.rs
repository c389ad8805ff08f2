//! Request bodies arrive whole within `request_body_timeout_s`.
//!
//! The listener's timeouts stop while a request is in flight (a long-poll may
//! rightly wait a minute), so a client trickling its body a byte at a time
//! would hold a handler, and its connection, for as long as it liked. Here the
//! body is read, up to the size limit, before the handler runs, against one
//! deadline for the whole of it; requests without a body (reads, WebSocket
//! upgrades, long-polls) pass straight through.

use std::time::Duration;

use axum::body::{Body, HttpBody};
use axum::extract::{Request, State};
use axum::http::{header, HeaderValue};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use herald_protocol::MAX_BODY_BYTES;
use http_body_util::LengthLimitError;

use crate::state::AppState;
use crate::Error;

pub async fn read_within_deadline(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    if request.body().is_end_stream() {
        return next.run(request).await;
    }
    let (parts, body) = request.into_parts();
    let seconds = state.config.request_body_timeout_s;
    let read = axum::body::to_bytes(body, MAX_BODY_BYTES);
    match tokio::time::timeout(Duration::from_secs(seconds.into()), read).await {
        Ok(Ok(bytes)) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Ok(Err(e)) => unreadable(e).into_response(),
        Err(_) => {
            state.metrics.http_timeout("body");
            // The rest of the body may still be coming: this connection is done.
            let mut response = Error::RequestTimeout(seconds).into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    }
}

/// Over the size limit, or the client went away mid-body.
fn unreadable(error: axum::Error) -> Error {
    if error
        .into_inner()
        .downcast_ref::<LengthLimitError>()
        .is_some()
    {
        Error::PayloadTooLarge
    } else {
        Error::BadRequest("the request body could not be read".into())
    }
}
