//! Retention: what is older than the server keeps goes, a chunk at a time.
//!
//! Each chunk is one short write request, so the writer serves everyone else
//! between chunks instead of stalling behind one long `DELETE`.

use herald_protocol::stored::to_millis;

use crate::chat::messages;
use crate::db::Db;
use crate::{PurgeStats, Result, Retention};

pub(crate) async fn purge_chunk<D: Db>(db: &D, retention: &Retention) -> Result<PurgeStats> {
    let before = to_millis(retention.before);
    let chunk = i64::from(retention.chunk);
    let events = purge_events(db, before, chunk).await?;
    let mut notifications = db
        .execute(
            "DELETE FROM notifications WHERE id IN
               (SELECT id FROM notifications WHERE created_at < $1 ORDER BY id LIMIT $2)",
            &[&before, &chunk],
        )
        .await? as i64;
    // Personal notifications every recipient deleted are nobody's any more.
    notifications += db
        .execute(
            "DELETE FROM notifications WHERE id IN
               (SELECT n.id FROM notifications n
                WHERE n.kind = 'personal'
                  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = n.id)
                ORDER BY n.id LIMIT $1)",
            &[&chunk],
        )
        .await? as i64;
    let messages = match retention.chat_before {
        Some(chat_before) => messages::purge(db, to_millis(chat_before), chunk).await?,
        None => 0,
    };
    Ok(PurgeStats {
        notifications,
        events,
        messages,
    })
}

/// The oldest events created before `before`, and the mark that a cursor
/// older than the newest of them can no longer resume.
async fn purge_events(db: &impl Db, before: i64, chunk: i64) -> Result<i64> {
    let purged: Vec<i64> = db
        .query(
            "DELETE FROM events WHERE seq IN
               (SELECT seq FROM events WHERE created_at < $1 ORDER BY seq LIMIT $2)
             RETURNING seq",
            &[&before, &chunk],
            |row| row.get(0),
        )
        .await?;
    if let Some(newest) = purged.iter().max() {
        db.execute(
            "UPDATE meta SET value = $1 WHERE key = 'purged_through' AND value < $1",
            &[newest],
        )
        .await?;
    }
    Ok(purged.len() as i64)
}
