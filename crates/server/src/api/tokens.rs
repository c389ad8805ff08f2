//! `/tokens`: send-only tokens for CI and scripts, and the caller's sessions.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{CreateTokenRequest, CreatedToken, ErrorBody, TokenInfo};

use super::extract::{Json, Path, Session};
use crate::service::tokens;
use crate::state::AppState;
use crate::Result;

/// Create a send-only token; its secret is in this answer only.
#[utoipa::path(post, path = "/api/v1/tokens", tag = "tokens", request_body = CreateTokenRequest,
    security(("bearer" = [])), responses((status = 201, body = CreatedToken)))]
pub async fn create(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<CreateTokenRequest>,
) -> Result<(StatusCode, Json<CreatedToken>)> {
    let created = tokens::create_send_token(&state, me.user.id, &request.name).await?;
    Ok((StatusCode::CREATED, Json(created)))
}

/// The caller's tokens: device sessions and send-only tokens.
#[utoipa::path(get, path = "/api/v1/tokens", tag = "tokens",
    security(("bearer" = [])), responses((status = 200, body = [TokenInfo])))]
pub async fn list(
    State(state): State<AppState>,
    Session(me): Session,
) -> Result<Json<Vec<TokenInfo>>> {
    Ok(Json(tokens::list(&state, me.user.id).await?))
}

/// Revoke one of the caller's tokens.
#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "tokens", params(("id" = i64, Path)),
    security(("bearer" = [])), responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Session(me): Session,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    tokens::revoke(&state, me.user.id, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
