//! The per-user event stream: every change a user's devices must learn about.

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use utoipa::{IntoParams, ToSchema};

use crate::{Cursor, KindFilter, Notification, NotificationId};

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
}

impl Event {
    /// Whether applying this event can change unread counts other than by a new
    /// unread broadcast (which clients and the gateway count without asking).
    pub fn is_broadcast_creation(&self) -> bool {
        matches!(self, Event::NotificationCreated { notification }
            if notification.kind == crate::NotificationKind::Broadcast)
    }
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
#[serde(deny_unknown_fields)]
pub struct EventsQuery {
    /// Last cursor the client has seen; absent means "from now".
    #[serde(default)]
    pub since: Option<Cursor>,
    #[serde(default)]
    pub limit: Option<u32>,
    /// Seconds to wait for an event when none is ready (long-poll), at most 60.
    #[serde(default)]
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
