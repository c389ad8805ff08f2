//! Conversions between PostgreSQL rows and domain types, and the event append.

use deadpool_postgres::Transaction;
use herald_protocol::{Event, Role, User, UserId};
use tokio_postgres::Row;

use crate::{Error, Result, StoredEvent};

pub(super) use crate::millis::{from_millis, now_millis, to_millis};

pub(super) use crate::sql::user_columns;

/// Reads a user from [`user_columns`] starting at column `at`.
pub(super) fn user_from_row(row: &Row, at: usize) -> Result<User> {
    let role: String = row.try_get(at + 3)?;
    Ok(User {
        id: row.try_get(at)?,
        username: row.try_get(at + 1)?,
        display_name: row.try_get(at + 2)?,
        role: Role::parse(&role).unwrap_or(Role::User),
        disabled: row.try_get(at + 4)?,
        created_at: from_millis(row.try_get(at + 5)?),
    })
}

/// Appends an event to the stream inside the current transaction.
pub(super) async fn emit(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user_id: Option<UserId>,
    event: Event,
) -> Result<()> {
    let payload = serde_json::to_string(&event).map_err(|e| Error::Corrupt(e.to_string()))?;
    let at = now_millis();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO events (user_id, created_at, payload) VALUES ($1, $2, $3) RETURNING seq",
        )
        .await?;
    let seq = tx
        .query_one(&stmt, &[&user_id, &at, &payload])
        .await?
        .get(0);
    events.push(StoredEvent {
        seq,
        user_id,
        at: from_millis(at),
        event,
    });
    Ok(())
}

/// Appends the same event for each of `users` with one statement, in the order
/// given (SQLite emits them one by one in that order).
pub(super) async fn emit_to(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    users: &[UserId],
    event: Event,
) -> Result<()> {
    if users.is_empty() {
        return Ok(());
    }
    let payload = serde_json::to_string(&event).map_err(|e| Error::Corrupt(e.to_string()))?;
    let at = now_millis();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO events (user_id, created_at, payload)
             SELECT u, $2, $3 FROM unnest($1::bigint[]) WITH ORDINALITY AS t(u, n) ORDER BY n
             RETURNING seq, user_id",
        )
        .await?;
    let mut rows = tx
        .query(&stmt, &[&users, &at, &payload])
        .await?
        .into_iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<Vec<(i64, UserId)>>>()?;
    rows.sort_unstable();
    events.extend(rows.into_iter().map(|(seq, user)| StoredEvent {
        seq,
        user_id: Some(user),
        at: from_millis(at),
        event: event.clone(),
    }));
    Ok(())
}

/// Runs `rows` through `f`, stopping at the first error.
pub(super) fn collect<T>(rows: Vec<Row>, f: impl FnMut(&Row) -> Result<T>) -> Result<Vec<T>> {
    rows.iter().map(f).collect()
}
