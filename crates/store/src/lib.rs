//! Herald's storage behind one trait.
//!
//! The server only sees [`Store`]. Every rule of the store is written once, in
//! the modules below, as an `async fn` over [`db::Db`]; a backend (a cargo
//! feature each: `sqlite`, `postgres`) implements `Db` for its connection,
//! supplies the few statements its dialect spells differently, and runs writes
//! through its group commit. Every write that users must hear about produces
//! [`StoredEvent`]s in the same transaction as the change, so the event stream
//! and the data can never disagree. Backends hand committed events, in cursor
//! order, to the [`CommitFeed`] they were opened with, and announce there every
//! committed change to who may do what ([`AccessChange`]); the server's fan-out
//! reads that feed.

mod access;
mod chat;
mod contacts;
mod db;
mod error;
mod events;
mod group_commit;
mod impl_store;
mod names;
mod notifications;
#[cfg(feature = "postgres")]
pub mod postgres;
mod retention;
mod rows;
mod rules;
#[cfg(feature = "sqlite")]
pub mod sqlite;
mod stream;
mod types;
mod users;

pub use access::AccessChange;
pub use error::{Error, Result};
pub use group_commit::{FailureKind, WriteFailure, WriterStatus};
pub use types::*;

use async_trait::async_trait;
use herald_protocol::{
    Conversation, ConversationId, Counts, Cursor, DeleteRequest, FoundUser, Message, MessageId,
    NotificationId, Page, Room, TokenInfo, TokenKind, User, UserId,
};
/// Where a backend sends what it committed.
pub type CommitFeed = tokio::sync::mpsc::UnboundedSender<Committed>;

/// One announcement on the [`CommitFeed`].
#[derive(Debug, Clone, PartialEq)]
pub enum Committed {
    /// A batch's events, in cursor order. Cursors are made visible in commit
    /// order (the SQLite writer is one thread; the PostgreSQL writer holds a
    /// cluster-wide lock from the first statement of a batch to its commit), so a
    /// reader never sees a cursor while a smaller one is pending.
    Events(Vec<StoredEvent>),
    /// A change to a user's access, the `number`th this store announced.
    Access { change: AccessChange, number: u64 },
}

/// Everything the server persists. Methods that change data return only after the
/// change is durable (committed with a full sync).
#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- users -------------------------------------------------------------
    async fn user_count(&self) -> Result<i64>;
    /// Fails with [`Error::Conflict`] when the username is taken.
    async fn create_user(&self, new: NewUser) -> Result<User>;
    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>>;
    async fn user_by_id(&self, id: UserId) -> Result<Option<User>>;
    /// Users whose username or display name starts with `prefix`, by username,
    /// each marked with whether they are among `viewer`'s contacts.
    async fn search_users(
        &self,
        viewer: UserId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<FoundUser>>;
    /// Returns `None` when no such user exists.
    async fn update_user(&self, id: UserId, changes: UserChanges) -> Result<Option<User>>;
    async fn delete_user(&self, id: UserId) -> Result<bool>;

    // --- tokens ------------------------------------------------------------
    async fn create_token(
        &self,
        user_id: UserId,
        kind: TokenKind,
        name: &str,
        hash: Vec<u8>,
    ) -> Result<TokenInfo>;
    /// The user and token behind a token hash, if the token exists.
    async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Principal>>;
    async fn list_tokens(&self, user_id: UserId) -> Result<Vec<TokenInfo>>;
    async fn delete_token(&self, user_id: UserId, token_id: i64) -> Result<bool>;
    /// How many [`Committed::Access`] announcements this store has made, counted
    /// before each is sent: while it is ahead of what the feed's reader applied,
    /// a principal that reader cached may be stale. Changes to users and tokens
    /// are announced by the methods that commit them (`update_user`,
    /// `delete_user`, `delete_token`), before they return.
    fn access_changes(&self) -> u64;

    // --- notifications -----------------------------------------------------
    /// Stores a notification for its audience. Fails with [`Error::UnknownUsers`]
    /// (and stores nothing) when a recipient does not exist or is disabled.
    async fn insert_notification(&self, new: NewNotification) -> Result<Inserted>;
    async fn list_notifications(
        &self,
        user_id: UserId,
        filter: ListFilter,
    ) -> Result<Page<herald_protocol::Notification>>;
    /// Counts and the cursor they are exact at.
    async fn counts(&self, user_id: UserId) -> Result<(Counts, Cursor)>;
    /// Marks read (`read = true`) or unread. With ids, every id must be visible to
    /// the user or nothing changes and [`Error::NotFound`] is returned.
    async fn mark(&self, user_id: UserId, target: MarkTarget, read: bool) -> Result<i64>;
    /// Deletes for this user only; same all-or-nothing rule as [`Store::mark`].
    async fn delete_notifications(&self, user_id: UserId, request: DeleteRequest) -> Result<i64>;

    // --- contacts ----------------------------------------------------------
    /// Adds the active user `username` to `owner`'s contacts; the flag is `false`
    /// when they already were one. Fails with [`Error::UnknownUsers`] for an
    /// unknown or disabled name and [`Error::Invalid`] for oneself or a full list.
    async fn add_contact(&self, owner: UserId, username: &str) -> Result<(ContactEntry, bool)>;
    /// `false` when `username` was not a contact.
    async fn remove_contact(&self, owner: UserId, username: &str) -> Result<bool>;
    /// By username.
    async fn list_contacts(&self, owner: UserId) -> Result<Vec<ContactEntry>>;
    /// Users who have `user` among their contacts: who hears of `user`'s presence.
    async fn contact_owners(&self, user: UserId) -> Result<Vec<UserId>>;

    // --- chat --------------------------------------------------------------
    // Authorization lives here, inside the write, so a check and the change it
    // allows can never be split by a concurrent membership change: a conversation
    // or message the caller is not a member of is [`Error::NotFound`] (its
    // existence is not revealed); one they can see but may not change is
    // [`Error::Forbidden`]. Every change emits its events to each member it
    // concerns in the same transaction. Message ids must become visible in id
    // order (a PostgreSQL backend takes a lock per conversation, or history paged
    // with `after` could skip a message that committed late).

    /// Stores a message, or returns the one `sender` already sent with this
    /// `client_id` (a retry). The same `client_id` for a different message is an
    /// [`Error::Conflict`]. A direct conversation is created on first use.
    async fn send_message(&self, new: NewMessage) -> Result<Sent>;
    async fn conversations(
        &self,
        user: UserId,
        filter: ConversationFilter,
    ) -> Result<Page<Conversation>>;
    /// Newest first; see [`HistoryRange`].
    async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        range: HistoryRange,
    ) -> Result<Page<Message>>;
    /// Moves the user's read mark forward to `up_to` (a message of the
    /// conversation); returns how many unread messages became read.
    async fn mark_conversation_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        up_to: MessageId,
    ) -> Result<i64>;
    /// Deletes messages all-or-nothing: every id must be visible to the user, and
    /// with [`DeleteScope::Everyone`] every one must be theirs.
    async fn delete_messages(
        &self,
        user: UserId,
        ids: Vec<MessageId>,
        scope: DeleteScope,
    ) -> Result<i64>;
    /// Newest first across conversations, ids below `before`.
    async fn message_list(
        &self,
        user: UserId,
        view: MessageView,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Page<Message>>;
    /// Creates a room owned by `creator` with them and the named active users.
    async fn create_room(
        &self,
        creator: UserId,
        name: String,
        members: Vec<String>,
    ) -> Result<Room>;
    async fn change_room(
        &self,
        actor: UserId,
        room: ConversationId,
        change: RoomChange,
    ) -> Result<Room>;
    /// The rooms the user is a member of, by name.
    async fn rooms(&self, user: UserId) -> Result<Vec<Room>>;

    // --- event stream ------------------------------------------------------
    /// Events of this user (and broadcasts) after `since`, oldest first.
    async fn events_since(
        &self,
        user_id: UserId,
        since: Cursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    /// Every user's events with `after < seq <= through` (no upper bound when
    /// `None`), oldest first. The fan-out reads it to fill a gap in what reached it
    /// live; that is exact because each backend makes cursors visible in commit
    /// order: once an event is visible, so is every event with a smaller cursor.
    async fn events_between(
        &self,
        after: Cursor,
        through: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    async fn stream_bounds(&self) -> Result<StreamBounds>;

    // --- health ------------------------------------------------------------
    /// Whether the writer runs and its writes are going through.
    fn writer_status(&self) -> WriterStatus;
    /// Writes a row nobody reads, to learn whether writes go through now (after
    /// a failure, before the next real write finds out).
    async fn probe_write(&self) -> Result<()>;
    /// Removes one chunk of what `retention` says is old, in one short write:
    /// at most `retention.chunk` rows of each kind (notifications, including
    /// personal ones every recipient deleted; events; chat messages), oldest
    /// first. The newest purged cursor is remembered for
    /// [`StreamBounds::purged_through`].
    async fn purge_chunk(&self, retention: &Retention) -> Result<PurgeStats>;

    /// Removes everything `retention` says is old, a chunk at a time, so other
    /// writes go on between the chunks.
    async fn purge(&self, retention: &Retention) -> Result<PurgeStats> {
        let mut total = PurgeStats::default();
        loop {
            let removed = self.purge_chunk(retention).await?;
            total += removed;
            if removed.finishes(retention.chunk) {
                return Ok(total);
            }
        }
    }
}

/// Ids must be deduplicated and bounded before they reach a query.
pub fn unique_ids(ids: &[NotificationId]) -> Vec<NotificationId> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}
