//! Fresh stores for each test, and the small helpers that let a test show its
//! scenario rather than its plumbing.

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use herald_protocol::{Role, User, UserId};
use herald_store::postgres::PostgresStore;
use herald_store::sqlite::SqliteStore;
use herald_store::{
    Audience, CommitFeed, Inserted, MessageTarget, NewMessage, NewNotification, NewUser, Sent,
    Store, StoredEvent,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

pub struct Fixture {
    pub store: Arc<dyn Store>,
    /// What the store handed to its commit feed.
    pub commits: UnboundedReceiver<Vec<StoredEvent>>,
    /// Keeps the database (a temporary directory or a [`TestDatabase`]) alive
    /// for the test and removes it afterwards.
    _database: Box<dyn std::any::Any + Send + Sync>,
}

impl Fixture {
    pub async fn sqlite() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (feed, commits) = unbounded_channel();
        let store = SqliteStore::open(&dir.path().join("herald.db"), feed).unwrap();
        Fixture {
            store: Arc::new(store),
            commits,
            _database: Box::new(dir),
        }
    }

    pub async fn postgres() -> Self {
        let database = TestDatabase::create().await;
        let (feed, commits) = unbounded_channel();
        let store = database.open(feed).await;
        Fixture {
            store: Arc::new(store),
            commits,
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

    /// Everything the commit feed has received so far, flattened.
    pub fn fed(&mut self) -> Vec<StoredEvent> {
        let mut fed = Vec::new();
        while let Ok(batch) = self.commits.try_recv() {
            fed.extend(batch);
        }
        fed
    }
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

/// A database of its own for one test, dropped (with any connection still open
/// to it) when the test ends, passes or panics.
pub struct TestDatabase {
    admin_url: String,
    name: String,
    url: String,
}

impl TestDatabase {
    pub async fn create() -> Self {
        static COUNTER: AtomicUsize = AtomicUsize::new(0);
        let admin_url = std::env::var("HERALD_TEST_POSTGRES")
            .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
        let random = RandomState::new().build_hasher().finish() & 0xffff_ffff;
        let name = format!(
            "herald_test_{}_{}_{random:08x}",
            std::process::id(),
            COUNTER.fetch_add(1, Ordering::Relaxed)
        );
        admin(&admin_url, &format!("CREATE DATABASE {name}")).await;
        let url = with_database(&admin_url, &name);
        TestDatabase {
            admin_url,
            name,
            url,
        }
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    pub async fn open(&self, feed: CommitFeed) -> PostgresStore {
        PostgresStore::open(&self.url, feed).await.unwrap()
    }

    /// A plain connection, for what the store API cannot do.
    pub async fn connect(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(connection);
        client
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        // Drop cannot await, and the test's runtime may be unwinding: drop the
        // database from a runtime of our own on a thread of our own.
        let admin_url = self.admin_url.clone();
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap()
                .block_on(admin(&admin_url, &sql))
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

async fn admin(admin_url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(admin_url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| panic!("no PostgreSQL at {admin_url} (HERALD_TEST_POSTGRES): {e}"));
    let connection = tokio::spawn(connection);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = connection.await;
}

/// `url` with its database replaced by `name`.
fn with_database(url: &str, name: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let path = url[authority..].find('/').map(|i| authority + i);
    let query = url.find('?');
    let base = &url[..path.or(query).unwrap_or(url.len())];
    let query = query.map_or("", |q| &url[q..]);
    format!("{base}/{name}{query}")
}
