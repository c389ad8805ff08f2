//! Appending to the event stream, inside the transaction of the change the
//! event tells of, so the stream and the data never disagree.
//!
//! An event that announces a row (a notification, a message, a room) names
//! that row instead of copying it: a notification to 200 users stores its
//! content once. Replay rebuilds the event from the row ([`crate::events`]);
//! the stored payload is what replay sends once the row is gone, which is its
//! deletion. The commit feed still carries the full event, as written.

use herald_protocol::stored::from_millis;
use herald_protocol::{Event, NotificationId, UserId};

use crate::db::{Db, Ids, ListSql, Param};
use crate::rows::now_millis;
use crate::{Error, Result, StoredEvent};

/// An event as the `events` table keeps it.
pub(crate) struct Stored {
    /// The whole event, or for an event that names a row, what replaces it
    /// once that row is gone.
    pub payload: String,
    pub notification: Option<i64>,
    pub message: Option<i64>,
    pub room: Option<i64>,
}

impl Stored {
    pub(crate) fn of(event: &Event) -> Result<Self> {
        let (gone, notification, message, room) = match event {
            Event::NotificationCreated { notification } => (
                Self::notification_gone(notification.id),
                Some(notification.id),
                None,
                None,
            ),
            Event::MessageCreated { message } => (
                Event::MessagesDeleted {
                    conversation_id: message.conversation_id,
                    ids: vec![message.id],
                },
                None,
                Some(message.id),
                None,
            ),
            Event::RoomUpdated { room } => (
                Event::RoomLeft { room_id: room.id },
                None,
                None,
                Some(room.id),
            ),
            other => {
                return Ok(Stored {
                    payload: payload(other)?,
                    notification: None,
                    message: None,
                    room: None,
                })
            }
        };
        Ok(Stored {
            payload: payload(&gone)?,
            notification,
            message,
            room,
        })
    }

    /// What a `notification.created` replays as once its notification is gone.
    pub(crate) fn notification_gone(id: NotificationId) -> Event {
        Event::NotificationsDeleted { ids: vec![id] }
    }
}

pub(crate) fn payload(event: &Event) -> Result<String> {
    serde_json::to_string(event).map_err(|e| Error::Corrupt(e.to_string()))
}

/// Appends an event for `user_id` (`None`: for every user).
pub(crate) async fn emit(
    db: &impl Db,
    events: &mut Vec<StoredEvent>,
    user_id: Option<UserId>,
    event: Event,
) -> Result<()> {
    let stored = Stored::of(&event)?;
    let at = now_millis();
    let params: [&dyn Param; 6] = [
        &user_id,
        &at,
        &stored.payload,
        &stored.notification,
        &stored.message,
        &stored.room,
    ];
    let seq = db
        .insert_one(
            "INSERT INTO events
                (user_id, created_at, payload, notification_id, message_id, room_id)
             VALUES ($1, $2, $3, $4, $5, $6)",
            "seq",
            &params,
        )
        .await?;
    events.push(StoredEvent {
        seq,
        user_id,
        at: from_millis(at),
        event,
    });
    Ok(())
}

/// Appends the same event for each of `users`, in the order given, with one
/// statement.
pub(crate) async fn emit_to<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    users: &[UserId],
    event: Event,
) -> Result<()> {
    if let [user] = users {
        return emit(db, events, Some(*user), event).await;
    }
    if users.is_empty() {
        return Ok(());
    }
    static EMIT_TO: ListSql = ListSql::new(
        "INSERT INTO events (user_id, created_at, payload, notification_id, message_id, room_id)
         SELECT i.value, $2, $3, $4, $5, $6 FROM {list $1 AS i} ORDER BY i.key",
    );
    let stored = Stored::of(&event)?;
    let at = now_millis();
    let params: [&dyn Param; 6] = [
        &Ids(users),
        &at,
        &stored.payload,
        &stored.notification,
        &stored.message,
        &stored.room,
    ];
    let seqs = db.insert(EMIT_TO.text::<D>(), "seq", &params).await?;
    if seqs.len() != users.len() {
        return Err(Error::Corrupt(format!(
            "{} events stored for {} users",
            seqs.len(),
            users.len()
        )));
    }
    // Rows were inserted in list order, so their cursors follow it.
    events.extend(seqs.into_iter().zip(users).map(|(seq, &user)| StoredEvent {
        seq,
        user_id: Some(user),
        at: from_millis(at),
        event: event.clone(),
    }));
    Ok(())
}
