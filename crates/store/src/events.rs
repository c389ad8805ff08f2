//! Reading the event stream: replay, the fan-out's range reads, bounds and retention.

use herald_protocol::stored::{from_millis, to_millis};
use herald_protocol::{Cursor, Event, UserId};
use time::OffsetDateTime;

use crate::db::{Db, Row};
use crate::{Error, PurgeStats, Result, StoredEvent, StreamBounds};

pub(crate) async fn since(
    db: &impl Db,
    user_id: UserId,
    since: Cursor,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    const SINCE: &str = "SELECT seq, user_id, created_at, payload FROM events
         WHERE seq > $2 AND (user_id = $1 OR user_id IS NULL)
         ORDER BY seq LIMIT $3";
    db.query(SINCE, &[&user_id, &since, &i64::from(limit)], event)
        .await
}

pub(crate) async fn between(
    db: &impl Db,
    after: Cursor,
    through: Option<Cursor>,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    const BETWEEN: &str = "SELECT seq, user_id, created_at, payload FROM events
         WHERE seq > $1 AND seq <= $2 ORDER BY seq LIMIT $3";
    let through = through.unwrap_or(Cursor::MAX);
    db.query(BETWEEN, &[&after, &through, &i64::from(limit)], event)
        .await
}

fn event(row: &Row<'_>) -> Result<StoredEvent> {
    let seq: i64 = row.get(0)?;
    let payload: String = row.get(3)?;
    let event: Event =
        serde_json::from_str(&payload).map_err(|e| Error::Corrupt(format!("event {seq}: {e}")))?;
    Ok(StoredEvent {
        seq,
        user_id: row.get(1)?,
        at: from_millis(row.get(2)?),
        event,
    })
}

/// The newest cursor handed out ([`crate::db::Dialect::HEAD`]).
pub(crate) async fn head<D: Db>(db: &D) -> Result<Cursor> {
    let head: Option<Cursor> = db.query_opt(D::HEAD, &[], |row| row.get(0)).await?;
    Ok(head.unwrap_or(0))
}

/// Run in one snapshot, so the head and the purge mark agree.
pub(crate) async fn bounds<D: Db>(db: &D) -> Result<StreamBounds> {
    let purged_through = db
        .query_one(
            "SELECT value FROM meta WHERE key = 'purged_through'",
            &[],
            |row| row.get(0),
        )
        .await?;
    Ok(StreamBounds {
        purged_through,
        head: head(db).await?,
    })
}

/// A write of a row nobody reads: whether it commits tells whether writes go
/// through. (Its value changes every time, since SQLite writes nothing for an
/// update that leaves a page as it was.)
pub(crate) async fn probe(db: &impl Db) -> Result<()> {
    db.execute(
        "INSERT INTO meta (key, value) VALUES ('write_probe', 1)
         ON CONFLICT (key) DO UPDATE SET value = meta.value + 1",
        &[],
    )
    .await?;
    Ok(())
}

pub(crate) async fn purge(db: &impl Db, before: OffsetDateTime) -> Result<PurgeStats> {
    let before = to_millis(before);
    let newest_purged: Option<i64> = db
        .query_one(
            "SELECT max(seq) FROM events WHERE created_at < $1",
            &[&before],
            |row| row.get(0),
        )
        .await?;
    let events = db
        .execute("DELETE FROM events WHERE created_at < $1", &[&before])
        .await? as i64;
    if let Some(seq) = newest_purged {
        db.execute(
            "UPDATE meta SET value = $1 WHERE key = 'purged_through' AND value < $1",
            &[&seq],
        )
        .await?;
    }
    let mut notifications = db
        .execute(
            "DELETE FROM notifications WHERE created_at < $1",
            &[&before],
        )
        .await? as i64;
    // Personal notifications every recipient deleted are nobody's any more.
    notifications += db
        .execute(
            "DELETE FROM notifications WHERE kind = 'personal'
             AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = notifications.id)",
            &[],
        )
        .await? as i64;
    Ok(PurgeStats {
        notifications,
        events,
    })
}
