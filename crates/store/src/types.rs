//! Rows and requests that cross the [`crate::Store`] boundary.

use herald_protocol::{
    Cursor, Event, KindFilter, Notification, NotificationId, Role, StatusFilter, TokenInfo, User,
    UserId,
};
use time::OffsetDateTime;

/// A user with the secret the server needs to check a password.
#[derive(Debug, Clone)]
pub struct UserRecord {
    pub user: User,
    pub password_hash: String,
}

#[derive(Debug, Clone)]
pub struct NewUser {
    pub username: String,
    pub display_name: String,
    pub password_hash: String,
    pub role: Role,
}

#[derive(Debug, Clone, Default)]
pub struct UserChanges {
    pub display_name: Option<String>,
    pub role: Option<Role>,
    pub disabled: Option<bool>,
    pub password_hash: Option<String>,
}

/// Who is calling: the user and the token they presented.
#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub token: TokenInfo,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Audience {
    Users(Vec<String>),
    Broadcast,
}

#[derive(Debug, Clone)]
pub struct NewNotification {
    pub audience: Audience,
    pub category: Option<String>,
    pub title: String,
    pub content: String,
    pub link: Option<String>,
    pub priority: u8,
    pub desktop: bool,
    /// `None`: sent by the system.
    pub sender: Option<(UserId, String)>,
}

#[derive(Debug, Clone)]
pub struct Inserted {
    pub notification: Notification,
    pub recipients: i64,
}

#[derive(Debug, Clone)]
pub enum MarkTarget {
    Ids(Vec<NotificationId>),
    All(KindFilter),
}

#[derive(Debug, Clone)]
pub struct ListFilter {
    pub status: StatusFilter,
    pub kind: KindFilter,
    pub category: Option<String>,
    /// Only ids below this one (the paging cursor).
    pub before_id: Option<NotificationId>,
    /// Only notifications created at or after this time.
    pub since: OffsetDateTime,
    pub limit: u32,
}

/// A committed event. `user_id` is `None` for events every user receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredEvent {
    pub seq: Cursor,
    pub user_id: Option<UserId>,
    pub at: OffsetDateTime,
    pub event: Event,
}

impl StoredEvent {
    pub fn concerns(&self, user_id: UserId) -> bool {
        self.user_id.is_none_or(|u| u == user_id)
    }
}

/// The retained part of the event stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamBounds {
    /// Events up to and including this cursor were purged; resuming from an older
    /// cursor would skip them.
    pub purged_through: Cursor,
    /// The newest committed cursor.
    pub head: Cursor,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeStats {
    pub notifications: i64,
    pub events: i64,
}
