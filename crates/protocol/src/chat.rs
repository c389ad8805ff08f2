//! Chat: contacts, direct conversations, rooms and their messages.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::User;

/// Primary key of a conversation. A room's id is its conversation's id.
pub type ConversationId = i64;
/// Primary key of a message. Ids grow in commit order, so history pages by id.
pub type MessageId = i64;

/// Longest message, in characters (as for notification content).
pub const MAX_MESSAGE_CHARS: usize = 10_000;
/// Longest `client_id`; it is a key, not content.
pub const MAX_CLIENT_ID_CHARS: usize = 64;
/// Longest room name, in characters.
pub const MAX_ROOM_NAME_CHARS: usize = 64;
/// Most members a room may have, its owner included.
pub const MAX_ROOM_MEMBERS: usize = 1_000;
/// Most contacts one user may keep.
pub const MAX_CONTACTS: usize = 1_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ConversationKind {
    /// Between exactly two users; created by the first message, never left.
    Direct,
    /// A named group whose owner manages the members.
    Room,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "direct",
            ConversationKind::Room => "room",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "direct" => Some(ConversationKind::Direct),
            "room" => Some(ConversationKind::Room),
            _ => None,
        }
    }
}

/// A chat message as every member sees it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: MessageId,
    pub conversation_id: ConversationId,
    /// Username of the sender; `None` once the sender's account was deleted.
    pub sender: Option<String>,
    pub content: String,
    /// The sender's idempotency key: a device matches its pending sends by it.
    pub client_id: String,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// A group conversation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Room {
    /// The room's conversation id.
    pub id: ConversationId,
    pub name: String,
    /// Who manages the members: the creator, or the longest-standing member after
    /// the creator left. `None` only when the room has no members left.
    pub owner: Option<String>,
    /// Usernames, sorted.
    pub members: Vec<String>,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: OffsetDateTime,
}

/// One entry of the caller's conversation list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Conversation {
    pub id: ConversationId,
    pub kind: ConversationKind,
    /// Direct only: the other user (absent once their account was deleted).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<User>,
    /// Rooms only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub room: Option<Room>,
    /// Messages from others after `read_up_to` that the caller has not deleted.
    pub unread_count: i64,
    /// The newest message the caller can see.
    pub last_message: Option<Message>,
    /// When `last_message` was sent, or when the caller joined if there is none;
    /// the list is sorted by it, newest first.
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub last_time: OffsetDateTime,
    /// The caller has read every message up to and including this id.
    pub read_up_to: MessageId,
    /// Direct only: how far the peer has read (for "seen" marks).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer_read_up_to: Option<MessageId>,
}

/// `POST /messages` (and the `send_message` frame): to a user (`to`) or a room.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendMessage {
    /// Username for a direct message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<crate::Username>)]
    pub to: Option<String>,
    /// Room id for a group message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<i64>, minimum = 1)]
    pub room: Option<ConversationId>,
    pub content: String,
    /// Chosen by the sender (1-64 characters, e.g. a UUID). Sending again with
    /// the same `client_id` returns the first message instead of a duplicate.
    #[schema(min_length = 1)]
    pub client_id: String,
}

/// `GET /conversations` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct ListConversationsQuery {
    /// Only the direct conversation with this username (zero or one item, so
    /// a `cursor` changes nothing).
    #[serde(default)]
    #[param(value_type = Option<crate::Username>)]
    pub peer: Option<String>,
    /// `next_cursor` of the previous page.
    #[serde(default)]
    #[param(pattern = "^[0-9]{1,18}-[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `GET /conversations/{id}/messages` query (also the `get_messages` frame).
///
/// Newest first. With only `after`, the page holds the messages right after it
/// (for catching up forwards); otherwise the newest ones below `before`.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct HistoryQuery {
    /// Only messages with a smaller id.
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 1)]
    pub before: Option<MessageId>,
    /// Only messages with a larger id (`0`: from the first message).
    #[serde(default)]
    #[param(value_type = Option<i64>, minimum = 0)]
    pub after: Option<MessageId>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `GET /messages/sent` and `/messages/received` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct MessageListQuery {
    /// `next_cursor` of the previous page.
    #[serde(default)]
    #[param(pattern = "^[1-9][0-9]{0,17}$")]
    pub cursor: Option<String>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// `POST /conversations/{id}/read`.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadConversation {
    /// Every message up to and including this one is read.
    #[schema(value_type = i64, minimum = 1)]
    pub up_to: MessageId,
}

/// `POST /messages/delete`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteMessages {
    #[schema(value_type = Vec<i64>, min_items = 1, max_items = 1000)]
    pub ids: Vec<MessageId>,
    /// `true`: remove for every member (only your own messages). `false`: hide
    /// for you only. Absent: your own messages for everyone, others' for you.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub for_everyone: Option<bool>,
}

/// `DELETE /messages/{id}` query.
#[derive(Debug, Clone, Copy, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct DeleteMessageQuery {
    /// As in [`DeleteMessages::for_everyone`].
    #[serde(default)]
    pub for_everyone: Option<bool>,
}

/// `POST /rooms`.
#[derive(Debug, Clone, Default, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRoom {
    pub name: String,
    /// Usernames besides the creator, who is always a member (1,000 in all).
    #[serde(default)]
    #[schema(value_type = Vec<crate::Username>, max_items = 999)]
    pub members: Vec<String>,
}

/// `POST /rooms/{id}/members` and `POST /contacts`.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UsernameRequest {
    #[schema(value_type = crate::Username)]
    pub username: String,
}

/// A contact with their presence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Contact {
    #[serde(flatten)]
    pub user: User,
    /// At least one device connected (changes are debounced a few seconds).
    pub online: bool,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub added_at: OffsetDateTime,
}

/// A `GET /users` result: a [`User`] plus whether they are the caller's contact,
/// so clients that read plain `User`s keep working.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct FoundUser {
    #[serde(flatten)]
    pub user: User,
    pub is_contact: bool,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Role;

    #[test]
    fn found_users_still_read_as_plain_users() {
        let found = FoundUser {
            user: User {
                id: 3,
                username: "bob".into(),
                display_name: "Bob".into(),
                role: Role::User,
                disabled: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
            },
            is_contact: true,
        };
        let json = serde_json::to_value(&found).unwrap();
        assert_eq!(json["is_contact"], true);
        let plain: User = serde_json::from_value(json).unwrap();
        assert_eq!(plain, found.user);
    }
}
