//! What front ends receive besides the protocol's own types: chat messages as
//! the window shows them, the conversation list, and the actions waiting in the
//! outbox. They live apart from the cache modules that store them, so the
//! events that carry them ([`crate::ClientEvent`]) and the cache can both import
//! them without importing each other.

use herald_protocol::{
    ConversationId, ConversationKind, KindFilter, MessageId, NotificationId, Room, User,
};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::ToSchema;

/// Where a message written here is on its way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MessageState {
    /// The server has it.
    Sent,
    /// In the outbox, not confirmed yet.
    Pending,
    /// The server refused it: the window offers to send it again or discard it.
    Failed,
}

/// A chat message as the window shows it, sent or still on its way.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ChatMessage {
    /// Stable for the life of the cache, also before the server assigned `id`.
    pub local_id: i64,
    pub id: Option<MessageId>,
    /// `null` for a first message to `peer` whose conversation the server has
    /// not created yet.
    pub conversation_id: Option<ConversationId>,
    pub peer: Option<String>,
    /// Username; `null` once the sender's account was deleted.
    pub sender: Option<String>,
    pub content: String,
    pub client_id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
    pub state: MessageState,
}

/// One entry of the conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct ConversationSummary {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// The peer's username or the room's name.
    pub title: String,
    pub peer: Option<User>,
    pub room: Option<Room>,
    pub unread_count: i64,
    pub read_up_to: MessageId,
    /// Direct only: how far the peer has read ("seen" marks).
    pub peer_read_up_to: Option<MessageId>,
    pub last_message: Option<ChatMessage>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_time: OffsetDateTime,
}

/// Something the user did that the server has to hear about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Action {
    MarkRead {
        ids: Vec<NotificationId>,
    },
    MarkUnread {
        ids: Vec<NotificationId>,
    },
    /// "Mark all read" as the user saw the list: everything of `kind` up to
    /// `up_to`. When it is sent later, notifications that arrived meanwhile
    /// (newer than `up_to`) stay unread: the user never saw them.
    MarkAllRead {
        kind: KindFilter,
        up_to: NotificationId,
    },
    Delete {
        ids: Vec<NotificationId>,
    },
    /// A chat message: to a user (`to`) or a room. `client_id` makes sending it
    /// twice yield one message.
    SendMessage {
        client_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        to: Option<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        room: Option<ConversationId>,
        content: String,
    },
    /// The conversation is read up to and including `up_to`.
    ReadConversation {
        conversation_id: ConversationId,
        up_to: MessageId,
    },
    /// Chat messages deleted (see `DeleteMessages` in the protocol for `for_everyone`).
    DeleteMessages {
        ids: Vec<MessageId>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        for_everyone: Option<bool>,
    },
}
