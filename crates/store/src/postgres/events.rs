//! The event stream: replay, bounds and retention.

use deadpool_postgres::{GenericClient, Transaction};
use herald_protocol::{Cursor, Event, UserId};
use time::OffsetDateTime;
use tokio_postgres::Row;

use super::rows::{collect, from_millis, to_millis};
use crate::{Error, PurgeStats, Result, StoredEvent, StreamBounds};

const EVENT_COLUMNS: &str = "seq, user_id, created_at, payload";

pub(super) async fn since(
    db: &impl GenericClient,
    user_id: UserId,
    since: Cursor,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE seq > $2 AND (user_id = $1 OR user_id IS NULL)
             ORDER BY seq LIMIT $3"
        ))
        .await?;
    let rows = db
        .query(&stmt, &[&user_id, &since, &i64::from(limit)])
        .await?;
    collect(rows, event_from_row)
}

pub(super) async fn between(
    db: &impl GenericClient,
    after: Cursor,
    through: Option<Cursor>,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {EVENT_COLUMNS} FROM events
             WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3"
        ))
        .await?;
    let through = through.unwrap_or(Cursor::MAX);
    let rows = db
        .query(&stmt, &[&after, &through, &i64::from(limit)])
        .await?;
    collect(rows, event_from_row)
}

fn event_from_row(row: &Row) -> Result<StoredEvent> {
    let seq: i64 = row.try_get(0)?;
    let payload: &str = row.try_get(3)?;
    let event: Event =
        serde_json::from_str(payload).map_err(|e| Error::Corrupt(format!("event {seq}: {e}")))?;
    Ok(StoredEvent {
        seq,
        user_id: row.try_get(1)?,
        at: from_millis(row.try_get(2)?),
        event,
    })
}

/// The newest visible cursor, kept by `purged_through` when a purge emptied the
/// table. Never the sequence's last value: that may belong to a transaction
/// still running (or rolled back), and a cursor handed out past it would skip it.
pub(super) async fn head(db: &impl GenericClient) -> Result<Cursor> {
    let stmt = db
        .prepare_cached(
            "SELECT greatest(
                 (SELECT max(seq) FROM events),
                 (SELECT value FROM meta WHERE key = 'purged_through'))",
        )
        .await?;
    Ok(db.query_one(&stmt, &[]).await?.try_get(0)?)
}

/// Run in a snapshot, so the head and the purge mark agree.
pub(super) async fn bounds(tx: &Transaction<'_>) -> Result<StreamBounds> {
    let stmt = tx
        .prepare_cached("SELECT value FROM meta WHERE key = 'purged_through'")
        .await?;
    let purged_through = tx.query_one(&stmt, &[]).await?.try_get(0)?;
    Ok(StreamBounds {
        purged_through,
        head: head(tx).await?,
    })
}

pub(super) async fn purge(tx: &Transaction<'_>, before: OffsetDateTime) -> Result<PurgeStats> {
    let before = to_millis(before);
    let stmt = tx
        .prepare_cached("SELECT max(seq) FROM events WHERE created_at < $1")
        .await?;
    let newest_purged: Option<i64> = tx.query_one(&stmt, &[&before]).await?.try_get(0)?;
    let stmt = tx
        .prepare_cached("DELETE FROM events WHERE created_at < $1")
        .await?;
    let events = tx.execute(&stmt, &[&before]).await? as i64;
    if let Some(seq) = newest_purged {
        let stmt = tx
            .prepare_cached(
                "UPDATE meta SET value = greatest(value, $1) WHERE key = 'purged_through'",
            )
            .await?;
        tx.execute(&stmt, &[&seq]).await?;
    }
    let stmt = tx
        .prepare_cached("DELETE FROM notifications WHERE created_at < $1")
        .await?;
    let mut notifications = tx.execute(&stmt, &[&before]).await? as i64;
    // Personal notifications every recipient deleted are nobody's any more.
    let stmt = tx
        .prepare_cached(
            "DELETE FROM notifications n WHERE n.kind = 'personal'
             AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = n.id)",
        )
        .await?;
    notifications += tx.execute(&stmt, &[]).await? as i64;
    Ok(PurgeStats {
        notifications,
        events,
    })
}
