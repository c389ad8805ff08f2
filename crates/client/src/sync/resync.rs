//! The full reload: every notification the server lists, the conversation list
//! with recent messages, and the contacts, page by page.
//!
//! Used on the first sync and when the server says the cursor is too old
//! (`resync_required`). The pages are not one snapshot (the server keeps
//! changing while we page), which is fine: the reload is taken after the stream
//! position it is applied at, and every event after that position is applied on
//! top, each one setting a value, so the result is exact either way.

use herald_protocol::{
    Contact, Conversation, HistoryQuery, KindFilter, ListConversationsQuery,
    ListNotificationsQuery, Message, Notification, StatusFilter, MAX_PAGE_LIMIT,
};

use crate::api::Api;
use crate::cache::chat::ChatSnapshot;
use crate::error::{Error, Result};

/// Conversations whose recent history a reload fetches (the most recent ones);
/// older ones load their history when opened.
const HISTORY_CONVERSATIONS: usize = 100;
/// Messages per history page.
const HISTORY_PAGE: u32 = 100;
/// At most this many messages per conversation, even when more are unread.
const HISTORY_MAX: usize = 500;

/// What a reload brings.
#[derive(Debug, Default)]
pub(crate) struct Snapshot {
    pub notifications: Vec<Notification>,
    pub chat: ChatSnapshot,
}

pub(crate) async fn fetch_all(api: Api) -> Result<Snapshot> {
    let notifications = notifications(&api).await?;
    let conversations = without_chat_is_empty(conversations(&api).await)?;
    let mut messages = Vec::new();
    for conversation in conversations.iter().take(HISTORY_CONVERSATIONS) {
        messages.extend(recent_history(&api, conversation).await?);
    }
    let contacts = without_chat_is_empty(api.contacts().await)?;
    Ok(Snapshot {
        notifications,
        chat: ChatSnapshot {
            conversations,
            messages,
            contacts,
        },
    })
}

/// Conversation details and contacts, fetched after a resume.
#[derive(Debug, Default)]
pub(crate) struct Details {
    /// Only names, peers and rooms are taken from these (counts come from events).
    pub conversations: Vec<Conversation>,
    pub contacts: Vec<Contact>,
}

/// The conversation list and contacts, for their details (names, rooms,
/// presence) after a resume.
pub(crate) async fn fetch_details(api: Api) -> Result<Details> {
    Ok(Details {
        conversations: without_chat_is_empty(conversations(&api).await)?,
        contacts: without_chat_is_empty(api.contacts().await)?,
    })
}

/// A server without chat routes (an older version) answers 404: it has no
/// chat to sync, which must not stop notifications from syncing.
fn without_chat_is_empty<T>(result: Result<Vec<T>>) -> Result<Vec<T>> {
    match result {
        Err(Error::NotFound { .. }) => Ok(Vec::new()),
        other => other,
    }
}

async fn notifications(api: &Api) -> Result<Vec<Notification>> {
    let mut query = ListNotificationsQuery {
        status: StatusFilter::All,
        kind: KindFilter::All,
        limit: Some(MAX_PAGE_LIMIT),
        ..ListNotificationsQuery::default()
    };
    let mut items = Vec::new();
    loop {
        let page = api.list_notifications(&query).await?;
        let got_any = !page.items.is_empty();
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if got_any => query.cursor = Some(next),
            _ => return Ok(items),
        }
    }
}

async fn conversations(api: &Api) -> Result<Vec<Conversation>> {
    let mut query = ListConversationsQuery {
        limit: Some(MAX_PAGE_LIMIT),
        ..ListConversationsQuery::default()
    };
    let mut items = Vec::new();
    loop {
        let page = api.conversations(&query).await?;
        let got_any = !page.items.is_empty();
        items.extend(page.items);
        match page.next_cursor {
            Some(next) if got_any => query.cursor = Some(next),
            _ => return Ok(items),
        }
    }
}

/// The newest messages of a conversation: at least one page, and back to the
/// read mark so every unread message is cached (unread counts are kept from them).
async fn recent_history(api: &Api, conversation: &Conversation) -> Result<Vec<Message>> {
    let mut messages: Vec<Message> = Vec::new();
    let mut query = HistoryQuery {
        limit: Some(HISTORY_PAGE),
        ..HistoryQuery::default()
    };
    loop {
        let page = api.history(conversation.id, &query).await?;
        let oldest = page.items.last().map(|m| m.id);
        messages.extend(page.items);
        let covers_unread = oldest.is_none_or(|id| id <= conversation.read_up_to);
        match (page.next_cursor, oldest) {
            (Some(_), Some(oldest)) if !covers_unread && messages.len() < HISTORY_MAX => {
                query.before = Some(oldest);
            }
            _ => return Ok(messages),
        }
    }
}
