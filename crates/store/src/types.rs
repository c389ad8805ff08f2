//! Rows and requests that cross the [`crate::Store`] boundary.

use herald_protocol::{
    ConversationId, Cursor, Event, KindFilter, Message, MessageId, Notification, NotificationId,
    Role, StatusFilter, TokenInfo, User, UserId,
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

/// What the retention purge removes. It runs in chunks, each its own short
/// write, so other writes go on between them ([`crate::Store::purge_chunk`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Retention {
    /// Notifications and events created before this go.
    pub before: OffsetDateTime,
    /// Chat messages created before this go; `None` keeps them for good.
    pub chat_before: Option<OffsetDateTime>,
    /// Most rows of each kind one chunk removes.
    pub chunk: u32,
}

impl Retention {
    /// Rows of each kind per chunk: a chunk's write stays in the milliseconds.
    pub const CHUNK: u32 = 1_000;

    /// Notifications and events created before `before`; chat kept.
    pub fn before(before: OffsetDateTime) -> Self {
        Self {
            before,
            chat_before: None,
            chunk: Self::CHUNK,
        }
    }
}

/// What a purge (or one chunk of it) removed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct PurgeStats {
    pub notifications: i64,
    /// Per-user rows (read, deleted) of the notifications that went.
    pub states: i64,
    pub events: i64,
    pub messages: i64,
}

impl PurgeStats {
    /// Whether a chunk that removed this was the last one needed: it found
    /// fewer than a chunk's worth of every kind.
    pub fn finishes(&self, chunk: u32) -> bool {
        let chunk = i64::from(chunk);
        [self.notifications, self.states, self.events, self.messages]
            .iter()
            .all(|&removed| removed < chunk)
    }
}

impl std::ops::AddAssign for PurgeStats {
    fn add_assign(&mut self, other: Self) {
        self.notifications += other.notifications;
        self.states += other.states;
        self.events += other.events;
        self.messages += other.messages;
    }
}

/// A contact as stored: who, and since when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContactEntry {
    pub user: User,
    pub added_at: OffsetDateTime,
}

/// Where a message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MessageTarget {
    /// The direct conversation with this username (created on first use).
    User(String),
    Room(ConversationId),
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub sender: UserId,
    pub target: MessageTarget,
    pub content: String,
    pub client_id: String,
}

/// The answer to a send: the message, and whether this call created it (`false`
/// for a retry with a `client_id` already used).
#[derive(Debug, Clone)]
pub struct Sent {
    pub message: Message,
    pub created: bool,
}

/// Which of the caller's conversations to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationFilter {
    /// All, most recent first, after a position from an earlier page.
    Page {
        after: Option<ConversationCursor>,
        limit: u32,
    },
    /// The direct conversation with this user, if there is one.
    Peer(UserId),
}

/// A position in the conversation list, which is sorted by `last_time` and then
/// id, newest first. Shown to clients as the opaque `<millis>-<id>`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationCursor {
    pub last_time_ms: i64,
    pub id: ConversationId,
}

impl std::fmt::Display for ConversationCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", self.last_time_ms, self.id)
    }
}

impl std::str::FromStr for ConversationCursor {
    type Err = ();

    fn from_str(s: &str) -> Result<Self, ()> {
        let (time, id) = s.split_once('-').ok_or(())?;
        let cursor = ConversationCursor {
            last_time_ms: time.parse().map_err(drop)?,
            id: id.parse().map_err(drop)?,
        };
        if cursor.last_time_ms < 0 || cursor.id <= 0 {
            return Err(());
        }
        Ok(cursor)
    }
}

/// A page of history: message ids strictly between `after` and `before`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HistoryRange {
    pub before: Option<MessageId>,
    pub after: Option<MessageId>,
    pub limit: u32,
}

/// How far a delete reaches.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeleteScope {
    /// Own messages for every member; anyone else's is refused.
    Everyone,
    /// Hidden for the caller only.
    Me,
    /// Own messages for everyone, others' for the caller only.
    Natural,
}

/// The admin-style cross-conversation lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageView {
    /// Messages the caller sent.
    Sent,
    /// Messages others sent in the caller's conversations.
    Received,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RoomChange {
    /// The owner adds a user.
    Add(String),
    /// The owner removes a member, or a member removes themselves (leaves).
    Remove(String),
}
