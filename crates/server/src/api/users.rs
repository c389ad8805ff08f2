//! `/users`: search for everyone, management for admins.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{
    text, CreateUserRequest, ErrorBody, FoundUser, UpdateUserRequest, User, UserSearchQuery,
    MAX_SEARCH_CHARS,
};

use super::extract::{Admin, Json, Path, Query, Session};
use crate::service::{accounts, notifications::page_limit};
use crate::state::AppState;
use crate::Result;

/// Users whose username or display name starts with `q`, each saying whether
/// they are the caller's contact.
#[utoipa::path(get, path = "/api/v1/users", tag = "users", params(UserSearchQuery),
    security(("bearer" = [])), responses((status = 200, body = [FoundUser])))]
pub async fn search(
    State(state): State<AppState>,
    Session(me): Session,
    Query(query): Query<UserSearchQuery>,
) -> Result<Json<Vec<FoundUser>>> {
    let limit = page_limit(query.limit)?;
    let q = query.q.unwrap_or_default();
    text::single_line("q", &q, MAX_SEARCH_CHARS)?;
    Ok(Json(
        state
            .store
            .search_users(me.user.id, q.trim(), limit)
            .await?,
    ))
}

/// Admin: create a user.
#[utoipa::path(post, path = "/api/v1/users", tag = "users", request_body = CreateUserRequest,
    security(("bearer" = [])),
    responses((status = 201, body = User), (status = 409, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    _admin: Admin,
    Json(request): Json<CreateUserRequest>,
) -> Result<(StatusCode, Json<User>)> {
    let user = accounts::create_user(&state, request, None).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Admin: change a user's name, role, password or disabled flag. Disabling or a
/// new password ends all of the user's sessions.
#[utoipa::path(patch, path = "/api/v1/users/{id}", tag = "users", request_body = UpdateUserRequest,
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 200, body = User), (status = 404, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn update(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
    Json(request): Json<UpdateUserRequest>,
) -> Result<Json<User>> {
    Ok(Json(
        accounts::update_user(&state, &admin, id, request).await?,
    ))
}

/// Admin: delete a user and everything addressed to them.
#[utoipa::path(delete, path = "/api/v1/users/{id}", tag = "users",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete(
    State(state): State<AppState>,
    Admin(admin): Admin,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    accounts::delete_user(&state, &admin, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
