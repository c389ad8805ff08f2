//! WebSocket frames on `/api/v1/ws`: JSON text frames tagged by `type`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::{
    ConversationId, Counts, Cursor, ErrorDetail, Event, KindFilter, MessageId, NotificationId, User,
};

/// Server → client.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ServerFrame {
    /// First frame after authentication. `cursor` is the head of the stream now;
    /// a client with an older cursor sends `subscribe{since}` to replay what it missed.
    Hello {
        user: User,
        cursor: Cursor,
        heartbeat_s: u32,
    },
    Event {
        cursor: Cursor,
        event: Event,
    },
    /// Unread counts, sent after authentication and after each change that moves them.
    Counts(Counts),
    /// A native popup to raise now (the seed's DESKTOP push). `id` is absent for
    /// ephemeral pushes that were never stored.
    Desktop {
        title: String,
        content: String,
        link: Option<String>,
        priority: u8,
        id: Option<NotificationId>,
    },
    /// A contact's first device connected (`online`) or their last one left
    /// (debounced, so a reconnect blip is not reported).
    Presence {
        user: String,
        online: bool,
    },
    /// The requested cursor is older than the retained stream (or unknown to this
    /// server): reload over REST, then continue from `cursor`.
    ResyncRequired {
        cursor: Cursor,
    },
    Reply {
        id: u64,
        ok: bool,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        result: Option<serde_json::Value>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        error: Option<ErrorDetail>,
    },
    Error(ErrorDetail),
}

/// Client → server. Requests carry an `id` that the one `reply` echoes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case", deny_unknown_fields)]
pub enum ClientFrame {
    /// Authenticate when the upgrade request had no `Authorization` header (browsers).
    Auth { token: String },
    /// Replay every event after `since`, then continue live.
    Subscribe {
        #[serde(default)]
        id: Option<u64>,
        since: Cursor,
    },
    /// Mark notifications read, like `POST /notifications/read`.
    MarkRead {
        id: u64,
        #[serde(default)]
        ids: Option<Vec<NotificationId>>,
        #[serde(default)]
        all: bool,
        #[serde(default)]
        kind: Option<KindFilter>,
    },
    /// Send a chat message, like `POST /messages`; the reply's result is the message.
    SendMessage {
        id: u64,
        #[serde(default)]
        to: Option<String>,
        #[serde(default)]
        room: Option<ConversationId>,
        content: String,
        client_id: String,
    },
    /// One page of history, like `GET /conversations/{id}/messages`.
    GetMessages {
        id: u64,
        conversation_id: ConversationId,
        #[serde(default)]
        before: Option<MessageId>,
        #[serde(default)]
        after: Option<MessageId>,
        #[serde(default)]
        limit: Option<u32>,
    },
    /// Delete a message, like `DELETE /messages/{id}?for_everyone=`.
    DeleteMessage {
        id: u64,
        message_id: MessageId,
        #[serde(default)]
        for_everyone: Option<bool>,
    },
    Ping {
        #[serde(default)]
        id: Option<u64>,
    },
}

impl ServerFrame {
    /// Serializes a frame; our own types always serialize, so this cannot fail.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).expect("server frames always serialize")
    }
}
