//! The per-user event stream: every change a user's devices must learn about.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::{
    ConversationId, Cursor, KindFilter, Message, MessageId, Notification, NotificationId, Room,
};

/// A change to one user's data (or, for a broadcast, everyone's).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type")]
pub enum Event {
    #[serde(rename = "notification.created")]
    NotificationCreated { notification: Notification },
    #[serde(rename = "notification.read")]
    NotificationsRead { ids: Vec<NotificationId> },
    #[serde(rename = "notification.unread")]
    NotificationsUnread { ids: Vec<NotificationId> },
    /// Everything of `kind` up to and including `up_to` is now read.
    #[serde(rename = "notification.all_read")]
    AllRead {
        kind: KindFilter,
        up_to: NotificationId,
    },
    /// Everything of `kind` up to and including `up_to` is now unread.
    #[serde(rename = "notification.all_unread")]
    AllUnread {
        kind: KindFilter,
        up_to: NotificationId,
    },
    #[serde(rename = "notification.deleted")]
    NotificationsDeleted { ids: Vec<NotificationId> },
    /// A message in one of the user's conversations, their own included (so
    /// their other devices show it too).
    #[serde(rename = "message.created")]
    MessageCreated { message: Message },
    /// The messages are gone for this user: the sender deleted them for
    /// everyone, or this user deleted them for themselves.
    #[serde(rename = "message.deleted")]
    MessagesDeleted {
        conversation_id: ConversationId,
        ids: Vec<MessageId>,
    },
    /// `user` has read the conversation up to and including `up_to`: for the
    /// reader's devices their unread count, for everyone else a read receipt.
    #[serde(rename = "conversation.read")]
    ConversationRead {
        conversation_id: ConversationId,
        user: String,
        up_to: MessageId,
    },
    /// The user is in this room now (they created it or were added to it), as
    /// it stands: later changes come as `room.member_added` and
    /// `room.member_removed`, so no change resends the member list.
    #[serde(rename = "room.updated")]
    RoomUpdated { room: Room },
    /// `user` joined a room the user is in.
    #[serde(rename = "room.member_added")]
    RoomMemberAdded {
        room_id: ConversationId,
        user: String,
    },
    /// `user` left or was removed from a room the user is still in. `owner` is
    /// the room's owner now: when the owner leaves, the longest-standing member
    /// takes over.
    #[serde(rename = "room.member_removed")]
    RoomMemberRemoved {
        room_id: ConversationId,
        user: String,
        owner: Option<String>,
    },
    /// The user left or was removed from the room: drop it from their lists.
    #[serde(rename = "room.left")]
    RoomLeft { room_id: ConversationId },
}

/// An event with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventEnvelope {
    pub cursor: Cursor,
    #[serde(with = "time::serde::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub at: OffsetDateTime,
    pub event: Event,
}

/// `GET /events` query.
#[derive(Debug, Clone, Default, Serialize, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Last cursor the client has seen; absent means "from now".
    #[serde(default)]
    #[param(value_type = Option<i64>)]
    pub since: Option<Cursor>,
    #[serde(default)]
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    /// Seconds to wait for an event when none is ready (long-poll); more than
    /// 60 waits 60.
    #[serde(default)]
    #[param(minimum = 0)]
    pub wait: Option<u32>,
}

/// Answer to `GET /events`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct EventsPage {
    pub events: Vec<EventEnvelope>,
    /// Pass this as `since` next time.
    pub cursor: Cursor,
    /// `since` is older than the retained stream: reload everything over REST, then
    /// continue from `cursor`.
    pub resync_required: bool,
}
