//! The embedded SQLite backend: one file, WAL, `synchronous=FULL`.
//!
//! Writes go through a single writer thread that groups whatever requests are
//! waiting into one transaction (group commit): each request runs in its own
//! savepoint, so one failing request never spoils its neighbours, and one fsync
//! makes the whole batch durable. Reads run on a small pool of read-only
//! connections, which WAL lets proceed while the writer commits.

mod db;
#[cfg(test)]
mod plans;
mod pool;
mod schema;
mod writer;

use std::path::Path;
use std::sync::Arc;

use rusqlite::Connection;

use crate::access::AccessFeed;
use crate::impl_store::impl_store;
use crate::{notifications, CommitFeed, Inserted, NewNotification, Result};
use db::now;
use pool::ReadPool;
use writer::Writer;

/// Read connections; WAL readers never block the writer or each other.
const READERS: usize = 4;

pub struct SqliteStore {
    writer: Writer,
    readers: Arc<ReadPool>,
    access: AccessFeed,
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
            writer: Writer::spawn(conn, feed.clone())?,
            readers: Arc::new(ReadPool::new(readers)),
            access: AccessFeed::new(feed),
        })
    }

    /// Runs `f` on a read connection, on the blocking pool.
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

    /// Like [`SqliteStore::read`], in one read transaction: every statement of
    /// `f` sees the same committed state.
    async fn snapshot<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        self.read(move |conn| {
            let tx = conn.unchecked_transaction()?;
            let value = f(&tx)?;
            tx.commit()?;
            Ok(value)
        })
        .await
    }

    /// A notification, personal or broadcast, is one write request.
    async fn insert(&self, new: NewNotification) -> Result<Inserted> {
        self.writer
            .run(move |conn, events| now(notifications::insert(conn, events, &new)))
            .await
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

/// How the shared [`crate::Store`] implementation runs a rule here: to its end
/// at once ([`now`]), on a read connection or on the writer thread.
macro_rules! run_read {
    ($store:ident, $db:ident => $rule:expr) => {
        $store.read(move |$db| now($rule)).await
    };
}
macro_rules! run_snapshot {
    ($store:ident, $db:ident => $rule:expr) => {
        $store.snapshot(move |$db| now($rule)).await
    };
}
macro_rules! run_write {
    ($store:ident, $db:ident, $events:ident => $rule:expr) => {
        $store.writer.run(move |$db, $events| now($rule)).await
    };
}

impl_store!(SqliteStore);
