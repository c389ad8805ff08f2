//! Conversions between SQLite values and domain types.

use herald_protocol::{Event, Role, User, UserId};
use rusqlite::{Connection, Row};

use crate::{Error, Result, StoredEvent};

pub(super) use crate::millis::{from_millis, now_millis, to_millis};

pub(super) use crate::sql::user_columns;

/// Reads a user from [`user_columns`] starting at column `at`.
pub(super) fn user_from_row(row: &Row<'_>, at: usize) -> rusqlite::Result<User> {
    let role: String = row.get(at + 3)?;
    Ok(User {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
        role: Role::parse(&role).unwrap_or(Role::User),
        disabled: row.get(at + 4)?,
        created_at: from_millis(row.get(at + 5)?),
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
