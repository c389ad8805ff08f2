//! Appending to the event stream, inside the transaction of the change the
//! event tells of, so the stream and the data never disagree.

use herald_protocol::stored::from_millis;
use herald_protocol::{Event, UserId};

use crate::db::{Db, Ids, ListSql};
use crate::rows::now_millis;
use crate::{Error, Result, StoredEvent};

/// Appends an event for `user_id` (`None`: for every user).
pub(crate) async fn emit(
    db: &impl Db,
    events: &mut Vec<StoredEvent>,
    user_id: Option<UserId>,
    event: Event,
) -> Result<()> {
    let payload = payload(&event)?;
    let at = now_millis();
    let seq = db
        .query_one(
            "INSERT INTO events (user_id, created_at, payload) VALUES ($1, $2, $3) RETURNING seq",
            &[&user_id, &at, &payload],
            |row| row.get(0),
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
        "INSERT INTO events (user_id, created_at, payload)
         SELECT i.value, $2, $3 FROM {list $1 AS i} ORDER BY i.key
         RETURNING seq, user_id",
    );
    let payload = payload(&event)?;
    let at = now_millis();
    let mut rows = db
        .query(EMIT_TO.text::<D>(), &[&Ids(users), &at, &payload], |row| {
            Ok((row.get::<i64>(0)?, row.get::<UserId>(1)?))
        })
        .await?;
    rows.sort_unstable();
    events.extend(rows.into_iter().map(|(seq, user)| StoredEvent {
        seq,
        user_id: Some(user),
        at: from_millis(at),
        event: event.clone(),
    }));
    Ok(())
}

fn payload(event: &Event) -> Result<String> {
    serde_json::to_string(event).map_err(|e| Error::Corrupt(e.to_string()))
}
