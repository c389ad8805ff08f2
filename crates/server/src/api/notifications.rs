//! `/notifications`.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{
    ChangeResult, Counts, DeleteRequest, ErrorBody, ListNotificationsQuery, MarkRequest,
    Notification, Page, SendNotification, SendResult,
};

use super::extract::{Json, Path, Query, Sender, Session};
use crate::service::notifications;
use crate::state::AppState;
use crate::Result;

/// Send to named users or (admins) broadcast. 201 means it is durable.
#[utoipa::path(post, path = "/api/v1/notifications", tag = "notifications",
    request_body = SendNotification, security(("bearer" = [])),
    responses((status = 201, body = SendResult), (status = 422, body = ErrorBody),
              (status = 429, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Sender(sender): Sender,
    Json(request): Json<SendNotification>,
) -> Result<(StatusCode, Json<SendResult>)> {
    let result = notifications::send(&state, &sender, request).await?;
    Ok((StatusCode::CREATED, Json(result)))
}

/// The caller's notifications, newest first.
#[utoipa::path(get, path = "/api/v1/notifications", tag = "notifications",
    params(ListNotificationsQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Notification>)))]
pub async fn list(
    State(state): State<AppState>,
    Session(me): Session,
    Query(query): Query<ListNotificationsQuery>,
) -> Result<Json<Page<Notification>>> {
    Ok(Json(notifications::list(&state, me.user.id, query).await?))
}

/// Unread counts for the badge and tabs.
#[utoipa::path(get, path = "/api/v1/notifications/counts", tag = "notifications",
    security(("bearer" = [])), responses((status = 200, body = Counts)))]
pub async fn counts(State(state): State<AppState>, Session(me): Session) -> Result<Json<Counts>> {
    Ok(Json(notifications::counts(&state, me.user.id).await?))
}

/// Mark read by ids, or all (of a kind).
#[utoipa::path(post, path = "/api/v1/notifications/read", tag = "notifications",
    request_body = MarkRequest, security(("bearer" = [])),
    responses((status = 200, body = ChangeResult), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<MarkRequest>,
) -> Result<Json<ChangeResult>> {
    Ok(Json(
        notifications::mark(&state, me.user.id, request, true).await?,
    ))
}

/// Mark unread by ids, or all (of a kind).
#[utoipa::path(post, path = "/api/v1/notifications/unread", tag = "notifications",
    request_body = MarkRequest, security(("bearer" = [])),
    responses((status = 200, body = ChangeResult), (status = 404, body = ErrorBody)))]
pub async fn unread(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<MarkRequest>,
) -> Result<Json<ChangeResult>> {
    Ok(Json(
        notifications::mark(&state, me.user.id, request, false).await?,
    ))
}

/// Delete several for the caller only.
#[utoipa::path(post, path = "/api/v1/notifications/delete", tag = "notifications",
    request_body = DeleteRequest, security(("bearer" = [])),
    responses((status = 200, body = ChangeResult), (status = 404, body = ErrorBody)))]
pub async fn delete_many(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<DeleteRequest>,
) -> Result<Json<ChangeResult>> {
    Ok(Json(
        notifications::delete(&state, me.user.id, request.ids).await?,
    ))
}

/// Delete one for the caller only.
#[utoipa::path(delete, path = "/api/v1/notifications/{id}", tag = "notifications",
    params(("id" = i64, Path)), security(("bearer" = [])),
    responses((status = 204), (status = 404, body = ErrorBody)))]
pub async fn delete_one(
    State(state): State<AppState>,
    Session(me): Session,
    Path(id): Path<i64>,
) -> Result<StatusCode> {
    notifications::delete(&state, me.user.id, vec![id]).await?;
    Ok(StatusCode::NO_CONTENT)
}
