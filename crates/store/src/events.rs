//! Reading the event stream: replay, the fan-out's range reads and bounds.
//!
//! An event that names a row (see [`crate::stream`]) is rebuilt from it: a
//! `notification.created` from its notification, unread as it was created; a
//! `message.created` from its message as it stands (a message since deleted for
//! everyone is its tombstone, and its `message.deleted` follows); a
//! `room.updated` from the room as it stands (the member changes after it
//! follow, and applying them again changes nothing). When the row is gone, the
//! event replays as its deletion.

use herald_protocol::stored::from_millis;
use herald_protocol::{
    ConversationId, Cursor, Event, MessageId, Notification, NotificationId, UserId,
};

use crate::chat::rooms;
use crate::db::{Db, Row};
use crate::rows::{self, message_columns, notification_columns};
use crate::{Error, Result, StoredEvent, StreamBounds};

/// The events of a page: each row of `events` with the row it names, if any.
/// Columns: the event (0-6), the notification as `Notification::from_row`
/// reads it, unread (7-17), the message (18-23).
macro_rules! replay {
    ($condition:literal) => {
        concat!(
            "SELECT e.seq, e.user_id, e.created_at, e.payload,
                    e.notification_id, e.message_id, e.room_id, ",
            notification_columns!(),
            ", FALSE AS read, ",
            message_columns!("ms"),
            " FROM events e
             LEFT JOIN notifications n ON n.id = e.notification_id
             LEFT JOIN users s ON s.id = n.sender_id
             LEFT JOIN messages m ON m.id = e.message_id
             LEFT JOIN users ms ON ms.id = m.sender_id
             WHERE ",
            $condition,
            " ORDER BY e.seq LIMIT $3"
        )
    };
}

pub(crate) async fn since(
    db: &impl Db,
    user_id: UserId,
    since: Cursor,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    const SINCE: &str = replay!("e.seq > $2 AND (e.user_id = $1 OR e.user_id IS NULL)");
    let rows = db
        .query(SINCE, &[&user_id, &since, &i64::from(limit)], replayed)
        .await?;
    rebuild_rooms(db, rows).await
}

pub(crate) async fn between(
    db: &impl Db,
    after: Cursor,
    through: Option<Cursor>,
    limit: u32,
) -> Result<Vec<StoredEvent>> {
    const BETWEEN: &str = replay!("e.seq > $1 AND e.seq <= $2");
    let through = through.unwrap_or(Cursor::MAX);
    let rows = db
        .query(BETWEEN, &[&after, &through, &i64::from(limit)], replayed)
        .await?;
    rebuild_rooms(db, rows).await
}

/// An event read back, but for a room still to load.
struct Replayed {
    seq: Cursor,
    user_id: Option<UserId>,
    at: i64,
    event: Body,
}

enum Body {
    Ready(Event),
    /// `room.updated`: the room as it stands, or `gone` if there is none.
    Room {
        id: ConversationId,
        gone: Event,
    },
}

/// An event from a row of [`replay!`]: rebuilt from the row it names, or what
/// its payload says when it names none or that row is gone.
fn replayed(row: &Row<'_>) -> Result<Replayed> {
    let seq: Cursor = row.get(0)?;
    let stored = || -> Result<Event> {
        let payload: String = row.get(3)?;
        serde_json::from_str(&payload).map_err(|e| Error::Corrupt(format!("event {seq}: {e}")))
    };
    let notification: Option<NotificationId> = row.get(4)?;
    let message: Option<MessageId> = row.get(5)?;
    let room: Option<ConversationId> = row.get(6)?;
    let found = |column: usize| row.get::<Option<i64>>(column).map(|id| id.is_some());
    let event = if notification.is_some() && found(7)? {
        Body::Ready(Event::NotificationCreated {
            notification: Notification::from_row(row, 7)?,
        })
    } else if message.is_some() && found(18)? {
        Body::Ready(Event::MessageCreated {
            message: rows::message(row, 18)?,
        })
    } else if let Some(id) = room {
        Body::Room {
            id,
            gone: stored()?,
        }
    } else {
        Body::Ready(stored()?)
    };
    Ok(Replayed {
        seq,
        user_id: row.get(1)?,
        at: row.get(2)?,
        event,
    })
}

/// Loads the rooms `room.updated` events name, in the same snapshot.
async fn rebuild_rooms(db: &impl Db, rows: Vec<Replayed>) -> Result<Vec<StoredEvent>> {
    let mut events = Vec::with_capacity(rows.len());
    for row in rows {
        let event = match row.event {
            Body::Ready(event) => event,
            Body::Room { id, gone } => match rooms::load_room(db, id).await {
                Ok(room) => Event::RoomUpdated { room },
                Err(Error::NotFound(_)) => gone,
                Err(e) => return Err(e),
            },
        };
        events.push(StoredEvent {
            seq: row.seq,
            user_id: row.user_id,
            at: from_millis(row.at),
            event,
        });
    }
    Ok(events)
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
