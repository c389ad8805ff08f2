//! `/api/v1/ws`: the upgrade to a WebSocket.
//!
//! Each connection then runs as a session ([`crate::ws`]): it registers with the
//! hub, optionally replays from the client's cursor, then forwards live events,
//! counts and pushes while answering the client's requests and keeping the link
//! alive with pings.

use std::time::Duration;

use axum::extract::ws::WebSocketUpgrade;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::response::Response;
use herald_protocol::{TokenKind, MAX_FRAME_BYTES};

use super::extract::{bearer_token, ClientIp};
use crate::service::accounts;
use crate::state::AppState;
use crate::ws;
use crate::{Error, Result};

/// tungstenite allocates and zero-fills the whole read buffer for every
/// connection up front. Client frames are small, and a larger one grows the
/// buffer while it is read, so idle connections keep only this much.
const READ_BUFFER_BYTES: usize = 1024;
/// Frames go out at each flush, or earlier once this much is buffered. The
/// buffer never shrinks, so this bounds what a burst leaves a connection holding.
const WRITE_BUFFER_BYTES: usize = 16 * 1024;

/// What a client refused by a connection cap is told to wait before trying again.
const RECONNECT_AFTER: Duration = Duration::from_secs(30);

/// Upgrades to a WebSocket. With an `Authorization` header the token is checked
/// here (401 before upgrading); without one, the first frame must be `auth`.
/// A request that is not a WebSocket upgrade gets 400 (as plain text). A user at
/// `ws_per_user` connections, or an address at `ws_unauthenticated_per_ip`
/// sockets still waiting to authenticate, gets 429.
#[utoipa::path(get, path = "/api/v1/ws", tag = "events",
    responses((status = 101, description = "switching to the WebSocket protocol"),
              (status = 400, description = "not a WebSocket upgrade request", body = String,
               content_type = "text/plain"),
              (status = 401, body = herald_protocol::ErrorBody),
              (status = 403, body = herald_protocol::ErrorBody),
              (status = 429, body = herald_protocol::ErrorBody)))]
pub async fn upgrade(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    headers: HeaderMap,
    upgrade: WebSocketUpgrade,
) -> Result<Response> {
    let admission = match bearer_token(&headers) {
        Some(token) => {
            let (principal, epoch) = accounts::authenticate_at(&state, token).await?;
            if principal.token.kind != TokenKind::Session {
                return Err(Error::Forbidden(
                    "send-only tokens cannot open the event stream".into(),
                ));
            }
            if state.hub.is_full_for(principal.user.id) {
                state.metrics.ws_refused("per_user");
                return Err(too_many(format!(
                    "you already have {} live connections; close one first",
                    state.config.ws_per_user
                )));
            }
            ws::Admission::Authenticated(principal, epoch)
        }
        None => {
            let cap = state.config.ws_unauthenticated_per_ip;
            let pending = state
                .limits
                .unauthenticated
                .claim(client, cap)
                .ok_or_else(|| {
                    state.metrics.ws_refused("unauthenticated_per_ip");
                    too_many(format!(
                        "{cap} connections from your address are still waiting to authenticate"
                    ))
                })?;
            ws::Admission::Pending(pending)
        }
    };
    Ok(upgrade
        .read_buffer_size(READ_BUFFER_BYTES)
        .write_buffer_size(WRITE_BUFFER_BYTES)
        .max_frame_size(MAX_FRAME_BYTES)
        .max_message_size(MAX_FRAME_BYTES)
        .on_upgrade(move |socket| ws::run(socket, state, admission)))
}

fn too_many(message: String) -> Error {
    Error::TooManyConnections {
        message,
        retry_after: RECONNECT_AFTER,
    }
}
