//! Herald's storage behind one trait.
//!
//! The server only sees [`Store`]; each backend lives in its own module with its own
//! SQL and migrations (SQLite today, PostgreSQL for clusters). Every write that users
//! must hear about produces [`StoredEvent`]s in the same transaction as the change, so
//! the event stream and the data can never disagree. Backends hand committed events,
//! in cursor order, to the [`CommitFeed`] they were opened with; the server's fan-out
//! reads that feed.

mod error;
pub mod sqlite;
mod types;

pub use error::{Error, Result};
pub use types::*;

use async_trait::async_trait;
use herald_protocol::{
    Counts, Cursor, DeleteRequest, NotificationId, Page, TokenInfo, TokenKind, User, UserId,
};
use time::OffsetDateTime;

/// Where a backend sends each committed batch of events, in cursor order.
pub type CommitFeed = tokio::sync::mpsc::UnboundedSender<Vec<StoredEvent>>;

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
    /// Users whose username or display name starts with `prefix`, by username.
    async fn search_users(&self, prefix: &str, limit: u32) -> Result<Vec<User>>;
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

    // --- event stream ------------------------------------------------------
    /// Events of this user (and broadcasts) after `since`, oldest first.
    async fn events_since(
        &self,
        user_id: UserId,
        since: Cursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>>;
    async fn stream_bounds(&self) -> Result<StreamBounds>;
    /// Deletes notifications and events created before `before`.
    async fn purge(&self, before: OffsetDateTime) -> Result<PurgeStats>;
}

/// Ids must be deduplicated and bounded before they reach a query.
pub fn unique_ids(ids: &[NotificationId]) -> Vec<NotificationId> {
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    ids
}
