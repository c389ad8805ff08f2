//! Forward-only migrations, tracked in `PRAGMA user_version`.
//!
//! The cache is disposable (the server has everything), but the outbox is not:
//! actions taken offline must survive an upgrade of the app. So the schema is
//! migrated in place, never dropped and rebuilt.

use rusqlite::Connection;

use crate::error::{Error, Result};

/// Index `i` holds the migration that takes the schema from version `i` to `i + 1`.
pub(crate) const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_notifications.sql"),
    include_str!("migrations/0002_chat.sql"),
];

/// The version a freshly opened cache ends up at.
pub const SCHEMA_VERSION: i64 = MIGRATIONS.len() as i64;

/// The schema version stored in the file.
pub(crate) fn version(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("PRAGMA user_version", [], |r| r.get(0))?)
}

/// Brings the schema up to [`SCHEMA_VERSION`], one migration per transaction.
pub(crate) fn migrate(conn: &Connection) -> Result<()> {
    migrate_to(conn, SCHEMA_VERSION)
}

/// Brings the schema up to `target` (tests start from older versions).
pub(crate) fn migrate_to(conn: &Connection, target: i64) -> Result<()> {
    let current = version(conn)?;
    if current > SCHEMA_VERSION {
        return Err(Error::CacheCorrupt(format!(
            "the cache has schema version {current}, newer than this client's \
             {SCHEMA_VERSION}; update the client or delete the cache file"
        )));
    }
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .take(target as usize)
        .skip(current as usize)
    {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::debug!(version = i + 1, "migrated the cache schema");
    }
    Ok(())
}
