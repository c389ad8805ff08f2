//! Messages and conversations: what a send, a history page, a read mark or a
//! delete means, whether it came over REST or the WebSocket. Membership and
//! ownership are checked by the store inside the write that depends on them.

use herald_protocol::{
    text, validate_username, ChangeResult, Conversation, ConversationId, HistoryQuery,
    ListConversationsQuery, Message, MessageId, MessageListQuery, Page, SendMessage, User,
    MAX_CLIENT_ID_CHARS, MAX_MESSAGE_CHARS,
};
use herald_store::{
    ConversationCursor, ConversationFilter, DeleteScope, HistoryRange, MessageTarget, MessageView,
    NewMessage, Sent,
};

use super::notifications::{checked_ids, cursor_number, id_cursor, page_limit};
use crate::state::AppState;
use crate::{Error, Result};

/// Checks a send completely before the store sees it (the sender's chat rate
/// first).
pub async fn send(state: &AppState, me: &User, request: SendMessage) -> Result<Sent> {
    state.limits.sends.chat(me.id, &state.metrics)?;
    let target = match (request.to, request.room) {
        (Some(_), Some(_)) => {
            return Err(Error::BadRequest(
                "give either `to` (a username) or `room` (a room id), not both".into(),
            ))
        }
        (None, None) => {
            return Err(Error::BadRequest(
                "say where it goes: `to: username` or `room: id`".into(),
            ))
        }
        (Some(to), None) => {
            validate_username(&to).map_err(Error::BadRequest)?;
            if to == me.username {
                return Err(Error::Forbidden("you cannot message yourself".into()));
            }
            MessageTarget::User(to)
        }
        (None, Some(room)) => MessageTarget::Room(positive_id("room", room)?),
    };
    text::multi_line("content", &request.content, MAX_MESSAGE_CHARS)?;
    text::not_blank("content", &request.content)?;
    // A key, not text to show: kept as sent, but it must be there.
    let client_id = request.client_id;
    text::single_line("client_id", &client_id, MAX_CLIENT_ID_CHARS)?;
    if client_id.is_empty() {
        return Err(text::TextError::Blank { field: "client_id" }.into());
    }
    let new = NewMessage {
        sender: me.id,
        target,
        content: request.content,
        client_id,
    };
    Ok(state.store.send_message(new).await?)
}

pub async fn conversations(
    state: &AppState,
    me: &User,
    query: ListConversationsQuery,
) -> Result<Page<Conversation>> {
    let limit = page_limit(query.limit)?;
    let after = query
        .cursor
        .map(|c| {
            // `time-id`, both plain digits (`^[0-9]{1,18}-[1-9][0-9]{0,17}$`).
            let digits = c.split_once('-').is_some_and(|(time, id)| {
                cursor_number(time).is_some() && id_cursor(Some(id.to_owned())).is_ok()
            });
            digits
                .then(|| c.parse::<ConversationCursor>().ok())
                .flatten()
                .ok_or_else(|| Error::BadRequest(format!("invalid cursor {c:?}")))
        })
        .transpose()?;
    let filter = match query.peer {
        // One conversation is one page: a cursor has nothing to continue.
        Some(peer) => {
            validate_username(&peer).map_err(Error::BadRequest)?;
            // Disabled peers still have their history, so any account counts.
            let record = state
                .store
                .user_by_name(&peer)
                .await?
                .ok_or_else(|| Error::UnknownUsers(vec![peer]))?;
            ConversationFilter::Peer(record.user.id)
        }
        None => ConversationFilter::Page { after, limit },
    };
    Ok(state.store.conversations(me.id, filter).await?)
}

pub async fn history(
    state: &AppState,
    me: &User,
    conversation: ConversationId,
    query: HistoryQuery,
) -> Result<Page<Message>> {
    let range = HistoryRange {
        before: query
            .before
            .map(|id| positive_id("before", id))
            .transpose()?,
        // `after=0` pages forwards from the very first message.
        after: query
            .after
            .map(|id| match id {
                0.. => Ok(id),
                _ => Err(Error::BadRequest("`after` must be an id or 0".into())),
            })
            .transpose()?,
        limit: page_limit(query.limit)?,
    };
    Ok(state.store.history(me.id, conversation, range).await?)
}

pub async fn read(
    state: &AppState,
    me: &User,
    conversation: ConversationId,
    up_to: MessageId,
) -> Result<ChangeResult> {
    let up_to = positive_id("up_to", up_to)?;
    let changed = state
        .store
        .mark_conversation_read(me.id, conversation, up_to)
        .await?;
    Ok(ChangeResult { changed })
}

/// `for_everyone`: `Some(true)` only for one's own messages, `Some(false)` hides
/// for the caller, `None` does what the design says a sender's or a receiver's
/// delete does.
pub async fn delete(
    state: &AppState,
    me: &User,
    ids: Vec<MessageId>,
    for_everyone: Option<bool>,
) -> Result<ChangeResult> {
    let ids = checked_ids(ids)?;
    let scope = match for_everyone {
        Some(true) => DeleteScope::Everyone,
        Some(false) => DeleteScope::Me,
        None => DeleteScope::Natural,
    };
    let changed = state.store.delete_messages(me.id, ids, scope).await?;
    Ok(ChangeResult { changed })
}

pub async fn list(
    state: &AppState,
    me: &User,
    view: MessageView,
    query: MessageListQuery,
) -> Result<Page<Message>> {
    let before = id_cursor(query.cursor)?;
    let limit = page_limit(query.limit)?;
    Ok(state.store.message_list(me.id, view, before, limit).await?)
}

fn positive_id(what: &str, id: i64) -> Result<i64> {
    if id <= 0 {
        return Err(Error::BadRequest(format!("`{what}` must be a positive id")));
    }
    Ok(id)
}
