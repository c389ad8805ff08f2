//! The PostgreSQL backend, for several server nodes sharing one database.
//!
//! Writes go through one writer task per process that groups whatever requests
//! are waiting into one transaction (group commit), each request in its own
//! savepoint, exactly like the SQLite writer. Personal notifications, the bulk of
//! the traffic, are gathered first and written as one request per batch with
//! multi-row statements ([`personal`]). The first statement of every write
//! transaction takes a cluster-wide advisory lock, so write batches of all nodes
//! run one after another and ids and cursors become visible in commit order (see
//! [`writer`]). Reads run on a connection pool; reads that must agree with a
//! cursor or with themselves run in one REPEATABLE READ snapshot.

mod db;
mod personal;
mod schema;
mod writer;

use std::str::FromStr;

use deadpool_postgres::{Manager, ManagerConfig, Pool, RecyclingMethod, Transaction};
use tokio::sync::{mpsc, oneshot};
use tokio_postgres::{Config, IsolationLevel, NoTls};

use crate::access::AccessFeed;
use crate::group_commit::gather;
use crate::impl_store::impl_store;
use crate::{notifications, Audience, CommitFeed, Error, Inserted, NewNotification, Result};
use db::Pg;
pub use writer::WRITE_LOCK_KEY;
use writer::{BoxFuture, Writer};

/// Read connections per process.
const READERS: usize = 8;

pub struct PostgresStore {
    writer: Writer,
    readers: Pool,
    /// Personal notifications on their way to the writer, gathered into batches.
    personal: mpsc::Sender<PendingNotification>,
    access: AccessFeed,
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
        let writer = Writer::spawn(pool(write_config, 1)?, feed.clone());
        let (personal, pending) = mpsc::channel(4 * MAX_GATHERED);
        tokio::spawn(gather_personal(writer.clone(), pending));
        Ok(Self {
            writer,
            readers: pool(config, READERS)?,
            personal,
            access: AccessFeed::new(feed),
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

    /// Personal notifications go to the gatherer, which writes them a batch at
    /// a time ([`personal`]); a broadcast is one row and goes straight in.
    async fn insert(&self, new: NewNotification) -> Result<Inserted> {
        if matches!(new.audience, Audience::Users(_)) {
            let (reply, answer) = oneshot::channel();
            self.personal
                .send(PendingNotification { new, reply })
                .await
                .map_err(|_| Error::Closed)?;
            return answer.await.map_err(|_| Error::Closed)?;
        }
        self.writer
            .run(move |tx, events| {
                Box::pin(async move { notifications::insert(&Pg(tx), events, &new).await })
            })
            .await
    }
}

/// Hands whatever personal notifications are waiting to the writer as one batch
/// (see [`personal`]), then answers each; the next batch
/// gathers while this one commits. Runs until the store is dropped.
async fn gather_personal(writer: Writer, mut pending: mpsc::Receiver<PendingNotification>) {
    let mut batch = Vec::with_capacity(MAX_GATHERED);
    while let Some(first) = pending.recv().await {
        gather(first, &mut pending, MAX_GATHERED, &mut batch);
        let (news, replies): (Vec<_>, Vec<_>) = batch.drain(..).map(|p| (p.new, p.reply)).unzip();
        let answers = writer
            .run(move |tx, events| {
                Box::pin(async move { personal::insert_personal(tx, events, &news).await })
            })
            .await;
        match answers {
            Ok(answers) => {
                for (reply, answer) in replies.into_iter().zip(answers) {
                    let _ = reply.send(answer);
                }
            }
            Err(e) => {
                for reply in replies {
                    let _ = reply.send(Err(e.batch_failure()));
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

/// How the shared [`crate::Store`] implementation runs a rule here: awaited on
/// a pooled connection, in a snapshot, or by the writer task.
macro_rules! run_read {
    ($store:ident, $db:ident => $rule:expr) => {{
        let client = $store.reader().await?;
        let $db = &Pg(&client);
        $rule.await
    }};
}
macro_rules! run_snapshot {
    ($store:ident, $db:ident => $rule:expr) => {
        $store
            .snapshot(move |tx| {
                Box::pin(async move {
                    let $db = &Pg(tx);
                    $rule.await
                })
            })
            .await
    };
}
macro_rules! run_write {
    ($store:ident, $db:ident, $events:ident => $rule:expr) => {
        $store
            .writer
            .run(move |tx, $events| {
                Box::pin(async move {
                    let $db = &Pg(tx);
                    $rule.await
                })
            })
            .await
    };
}

impl_store!(PostgresStore);
