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
    // An old notification's per-user rows go first, a chunk at a time, and the
    // notification only once it has none: deleting it never cascades to an
    // unbounded number of rows (a broadcast may have one per user).
    let mut states = 0;
    for per_user in ["recipients", "broadcast_state"] {
        let sql = format!(
            "DELETE FROM {per_user} WHERE (user_id, notification_id) IN
               (SELECT s.user_id, s.notification_id FROM {per_user} s
                JOIN notifications n ON n.id = s.notification_id
                WHERE n.created_at < $1 ORDER BY s.notification_id LIMIT $2)"
        );
        states += db.execute(&sql, &[&before, &chunk]).await? as i64;
    }
    // Old ones without per-user rows left, and personal ones every recipient
    // deleted: nobody's any more.
    let notifications = db
        .execute(
            "DELETE FROM notifications WHERE id IN
               (SELECT n.id FROM notifications n
                WHERE (n.created_at < $1 OR n.kind = 'personal')
                  AND NOT EXISTS (SELECT 1 FROM recipients r WHERE r.notification_id = n.id)
                  AND NOT EXISTS (SELECT 1 FROM broadcast_state b WHERE b.notification_id = n.id)
                ORDER BY n.id LIMIT $2)",
            &[&before, &chunk],
        )
        .await? as i64;
    let messages = match retention.chat_before {
        Some(chat_before) => messages::purge(db, to_millis(chat_before), chunk).await?,
        None => 0,
    };
    Ok(PurgeStats {
        notifications,
        states,
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
