//! `/auth/*` and `/me`.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{ErrorBody, LoginRequest, LoginResponse, RegisterRequest, User};

use super::extract::{ClientIp, Json, Session};
use crate::service::{accounts, tokens};
use crate::state::AppState;
use crate::Result;

/// Create an account (only when the server's registration policy is `open`).
#[utoipa::path(post, path = "/api/v1/auth/register", tag = "accounts",
    request_body = RegisterRequest,
    responses((status = 201, body = User), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "the password threads are busy; see Retry-After")))]
pub async fn register(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Json(request): Json<RegisterRequest>,
) -> Result<(StatusCode, Json<User>)> {
    let user = accounts::register(&state, client, request).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Exchange a password for a session token for one device.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "accounts",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = ErrorBody),
              (status = 403, body = ErrorBody),
              (status = 429, body = ErrorBody, description = "failed-login backoff or busy password threads; see Retry-After")))]
pub async fn login(
    State(state): State<AppState>,
    ClientIp(client): ClientIp,
    Json(request): Json<LoginRequest>,
) -> Result<Json<LoginResponse>> {
    Ok(Json(accounts::login(&state, client, request).await?))
}

/// End this device's session (its token stops working).
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "accounts",
    security(("bearer" = [])), responses((status = 204)))]
pub async fn logout(State(state): State<AppState>, Session(me): Session) -> Result<StatusCode> {
    tokens::log_out(&state, &me).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller.
#[utoipa::path(get, path = "/api/v1/me", tag = "accounts",
    security(("bearer" = [])), responses((status = 200, body = User)))]
pub async fn me(Session(me): Session) -> Json<User> {
    Json(me.user)
}
