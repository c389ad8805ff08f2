//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`.
//!
//! Writes go through a single writer thread that groups whatever requests are
//! waiting into one transaction (group commit): each request runs in its own
//! savepoint, so one failing request never spoils its neighbours, and one fsync
//! makes the whole batch durable. Reads run on a small pool of read-only
//! connections, which WAL lets proceed while the writer commits.

mod chat;
mod contacts;
mod events;
mod notifications;
mod pool;
mod rows;
mod schema;
mod users;
mod writer;

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use herald_protocol::{
    Conversation, ConversationId, Counts, Cursor, DeleteRequest, FoundUser, Message, MessageId,
    Notification, Page, Room, TokenInfo, TokenKind, User, UserId,
};
use rusqlite::Connection;
use time::OffsetDateTime;

use crate::{
    CommitFeed, ContactEntry, ConversationFilter, DeleteScope, HistoryRange, Inserted, ListFilter,
    MarkTarget, MessageView, NewMessage, NewNotification, NewUser, Principal, PurgeStats, Result,
    RoomChange, Sent, Store, StoredEvent, StreamBounds, UserChanges, UserRecord,
};
use pool::ReadPool;
use writer::Writer;

/// Read connections; WAL readers never block the writer or each other.
const READERS: usize = 4;

pub struct SqliteStore {
    writer: Writer,
    readers: Arc<ReadPool>,
}

impl SqliteStore {
    /// Opens (creating and migrating if needed) the database at `path`.
    pub fn open(path: &Path, feed: CommitFeed) -> Result<Self> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)?;
        }
        let conn = Connection::open(path)?;
        configure(&conn)?;
        schema::migrate(&conn)?;
        let readers = (0..READERS)
            .map(|_| {
                let reader = Connection::open(path)?;
                configure(&reader)?;
                reader.execute_batch("PRAGMA query_only = ON")?;
                Ok(reader)
            })
            .collect::<Result<Vec<_>>>()?;
        Ok(Self {
            writer: Writer::spawn(conn, feed),
            readers: Arc::new(ReadPool::new(readers)),
        })
    }

    async fn read<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let readers = self.readers.clone();
        tokio::task::spawn_blocking(move || f(&readers.acquire()))
            .await
            .map_err(|_| crate::Error::Closed)?
    }
}

/// Prepared statements kept per connection. rusqlite keeps 16 by default, fewer
/// than the store's distinct statements, so a connection serving a mix of them
/// evicted and parsed SQL again on almost every call.
const STATEMENT_CACHE: usize = 128;

fn configure(conn: &Connection) -> Result<()> {
    conn.set_prepared_statement_cache_capacity(STATEMENT_CACHE);
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = ON;
         PRAGMA temp_store = MEMORY;",
    )?;
    Ok(())
}

#[async_trait]
impl Store for SqliteStore {
    async fn user_count(&self) -> Result<i64> {
        self.read(users::count).await
    }

    async fn create_user(&self, new: NewUser) -> Result<User> {
        self.writer
            .run(move |conn, _| users::create(conn, &new))
            .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        let username = username.to_owned();
        self.read(move |conn| users::by_name(conn, &username)).await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        self.read(move |conn| users::by_id(conn, id)).await
    }

    async fn search_users(
        &self,
        viewer: UserId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<FoundUser>> {
        let prefix = prefix.to_owned();
        self.read(move |conn| users::search(conn, viewer, &prefix, limit))
            .await
    }

    async fn update_user(&self, id: UserId, changes: UserChanges) -> Result<Option<User>> {
        self.writer
            .run(move |conn, _| users::update(conn, id, &changes))
            .await
    }

    async fn delete_user(&self, id: UserId) -> Result<bool> {
        self.writer
            .run(move |conn, events| users::delete(conn, events, id))
            .await
    }

    async fn create_token(
        &self,
        user_id: UserId,
        kind: TokenKind,
        name: &str,
        hash: Vec<u8>,
    ) -> Result<TokenInfo> {
        let name = name.to_owned();
        self.writer
            .run(move |conn, _| users::create_token(conn, user_id, kind, &name, &hash))
            .await
    }

    async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Principal>> {
        self.read(move |conn| users::authenticate(conn, &hash))
            .await
    }

    async fn list_tokens(&self, user_id: UserId) -> Result<Vec<TokenInfo>> {
        self.read(move |conn| users::list_tokens(conn, user_id))
            .await
    }

    async fn delete_token(&self, user_id: UserId, token_id: i64) -> Result<bool> {
        self.writer
            .run(move |conn, _| users::delete_token(conn, user_id, token_id))
            .await
    }

    async fn insert_notification(&self, new: NewNotification) -> Result<Inserted> {
        self.writer
            .run(move |conn, events| notifications::insert(conn, events, &new))
            .await
    }

    async fn list_notifications(
        &self,
        user_id: UserId,
        filter: ListFilter,
    ) -> Result<Page<Notification>> {
        self.read(move |conn| notifications::list(conn, user_id, &filter))
            .await
    }

    async fn counts(&self, user_id: UserId) -> Result<(Counts, Cursor)> {
        self.read(move |conn| notifications::counts(conn, user_id))
            .await
    }

    async fn mark(&self, user_id: UserId, target: MarkTarget, read: bool) -> Result<i64> {
        self.writer
            .run(move |conn, events| notifications::mark(conn, events, user_id, &target, read))
            .await
    }

    async fn delete_notifications(&self, user_id: UserId, request: DeleteRequest) -> Result<i64> {
        self.writer
            .run(move |conn, events| notifications::delete(conn, events, user_id, &request.ids))
            .await
    }

    async fn add_contact(&self, owner: UserId, username: &str) -> Result<(ContactEntry, bool)> {
        let username = username.to_owned();
        self.writer
            .run(move |conn, _| contacts::add(conn, owner, &username))
            .await
    }

    async fn remove_contact(&self, owner: UserId, username: &str) -> Result<bool> {
        let username = username.to_owned();
        self.writer
            .run(move |conn, _| contacts::remove(conn, owner, &username))
            .await
    }

    async fn list_contacts(&self, owner: UserId) -> Result<Vec<ContactEntry>> {
        self.read(move |conn| contacts::list(conn, owner)).await
    }

    async fn contact_owners(&self, user: UserId) -> Result<Vec<UserId>> {
        self.read(move |conn| contacts::owners(conn, user)).await
    }

    async fn send_message(&self, new: NewMessage) -> Result<Sent> {
        self.writer
            .run(move |conn, events| chat::send(conn, events, &new))
            .await
    }

    async fn conversations(
        &self,
        user: UserId,
        filter: ConversationFilter,
    ) -> Result<Page<Conversation>> {
        self.read(move |conn| chat::conversations(conn, user, filter))
            .await
    }

    async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        range: HistoryRange,
    ) -> Result<Page<Message>> {
        self.read(move |conn| chat::history(conn, user, conversation, range))
            .await
    }

    async fn mark_conversation_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        up_to: MessageId,
    ) -> Result<i64> {
        self.writer
            .run(move |conn, events| chat::mark_read(conn, events, user, conversation, up_to))
            .await
    }

    async fn delete_messages(
        &self,
        user: UserId,
        ids: Vec<MessageId>,
        scope: DeleteScope,
    ) -> Result<i64> {
        self.writer
            .run(move |conn, events| chat::delete(conn, events, user, &ids, scope))
            .await
    }

    async fn message_list(
        &self,
        user: UserId,
        view: MessageView,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Page<Message>> {
        self.read(move |conn| chat::message_list(conn, user, view, before, limit))
            .await
    }

    async fn create_room(
        &self,
        creator: UserId,
        name: String,
        members: Vec<String>,
    ) -> Result<Room> {
        self.writer
            .run(move |conn, events| chat::create_room(conn, events, creator, &name, &members))
            .await
    }

    async fn change_room(
        &self,
        actor: UserId,
        room: ConversationId,
        change: RoomChange,
    ) -> Result<Room> {
        self.writer
            .run(move |conn, events| chat::change_room(conn, events, actor, room, &change))
            .await
    }

    async fn rooms(&self, user: UserId) -> Result<Vec<Room>> {
        self.read(move |conn| chat::rooms(conn, user)).await
    }

    async fn events_since(
        &self,
        user_id: UserId,
        since: Cursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        self.read(move |conn| events::since(conn, user_id, since, limit))
            .await
    }

    async fn events_between(
        &self,
        after: Cursor,
        through: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        self.read(move |conn| events::between(conn, after, through, limit))
            .await
    }

    async fn stream_bounds(&self) -> Result<StreamBounds> {
        self.read(events::bounds).await
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<PurgeStats> {
        self.writer
            .run(move |conn, _| events::purge(conn, before))
            .await
    }
}
