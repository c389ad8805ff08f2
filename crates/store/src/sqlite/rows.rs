//! Conversions between SQLite values and domain types.

use herald_protocol::{Event, Role, User, UserId};
use rusqlite::{Connection, Row};
use time::OffsetDateTime;

use crate::{Error, Result, StoredEvent};

/// Timestamps are stored as Unix milliseconds: compact, sortable, indexable.
pub(super) fn to_millis(t: OffsetDateTime) -> i64 {
    (t.unix_timestamp_nanos() / 1_000_000) as i64
}

pub(super) fn from_millis(ms: i64) -> OffsetDateTime {
    OffsetDateTime::from_unix_timestamp_nanos(ms as i128 * 1_000_000)
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
}

pub(super) fn now_millis() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}

/// Columns every user query selects, in the order [`user_from_row`] reads them.
pub(super) const USER_COLUMNS: &str = "id, username, display_name, role, disabled, created_at";

pub(super) fn user_from_row(row: &Row<'_>) -> rusqlite::Result<User> {
    let role: String = row.get(3)?;
    Ok(User {
        id: row.get(0)?,
        username: row.get(1)?,
        display_name: row.get(2)?,
        role: Role::parse(&role).unwrap_or(Role::User),
        disabled: row.get(4)?,
        created_at: from_millis(row.get(5)?),
    })
}

/// Appends an event to the stream inside the current transaction.
pub(super) fn emit(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user_id: Option<UserId>,
    event: Event,
) -> Result<()> {
    let payload = serde_json::to_string(&event).map_err(|e| Error::Corrupt(e.to_string()))?;
    let at = now_millis();
    conn.prepare_cached("INSERT INTO events (user_id, created_at, payload) VALUES (?1, ?2, ?3)")?
        .execute((user_id, at, payload))?;
    events.push(StoredEvent {
        seq: conn.last_insert_rowid(),
        user_id,
        at: from_millis(at),
        event,
    });
    Ok(())
}
