//! The event stream: replay, bounds and retention.

use herald_protocol::{Cursor, Event, UserId};
use rusqlite::{Connection, OptionalExtension};
use time::OffsetDateTime;

use super::rows::{from_millis, to_millis};
use crate::{Error, PurgeStats, Result, StoredEvent, StreamBounds};

pub(super) fn since(
    conn: &Connection,
    user_id: UserId,
    since: Cursor,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, user_id, created_at, payload FROM events
         WHERE seq > ?2 AND (user_id = ?1 OR user_id IS NULL)
         ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query((user_id, since, limit))?;
    collect(rows)
}

pub(super) fn between(
    conn: &Connection,
    after: Cursor,
    through: Option<Cursor>,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT seq, user_id, created_at, payload FROM events
         WHERE seq > ?1 AND seq <= ?2 ORDER BY seq LIMIT ?3",
    )?;
    let rows = stmt.query((after, through.unwrap_or(Cursor::MAX), limit))?;
    collect(rows)
}

fn collect(rows: rusqlite::Rows<'_>) -> Result<Vec<StoredEvent>> {
    rows.mapped(|row| {
        Ok((
            row.get::<_, i64>(0)?,
            row.get::<_, Option<i64>>(1)?,
            row.get::<_, i64>(2)?,
            row.get::<_, String>(3)?,
        ))
    })
    .map(|row| {
        let (seq, user_id, at, payload) = row?;
        let event: Event = serde_json::from_str(&payload)
            .map_err(|e| Error::Corrupt(format!("event {seq}: {e}")))?;
        Ok(StoredEvent {
            seq,
            user_id,
            at: from_millis(at),
            event,
        })
    })
    .collect()
}

/// The newest cursor ever handed out (kept by AUTOINCREMENT even after purges).
pub(super) fn head(conn: &Connection) -> Result<Cursor> {
    Ok(conn
        .prepare_cached("SELECT seq FROM sqlite_sequence WHERE name = 'events'")?
        .query_row([], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

pub(super) fn bounds(conn: &Connection) -> Result<StreamBounds> {
    let tx = conn.unchecked_transaction()?;
    let purged_through = tx.query_row(
        "SELECT value FROM meta WHERE key = 'purged_through'",
        [],
        |r| r.get(0),
    )?;
    let head = head(&tx)?;
    tx.commit()?;
    Ok(StreamBounds {
        purged_through,
        head,
    })
}

pub(super) fn purge(conn: &Connection, before: OffsetDateTime) -> Result<PurgeStats> {
    let before = to_millis(before);
    let newest_purged: Option<i64> = conn.query_row(
        "SELECT max(seq) FROM events WHERE created_at < ?1",
        [before],
        |r| r.get(0),
    )?;
    let events = conn.execute("DELETE FROM events WHERE created_at < ?1", [before])? as i64;
    if let Some(seq) = newest_purged {
        conn.execute(
            "UPDATE meta SET value = max(value, ?1) WHERE key = 'purged_through'",
            [seq],
        )?;
    }
    let mut notifications =
        conn.execute("DELETE FROM notifications WHERE created_at < ?1", [before])? as i64;
    // Personal notifications every recipient deleted are nobody's any more.
    notifications += conn.execute(
        "DELETE FROM notifications WHERE kind = 'personal'
         AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = notifications.id)",
        [],
    )? as i64;
    Ok(PurgeStats {
        notifications,
        events,
    })
}
