//! `/messages`: sending, deleting, and the sent and received lists.

use axum::extract::State;
use axum::http::StatusCode;
use herald_protocol::{
    ChangeResult, DeleteMessageQuery, DeleteMessages, ErrorBody, Message, MessageListQuery, Page,
    SendMessage,
};
use herald_store::MessageView;

use super::extract::{Json, Path, Query, Session};
use crate::service::chat;
use crate::state::AppState;
use crate::Result;

/// Send to a user (`to`) or a room. 201 with the new message once it is durable;
/// 200 with the original when this `client_id` was already sent (a retry).
#[utoipa::path(post, path = "/api/v1/messages", tag = "chat",
    request_body = SendMessage, security(("bearer" = [])),
    responses((status = 201, body = Message), (status = 200, body = Message),
              (status = 404, body = ErrorBody), (status = 409, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 429, body = ErrorBody)))]
pub async fn send(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<SendMessage>,
) -> Result<(StatusCode, Json<Message>)> {
    let sent = chat::send(&state, &me.user, request).await?;
    let status = if sent.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(sent.message)))
}

/// Delete one: by default the sender's own message for everyone, someone else's
/// for the caller only; `for_everyone=false` hides even one's own for oneself.
#[utoipa::path(delete, path = "/api/v1/messages/{id}", tag = "chat",
    params(("id" = i64, Path), DeleteMessageQuery), security(("bearer" = [])),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub async fn delete_one(
    State(state): State<AppState>,
    Session(me): Session,
    Path(id): Path<i64>,
    Query(query): Query<DeleteMessageQuery>,
) -> Result<StatusCode> {
    chat::delete(&state, &me.user, vec![id], query.for_everyone).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Delete several, all or nothing, with the same rules as one.
#[utoipa::path(post, path = "/api/v1/messages/delete", tag = "chat",
    request_body = DeleteMessages, security(("bearer" = [])),
    responses((status = 200, body = ChangeResult), (status = 403, body = ErrorBody),
              (status = 404, body = ErrorBody)))]
pub async fn delete_many(
    State(state): State<AppState>,
    Session(me): Session,
    Json(request): Json<DeleteMessages>,
) -> Result<Json<ChangeResult>> {
    Ok(Json(
        chat::delete(&state, &me.user, request.ids, request.for_everyone).await?,
    ))
}

/// Messages the caller sent, newest first, across conversations.
#[utoipa::path(get, path = "/api/v1/messages/sent", tag = "chat",
    params(MessageListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Message>)))]
pub async fn sent(
    State(state): State<AppState>,
    Session(me): Session,
    Query(query): Query<MessageListQuery>,
) -> Result<Json<Page<Message>>> {
    Ok(Json(
        chat::list(&state, &me.user, MessageView::Sent, query).await?,
    ))
}

/// Messages others sent in the caller's conversations, newest first.
#[utoipa::path(get, path = "/api/v1/messages/received", tag = "chat",
    params(MessageListQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Message>)))]
pub async fn received(
    State(state): State<AppState>,
    Session(me): Session,
    Query(query): Query<MessageListQuery>,
) -> Result<Json<Page<Message>>> {
    Ok(Json(
        chat::list(&state, &me.user, MessageView::Received, query).await?,
    ))
}
