//! The outbox: actions taken here, queued durably until the server confirms them.
//!
//! An action is written in the same transaction that applies it optimistically,
//! so a crash can never leave a change on screen that will not be sent. The sync
//! engine sends them one at a time, oldest first. Every action is safe to send
//! twice (marking read is idempotent; deleting twice answers 404, which means
//! "already done"), so an answer lost with the connection is simply resent.

use herald_protocol::{Event, KindFilter, NotificationId};
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};
use crate::views::Action;

impl Action {
    /// Whether `event` is the server's echo of this action (or of the same
    /// change made elsewhere, which ends the need for the overlay just as well).
    pub(crate) fn echoed_by(&self, event: &Event, me: &str) -> bool {
        let overlaps = |ours: &[NotificationId], theirs: &[NotificationId]| {
            theirs.iter().any(|id| ours.contains(id))
        };
        match (self, event) {
            (Action::MarkRead { ids }, Event::NotificationsRead { ids: theirs })
            | (Action::MarkUnread { ids }, Event::NotificationsUnread { ids: theirs })
            | (Action::Delete { ids }, Event::NotificationsDeleted { ids: theirs }) => {
                overlaps(ids, theirs)
            }
            (Action::MarkAllRead { kind, .. }, Event::AllRead { kind: theirs, .. }) => {
                kind == theirs || *theirs == KindFilter::All
            }
            (Action::MarkAllRead { up_to, .. }, Event::NotificationsRead { ids }) => {
                ids.iter().any(|id| id <= up_to)
            }
            (Action::SendMessage { client_id, .. }, Event::MessageCreated { message }) => {
                message.client_id == *client_id && message.sender.as_deref() == Some(me)
            }
            (
                Action::ReadConversation {
                    conversation_id,
                    up_to,
                },
                Event::ConversationRead {
                    conversation_id: theirs,
                    user,
                    up_to: their_up_to,
                },
            ) => conversation_id == theirs && user == me && their_up_to >= up_to,
            (Action::DeleteMessages { ids, .. }, Event::MessagesDeleted { ids: theirs, .. }) => {
                overlaps(ids, theirs)
            }
            _ => false,
        }
    }
}

/// Where an action is on its way to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum State {
    /// Not sent yet (or sent on a connection that died before the answer).
    Pending,
    /// A request is in flight.
    Sent,
    /// The server said yes; kept as an overlay until its event arrives.
    Acked,
}

impl State {
    fn as_str(self) -> &'static str {
        match self {
            State::Pending => "pending",
            State::Sent => "sent",
            State::Acked => "acked",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "sent" => State::Sent,
            "acked" => State::Acked,
            _ => State::Pending,
        }
    }
}

/// One outbox row.
#[derive(Debug, Clone)]
pub(crate) struct Queued {
    /// Position in the queue; actions are sent in this order.
    pub seq: i64,
    pub action: Action,
    pub state: State,
    /// The action's event arrived while its request was in flight.
    pub event_seen: bool,
}

fn parse_action(json: &str) -> Result<Action> {
    serde_json::from_str(json).map_err(|e| Error::CacheCorrupt(format!("outbox entry: {e}")))
}

fn now_millis() -> i64 {
    super::notifications::to_millis(time::OffsetDateTime::now_utc())
}

pub(crate) fn push(conn: &Connection, action: &Action) -> Result<i64> {
    let json = serde_json::to_string(action).expect("actions always serialize");
    conn.prepare_cached("INSERT INTO outbox (action, created_at) VALUES (?1, ?2)")?
        .execute((json, now_millis()))?;
    Ok(conn.last_insert_rowid())
}

fn load(conn: &Connection, sql: &str) -> Result<Vec<Queued>> {
    let rows: Vec<(i64, String, String, bool)> = conn
        .prepare_cached(sql)?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(seq, action, state, event_seen)| {
            Ok(Queued {
                seq,
                action: parse_action(&action)?,
                state: State::parse(&state),
                event_seen,
            })
        })
        .collect()
}

/// Every queued action in order: the overlay [`super::notifications::rebase`] applies.
pub(crate) fn actions(conn: &Connection) -> Result<Vec<Action>> {
    Ok(load(
        conn,
        "SELECT seq, action, state, event_seen FROM outbox ORDER BY seq",
    )?
    .into_iter()
    .map(|q| q.action)
    .collect())
}

/// The oldest action not yet sent, unless one is in flight (order matters: a
/// "read" must not overtake the "unread" queued before it).
pub(crate) fn next_pending(conn: &Connection) -> Result<Option<Queued>> {
    let mut rows = load(
        conn,
        "SELECT seq, action, state, event_seen FROM outbox
         WHERE state != 'acked' ORDER BY seq LIMIT 1",
    )?;
    Ok(rows.pop().filter(|q| q.state == State::Pending))
}

pub(crate) fn get(conn: &Connection, seq: i64) -> Result<Option<Queued>> {
    let row: Option<(i64, String, String, bool)> = conn
        .prepare_cached("SELECT seq, action, state, event_seen FROM outbox WHERE seq = ?1")?
        .query_row([seq], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .optional()?;
    row.map(|(seq, action, state, event_seen)| {
        Ok(Queued {
            seq,
            action: parse_action(&action)?,
            state: State::parse(&state),
            event_seen,
        })
    })
    .transpose()
}

pub(crate) fn set_state(conn: &Connection, seq: i64, state: State) -> Result<()> {
    let acked_at = (state == State::Acked).then(now_millis);
    conn.prepare_cached(
        "UPDATE outbox SET state = ?2, acked_at = ?3,
                attempts = attempts + (?2 = 'sent')
         WHERE seq = ?1",
    )?
    .execute((seq, state.as_str(), acked_at))?;
    Ok(())
}

pub(crate) fn remove(conn: &Connection, seq: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM outbox WHERE seq = ?1")?
        .execute([seq])?;
    Ok(())
}

/// At the start of a connection: a request in flight on an older connection may
/// or may not have arrived, so it is sent again (safely: see the module docs).
pub(crate) fn reset_in_flight(conn: &Connection) -> Result<()> {
    conn.execute(
        "UPDATE outbox SET state = 'pending' WHERE state = 'sent'",
        [],
    )?;
    Ok(())
}

/// Matches an applied event against actions on their way: an acked action's
/// echo ends its overlay; an echo that beats the answer is remembered.
/// Returns whether an action left the outbox.
pub(crate) fn note_event(conn: &Connection, event: &Event, me: &str) -> Result<bool> {
    let waiting = load(
        conn,
        "SELECT seq, action, state, event_seen FROM outbox WHERE state != 'pending' ORDER BY seq",
    )?;
    let mut removed = false;
    for queued in waiting {
        if !queued.action.echoed_by(event, me) {
            continue;
        }
        match queued.state {
            State::Acked => {
                remove(conn, queued.seq)?;
                removed = true;
            }
            State::Sent if !queued.event_seen => {
                conn.prepare_cached("UPDATE outbox SET event_seen = 1 WHERE seq = ?1")?
                    .execute([queued.seq])?;
            }
            _ => {}
        }
    }
    Ok(removed)
}

/// Drops acked actions (all of them, or those acked before `before_ms`): their
/// events are applied by now, or were never coming (nothing changed).
pub(crate) fn drop_acked(conn: &Connection, before_ms: Option<i64>) -> Result<usize> {
    Ok(conn
        .prepare_cached("DELETE FROM outbox WHERE state = 'acked' AND acked_at < ?1")?
        .execute([before_ms.unwrap_or(i64::MAX)])?)
}

/// Actions still to be sent (acked ones are done).
pub(crate) fn unsent(conn: &Connection) -> Result<usize> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM outbox WHERE state != 'acked'")?
        .query_row([], |r| r.get::<_, i64>(0))? as usize)
}

pub(crate) fn now() -> i64 {
    now_millis()
}
