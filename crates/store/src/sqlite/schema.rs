//! Forward-only migrations, tracked in `PRAGMA user_version`.

use rusqlite::Connection;

use crate::Result;

/// Index `i` holds the migration that takes the schema from version `i` to `i + 1`.
const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_init.sql"),
    include_str!("migrations/0002_chat.sql"),
    include_str!("migrations/0003_shared_statements.sql"),
    include_str!("migrations/0004_events_name_their_rows.sql"),
];

pub(super) fn migrate(conn: &Connection) -> Result<()> {
    let version: i64 = conn.query_row("PRAGMA user_version", [], |r| r.get(0))?;
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(version as usize) {
        let tx = conn.unchecked_transaction()?;
        tx.execute_batch(sql)?;
        tx.execute_batch(&format!("PRAGMA user_version = {}", i + 1))?;
        tx.commit()?;
        tracing::info!(version = i + 1, "migrated the SQLite schema");
    }
    Ok(())
}
