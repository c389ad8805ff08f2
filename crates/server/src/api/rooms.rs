//! `/rooms`: group conversations and their members.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{CreateRoom, ErrorBody, Room, UsernameRequest};
use herald_store::RoomChange;

use super::extract::{Json, Path, Session};
use crate::service::rooms;
use crate::state::AppState;
use crate::Result;

/// Create a room owned by the caller, with the named members.
#[utoipa::path(post, path = "/api/v1/rooms", tag = "chat",
    request_body = CreateRoom, security(("bearer" = [])),
    responses((status = 201, body = Room), (status = 422, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<CreateRoom>,
) -> Result<(StatusCode, Json<Room>)> {
    let room = rooms::create(&state, &me.user, request).await?;
    Ok((StatusCode::CREATED, Json(room)))
}

/// The rooms the caller is a member of.
#[utoipa::path(get, path = "/api/v1/rooms", tag = "chat",
    security(("bearer" = [])), responses((status = 200, body = [Room])))]
pub async fn list(State(state): State<AppState>, Session(me): Session) -> Result<Json<Vec<Room>>> {
    Ok(Json(rooms::list(&state, me.user.id).await?))
}

/// The owner adds a member.
#[utoipa::path(post, path = "/api/v1/rooms/{id}/members", tag = "chat",
    params(("id" = i64, Path)), request_body = UsernameRequest, security(("bearer" = [])),
    responses((status = 200, body = Room), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn add_member(
    State(state): State<AppState>,
    Session(me): Session,
    Path(id): Path<i64>,
    Json(request): Json<UsernameRequest>,
) -> Result<Json<Room>> {
    let change = RoomChange::Add(request.username);
    Ok(Json(rooms::change(&state, &me.user, id, change).await?))
}

/// The owner removes a member, or a member leaves (their own username).
#[utoipa::path(delete, path = "/api/v1/rooms/{id}/members/{username}", tag = "chat",
    params(("id" = i64, Path), ("username" = herald_protocol::Username, Path)),
    security(("bearer" = [])),
    responses((status = 200, body = Room), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn remove_member(
    State(state): State<AppState>,
    Session(me): Session,
    Path((id, username)): Path<(i64, String)>,
) -> Result<Json<Room>> {
    let change = RoomChange::Remove(username);
    Ok(Json(rooms::change(&state, &me.user, id, change).await?))
}
