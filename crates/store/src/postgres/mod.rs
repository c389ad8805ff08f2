//! The PostgreSQL backend, for several server nodes sharing one database.
//!
//! Writes go through one writer task per process that groups whatever requests
//! are waiting into one transaction (group commit), each request in its own
//! savepoint, exactly like the SQLite writer. Personal notifications, the bulk of
//! the traffic, are gathered first and written as one request per batch with
//! multi-row statements ([`notifications::insert_personal`]). The first statement of every write
//! transaction takes a cluster-wide advisory lock, so write batches of all nodes
//! run one after another and ids and cursors become visible in commit order (see
//! [`writer`]). Reads run on a connection pool; reads that must agree with a
//! cursor or with themselves run in one REPEATABLE READ snapshot.

mod chat;
mod contacts;
mod events;
mod notifications;
mod rows;
mod schema;
mod users;
mod writer;

use std::str::FromStr;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Transaction};
use herald_protocol::{
    Conversation, ConversationId, Counts, Cursor, DeleteRequest, FoundUser, Message, MessageId,
    Notification, Page, Room, TokenInfo, TokenKind, User, UserId,
};
use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Config, IsolationLevel, NoTls};

use crate::{
    CommitFeed, ContactEntry, ConversationFilter, DeleteScope, Error, HistoryRange, Inserted,
    ListFilter, MarkTarget, MessageView, NewMessage, NewNotification, NewUser, Principal,
    PurgeStats, Result, RoomChange, Sent, Store, StoredEvent, StreamBounds, UserChanges,
    UserRecord,
};
pub use writer::WRITE_LOCK_KEY;
use writer::{BoxFuture, Writer};

/// Read connections per process.
const READERS: usize = 8;

pub struct PostgresStore {
    writer: Writer,
    readers: Pool,
    /// Personal notifications on their way to the writer, gathered into batches.
    personal: mpsc::Sender<PendingNotification>,
}

/// Most personal notifications written by one set of statements.
const MAX_GATHERED: usize = 512;

struct PendingNotification {
    new: NewNotification,
    reply: oneshot::Sender<Result<Inserted>>,
}

impl PostgresStore {
    /// Connects to the database at `url` (`postgres://…`, without TLS) and
    /// migrates it if needed; safe when several nodes start at once.
    pub async fn open(url: &str, feed: CommitFeed) -> Result<Self> {
        let mut config =
            Config::from_str(url).map_err(|e| Error::Unavailable(format!("database url: {e}")))?;
        if config.get_application_name().is_none() {
            config.application_name("herald");
        }
        let (mut client, connection) = config.connect(NoTls).await?;
        let connection = tokio::spawn(connection);
        let migrated = schema::migrate(&mut client).await;
        drop(client);
        // The connection ends once its client is dropped.
        let _ = connection.await;
        migrated?;

        // A 2xx promises durability, whatever the server's default says.
        let mut write_config = config.clone();
        write_config.options("-c synchronous_commit=on");
        let writer = Writer::spawn(pool(write_config, 1)?, feed);
        let (personal, pending) = mpsc::channel(4 * MAX_GATHERED);
        tokio::spawn(gather_personal(writer.clone(), pending));
        Ok(Self {
            writer,
            readers: pool(config, READERS)?,
            personal,
        })
    }

    async fn reader(&self) -> Result<deadpool_postgres::Client> {
        Ok(self.readers.get().await?)
    }

    /// Runs `f` in a REPEATABLE READ READ ONLY transaction: every statement sees
    /// the same committed state.
    async fn snapshot<T, F>(&self, f: F) -> Result<T>
    where
        F: for<'a> FnOnce(&'a Transaction<'_>) -> BoxFuture<'a, Result<T>>,
    {
        let mut client = self.reader().await?;
        let tx = client
            .build_transaction()
            .isolation_level(IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await?;
        let result = f(&tx).await?;
        tx.commit().await?;
        Ok(result)
    }
}

/// Hands whatever personal notifications are waiting to the writer as one batch
/// (see [`notifications::insert_personal`]), then answers each; the next batch
/// gathers while this one commits. Runs until the store is dropped.
async fn gather_personal(writer: Writer, mut pending: mpsc::Receiver<PendingNotification>) {
    let mut batch = Vec::with_capacity(MAX_GATHERED);
    while let Some(first) = pending.recv().await {
        batch.push(first);
        while batch.len() < MAX_GATHERED {
            match pending.try_recv() {
                Ok(next) => batch.push(next),
                Err(_) => break,
            }
        }
        let (news, replies): (Vec<_>, Vec<_>) = batch.drain(..).map(|p| (p.new, p.reply)).unzip();
        let answers = writer
            .run(move |tx, events| {
                Box::pin(async move { notifications::insert_personal(tx, events, &news).await })
            })
            .await;
        match answers {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for reply in replies {
                    let _ = reply.send(Err(Error::CommitFailed(message.clone())));
                }
            }
        }
    }
}

fn pool(config: Config, size: usize) -> Result<Pool> {
    let manager = Manager::from_config(
        config,
        NoTls,
        ManagerConfig {
            recycling_method: RecyclingMethod::Fast,
        },
    );
    Pool::builder(manager)
        .max_size(size)
        .build()
        .map_err(|e| Error::Unavailable(e.to_string()))
}

#[async_trait]
impl Store for PostgresStore {
    async fn user_count(&self) -> Result<i64> {
        users::count(&self.reader().await?).await
    }

    async fn create_user(&self, new: NewUser) -> Result<User> {
        self.writer
            .run(move |tx, _| Box::pin(async move { users::create(tx, &new).await }))
            .await
    }

    async fn user_by_name(&self, username: &str) -> Result<Option<UserRecord>> {
        users::by_name(&self.reader().await?, username).await
    }

    async fn user_by_id(&self, id: UserId) -> Result<Option<User>> {
        users::by_id(&self.reader().await?, id).await
    }

    async fn search_users(
        &self,
        viewer: UserId,
        prefix: &str,
        limit: u32,
    ) -> Result<Vec<FoundUser>> {
        users::search(&self.reader().await?, viewer, prefix, limit).await
    }

    async fn update_user(&self, id: UserId, changes: UserChanges) -> Result<Option<User>> {
        self.writer
            .run(move |tx, _| Box::pin(async move { users::update(tx, id, &changes).await }))
            .await
    }

    async fn delete_user(&self, id: UserId) -> Result<bool> {
        self.writer
            .run(move |tx, events| Box::pin(users::delete(tx, events, id)))
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
            .run(move |tx, _| {
                Box::pin(async move { users::create_token(tx, user_id, kind, &name, &hash).await })
            })
            .await
    }

    async fn authenticate(&self, hash: Vec<u8>) -> Result<Option<Principal>> {
        users::authenticate(&self.reader().await?, &hash).await
    }

    async fn list_tokens(&self, user_id: UserId) -> Result<Vec<TokenInfo>> {
        users::list_tokens(&self.reader().await?, user_id).await
    }

    async fn delete_token(&self, user_id: UserId, token_id: i64) -> Result<bool> {
        self.writer
            .run(move |tx, _| Box::pin(users::delete_token(tx, user_id, token_id)))
            .await
    }

    async fn insert_notification(&self, new: NewNotification) -> Result<Inserted> {
        if matches!(new.audience, crate::Audience::Users(_)) {
            let (reply, answer) = oneshot::channel();
            self.personal
                .send(PendingNotification { new, reply })
                .await
                .map_err(|_| Error::Closed)?;
            return answer.await.map_err(|_| Error::Closed)?;
        }
        self.writer
            .run(move |tx, events| {
                Box::pin(async move { notifications::insert_broadcast(tx, events, &new).await })
            })
            .await
    }

    async fn list_notifications(
        &self,
        user_id: UserId,
        filter: ListFilter,
    ) -> Result<Page<Notification>> {
        notifications::list(&self.reader().await?, user_id, &filter).await
    }

    async fn counts(&self, user_id: UserId) -> Result<(Counts, Cursor)> {
        self.snapshot(move |tx| Box::pin(notifications::counts(tx, user_id)))
            .await
    }

    async fn mark(&self, user_id: UserId, target: MarkTarget, read: bool) -> Result<i64> {
        self.writer
            .run(move |tx, events| {
                Box::pin(
                    async move { notifications::mark(tx, events, user_id, &target, read).await },
                )
            })
            .await
    }

    async fn delete_notifications(&self, user_id: UserId, request: DeleteRequest) -> Result<i64> {
        self.writer
            .run(move |tx, events| {
                Box::pin(
                    async move { notifications::delete(tx, events, user_id, &request.ids).await },
                )
            })
            .await
    }

    async fn add_contact(&self, owner: UserId, username: &str) -> Result<(ContactEntry, bool)> {
        let username = username.to_owned();
        self.writer
            .run(move |tx, _| Box::pin(async move { contacts::add(tx, owner, &username).await }))
            .await
    }

    async fn remove_contact(&self, owner: UserId, username: &str) -> Result<bool> {
        let username = username.to_owned();
        self.writer
            .run(move |tx, _| Box::pin(async move { contacts::remove(tx, owner, &username).await }))
            .await
    }

    async fn list_contacts(&self, owner: UserId) -> Result<Vec<ContactEntry>> {
        contacts::list(&self.reader().await?, owner).await
    }

    async fn contact_owners(&self, user: UserId) -> Result<Vec<UserId>> {
        contacts::owners(&self.reader().await?, user).await
    }

    async fn send_message(&self, new: NewMessage) -> Result<Sent> {
        self.writer
            .run(move |tx, events| Box::pin(async move { chat::send(tx, events, &new).await }))
            .await
    }

    async fn conversations(
        &self,
        user: UserId,
        filter: ConversationFilter,
    ) -> Result<Page<Conversation>> {
        self.snapshot(move |tx| Box::pin(chat::conversations(tx, user, filter)))
            .await
    }

    async fn history(
        &self,
        user: UserId,
        conversation: ConversationId,
        range: HistoryRange,
    ) -> Result<Page<Message>> {
        self.snapshot(move |tx| Box::pin(chat::history(tx, user, conversation, range)))
            .await
    }

    async fn mark_conversation_read(
        &self,
        user: UserId,
        conversation: ConversationId,
        up_to: MessageId,
    ) -> Result<i64> {
        self.writer
            .run(move |tx, events| Box::pin(chat::mark_read(tx, events, user, conversation, up_to)))
            .await
    }

    async fn delete_messages(
        &self,
        user: UserId,
        ids: Vec<MessageId>,
        scope: DeleteScope,
    ) -> Result<i64> {
        self.writer
            .run(move |tx, events| {
                Box::pin(async move { chat::delete(tx, events, user, &ids, scope).await })
            })
            .await
    }

    async fn message_list(
        &self,
        user: UserId,
        view: MessageView,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Page<Message>> {
        chat::message_list(&self.reader().await?, user, view, before, limit).await
    }

    async fn create_room(
        &self,
        creator: UserId,
        name: String,
        members: Vec<String>,
    ) -> Result<Room> {
        self.writer
            .run(move |tx, events| {
                Box::pin(
                    async move { chat::create_room(tx, events, creator, &name, &members).await },
                )
            })
            .await
    }

    async fn change_room(
        &self,
        actor: UserId,
        room: ConversationId,
        change: RoomChange,
    ) -> Result<Room> {
        self.writer
            .run(move |tx, events| {
                Box::pin(async move { chat::change_room(tx, events, actor, room, &change).await })
            })
            .await
    }

    async fn rooms(&self, user: UserId) -> Result<Vec<Room>> {
        self.snapshot(move |tx| Box::pin(chat::rooms(tx, user)))
            .await
    }

    async fn events_since(
        &self,
        user_id: UserId,
        since: Cursor,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        events::since(&self.reader().await?, user_id, since, limit).await
    }

    async fn events_between(
        &self,
        after: Cursor,
        through: Option<Cursor>,
        limit: u32,
    ) -> Result<Vec<StoredEvent>> {
        events::between(&self.reader().await?, after, through, limit).await
    }

    async fn stream_bounds(&self) -> Result<StreamBounds> {
        self.snapshot(|tx| Box::pin(events::bounds(tx))).await
    }

    async fn purge(&self, before: OffsetDateTime) -> Result<PurgeStats> {
        self.writer
            .run(move |tx, _| Box::pin(events::purge(tx, before)))
            .await
    }
}
