//! Fresh stores for each test, and the small helpers that let a test show its
//! scenario rather than its plumbing.

use std::sync::Arc;

use herald_protocol::{KindFilter, Message, Notification, Role, StatusFilter, User, UserId};
use herald_store::postgres::PostgresStore;
use herald_store::sqlite::SqliteStore;
use herald_store::{
    AccessChange, Audience, CommitFeed, Committed, HistoryRange, Inserted, ListFilter,
    MessageTarget, NewMessage, NewNotification, NewUser, PurgeStats, Retention, Sent, Store,
    StoredEvent,
};
use time::OffsetDateTime;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub use herald_testkit::postgres::TestDatabase;

pub struct Fixture {
    pub store: Arc<dyn Store>,
    /// What the store handed to its commit feed.
    pub commits: UnboundedReceiver<Committed>,
    /// Access changes read off the feed by [`Fixture::fed`], kept for [`Fixture::access_fed`].
    access: Vec<AccessChange>,
    /// The database itself, for what the store does not show (how much it keeps).
    raw: Raw,
    /// Keeps the database (a temporary directory or a [`TestDatabase`]) alive
    /// for the test and removes it afterwards.
    _database: Box<dyn std::any::Any + Send + Sync>,
}

impl Fixture {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (feed, commits) = unbounded_channel();
        let path = dir.path().join("herald.db");
        let store = SqliteStore::open(&path, feed).unwrap();
        Fixture {
            store: Arc::new(store),
            commits,
            access: Vec::new(),
            raw: Raw::Sqlite(path),
            _database: Box::new(dir),
        }
    }

    pub async fn postgres() -> Self {
        let database = TestDatabase::create().await;
        let (feed, commits) = unbounded_channel();
        let store = open(&database, feed).await;
        Fixture {
            store: Arc::new(store),
            commits,
            access: Vec::new(),
            raw: Raw::Postgres(database.connect().await),
            _database: Box::new(database),
        }
    }

    pub async fn user(&self, username: &str) -> User {
        self.store
            .create_user(NewUser {
                username: username.into(),
                display_name: username.into(),
                password_hash: format!("hash of {username}"),
                role: Role::User,
            })
            .await
            .unwrap()
    }

    pub async fn users<const N: usize>(&self, names: [&str; N]) -> [UserId; N] {
        let mut ids = [0; N];
        for (id, name) in ids.iter_mut().zip(names) {
            *id = self.user(name).await.id;
        }
        ids
    }

    pub async fn notify(&self, to: &[&str], title: &str) -> Inserted {
        self.store
            .insert_notification(notification(
                Audience::Users(to.iter().map(|s| s.to_string()).collect()),
                title,
            ))
            .await
            .unwrap()
    }

    pub async fn broadcast(&self, title: &str) -> Inserted {
        self.store
            .insert_notification(notification(Audience::Broadcast, title))
            .await
            .unwrap()
    }

    pub async fn say(&self, sender: UserId, target: MessageTarget, content: &str) -> Sent {
        self.store
            .send_message(message(sender, target, content))
            .await
            .unwrap()
    }

    /// Every event committed so far, oldest first.
    pub async fn all_events(&self) -> Vec<StoredEvent> {
        self.store.events_between(0, None, 100_000).await.unwrap()
    }

    /// Bytes the `events` table keeps in payloads: the one column whose size
    /// depends on what an event says.
    pub async fn event_payload_bytes(&self) -> i64 {
        match &self.raw {
            Raw::Sqlite(path) => rusqlite::Connection::open(path)
                .unwrap()
                .query_row(
                    "SELECT coalesce(sum(length(CAST(payload AS BLOB))), 0) FROM events",
                    [],
                    |row| row.get(0),
                )
                .unwrap(),
            Raw::Postgres(client) => client
                .query_one(
                    "SELECT coalesce(sum(octet_length(payload)), 0)::bigint FROM events",
                    &[],
                )
                .await
                .unwrap()
                .get(0),
        }
    }

    /// Runs `sql` (statements without parameters) on the database behind the
    /// store's back.
    pub async fn raw_execute(&self, sql: &str) {
        match &self.raw {
            Raw::Sqlite(path) => {
                rusqlite::Connection::open(path)
                    .unwrap()
                    .execute_batch(sql)
                    .unwrap();
            }
            Raw::Postgres(client) => client.batch_execute(sql).await.unwrap(),
        }
    }

    /// Runs the purge with nothing old enough to go: only what nobody keeps
    /// (personal notifications every recipient deleted).
    pub async fn purge_unkept(&self) -> PurgeStats {
        let nothing_old = Retention::before(OffsetDateTime::UNIX_EPOCH);
        self.store.purge(&nothing_old).await.unwrap()
    }

    /// Every event the commit feed has received so far, flattened.
    pub fn fed(&mut self) -> Vec<StoredEvent> {
        let mut fed = Vec::new();
        while let Ok(committed) = self.commits.try_recv() {
            match committed {
                Committed::Events(batch) => fed.extend(batch),
                Committed::Access { change, number } => {
                    self.access.push(change);
                    assert_eq!(
                        number,
                        self.access.len() as u64,
                        "access changes are numbered from 1"
                    );
                }
            }
        }
        fed
    }

    /// Every access change the commit feed has announced so far, in order.
    pub fn access_fed(&mut self) -> Vec<AccessChange> {
        self.fed();
        std::mem::take(&mut self.access)
    }
}

pub fn range(before: Option<i64>, after: Option<i64>, limit: u32) -> HistoryRange {
    HistoryRange {
        before,
        after,
        limit,
    }
}

/// Every message of a conversation the user can see, newest first, read by
/// paging history: the slow, obviously right answer.
pub async fn everything(store: &dyn Store, user: UserId, conversation: i64) -> Vec<Message> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let page = store
            .history(user, conversation, range(before, None, 200))
            .await
            .unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => before = Some(cursor.parse().unwrap()),
            None => return all,
        }
    }
}

/// A time after every write so far and before every later one: waits until
/// the millisecond clock rows are stamped with has moved past it.
pub async fn a_moment_later() -> OffsetDateTime {
    async fn tick(after: i64) -> i64 {
        loop {
            let now = herald_protocol::stored::to_millis(OffsetDateTime::now_utc());
            if now > after {
                return now;
            }
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }
    let start = herald_protocol::stored::to_millis(OffsetDateTime::now_utc());
    let moment = tick(start).await;
    tick(moment).await;
    herald_protocol::stored::from_millis(moment)
}

/// A plain connection to the store's database.
enum Raw {
    Sqlite(std::path::PathBuf),
    Postgres(tokio_postgres::Client),
}

pub fn notification(audience: Audience, title: &str) -> NewNotification {
    NewNotification {
        audience,
        category: None,
        title: title.into(),
        content: format!("content of {title}"),
        link: None,
        priority: 3,
        desktop: false,
        sender: None,
    }
}

/// A message whose `client_id` is derived from its content.
pub fn message(sender: UserId, target: MessageTarget, content: &str) -> NewMessage {
    NewMessage {
        sender,
        target,
        content: content.into(),
        client_id: format!("client-{content}"),
    }
}

pub fn to(username: &str) -> MessageTarget {
    MessageTarget::User(username.into())
}

/// A store on `database`, as one node of a cluster would open it.
pub async fn open(database: &TestDatabase, feed: CommitFeed) -> PostgresStore {
    PostgresStore::open(&database.url, feed).await.unwrap()
}

/// Every notification of `kind` and `status`, newest first, one page of 200.
pub fn filter(status: StatusFilter, kind: KindFilter) -> ListFilter {
    ListFilter {
        status,
        kind,
        category: None,
        before_id: None,
        since: OffsetDateTime::UNIX_EPOCH,
        limit: 200,
    }
}

/// What `user` lists with `status`, of both kinds.
pub async fn list(f: &Fixture, user: UserId, status: StatusFilter) -> Vec<Notification> {
    f.store
        .list_notifications(user, filter(status, KindFilter::All))
        .await
        .unwrap()
        .items
}
