//! `/conversations`: the chat list, history and read marks.

use axum::extract::State;
use herald_protocol::{
    ChangeResult, Conversation, ErrorBody, HistoryQuery, ListConversationsQuery, Message, Page,
    ReadConversation,
};

use super::extract::{Json, Path, Query, Session};
use crate::service::chat;
use crate::state::AppState;
use crate::Result;

/// The caller's conversations, most recent activity first, each with its unread
/// count and last message.
#[utoipa::path(get, path = "/api/v1/conversations", tag = "chat",
    params(ListConversationsQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Conversation>), (status = 422, body = ErrorBody)))]
pub async fn list(
    State(state): State<AppState>,
    Session(me): Session,
    Query(query): Query<ListConversationsQuery>,
) -> Result<Json<Page<Conversation>>> {
    Ok(Json(chat::conversations(&state, &me.user, query).await?))
}

/// History, newest first; `before`/`after` are message ids (exclusive).
#[utoipa::path(get, path = "/api/v1/conversations/{id}/messages", tag = "chat",
    params(("id" = i64, Path), HistoryQuery), security(("bearer" = [])),
    responses((status = 200, body = Page<Message>), (status = 404, body = ErrorBody)))]
pub async fn messages(
    State(state): State<AppState>,
    Session(me): Session,
    Path(id): Path<i64>,
    Query(query): Query<HistoryQuery>,
) -> Result<Json<Page<Message>>> {
    Ok(Json(chat::history(&state, &me.user, id, query).await?))
}

/// Read everything up to and including `up_to`; the caller's devices and the
/// other members hear of it.
#[utoipa::path(post, path = "/api/v1/conversations/{id}/read", tag = "chat",
    params(("id" = i64, Path)), request_body = ReadConversation, security(("bearer" = [])),
    responses((status = 200, body = ChangeResult), (status = 404, body = ErrorBody)))]
pub async fn read(
    State(state): State<AppState>,
    Session(me): Session,
    Path(id): Path<i64>,
    Json(request): Json<ReadConversation>,
) -> Result<Json<ChangeResult>> {
    Ok(Json(chat::read(&state, &me.user, id, request.up_to).await?))
}
