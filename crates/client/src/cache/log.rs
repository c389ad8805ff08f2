//! The local event log: every stream event applied to this cache, in order.
//!
//! Front ends that only show state do not need it (they get [`ClientEvent`]s).
//! It exists for consumers that must see *each* event exactly as the server sent
//! it and must not lose one across restarts, like `herald watch`: the log is
//! written in the same transaction that applies the events, so such a consumer
//! keeps its own position, reads from the log after it, and resumes there —
//! whatever the sync engine did while it was not looking.
//!
//! [`ClientEvent`]: crate::ClientEvent

use herald_protocol::{Cursor, Event};
use rusqlite::Connection;
use serde::Serialize;

use super::meta;
use crate::error::Result;

/// One applied event with its place in the stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedEvent {
    pub cursor: Cursor,
    pub event: Event,
}

/// A slice of the log after some position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLogPage {
    /// Events may be missing between the requested position and the first one
    /// returned: the cache was reloaded (the server no longer had them) or the
    /// log was trimmed. The page continues from where the log is complete.
    pub missed: bool,
    /// The position the page continues from: the requested one, or where the
    /// log is complete when `missed`. Pass the last event's cursor (or this,
    /// when there are none) next time.
    pub from: Cursor,
    pub events: Vec<LoggedEvent>,
}

pub(crate) fn append(conn: &Connection, cursor: Cursor, event: &Event) -> Result<()> {
    let json = serde_json::to_string(event).expect("events always serialize");
    conn.prepare_cached("INSERT OR IGNORE INTO event_log (cursor, event) VALUES (?1, ?2)")?
        .execute((cursor, json))?;
    Ok(())
}

/// After a full reload: the events before `cursor` are not all known, so the log
/// starts over there.
pub(crate) fn restart_at(conn: &Connection, cursor: Cursor) -> Result<()> {
    conn.execute("DELETE FROM event_log", [])?;
    meta::set(conn, meta::LOG_START, cursor)
}

/// Keeps the newest `keep` entries.
pub(crate) fn trim(conn: &Connection, keep: usize) -> Result<()> {
    let cut: Option<Cursor> = conn
        .prepare_cached("SELECT cursor FROM event_log ORDER BY cursor DESC LIMIT 1 OFFSET ?1")?
        .query_row([keep as i64], |r| r.get(0))
        .ok();
    if let Some(cut) = cut {
        conn.prepare_cached("DELETE FROM event_log WHERE cursor <= ?1")?
            .execute([cut])?;
        let start: Option<Cursor> = meta::get(conn, meta::LOG_START)?;
        meta::set(conn, meta::LOG_START, start.unwrap_or(cut).max(cut))?;
    }
    Ok(())
}

/// Up to `limit` events after `position`.
pub(crate) fn after(conn: &Connection, position: Cursor, limit: u32) -> Result<EventLogPage> {
    let start: Option<Cursor> = meta::get(conn, meta::LOG_START)?;
    let (from, missed) = match start {
        Some(start) if position < start => (start, true),
        _ => (position, false),
    };
    let rows: Vec<(Cursor, String)> = conn
        .prepare_cached(
            "SELECT cursor, event FROM event_log WHERE cursor > ?1 ORDER BY cursor LIMIT ?2",
        )?
        .query_map((from, limit), |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    let events = rows
        .into_iter()
        .filter_map(|(cursor, json)| match serde_json::from_str(&json) {
            Ok(event) => Some(LoggedEvent { cursor, event }),
            Err(e) => {
                // Written by a newer client that shares this file: skip, do not stall.
                tracing::warn!(cursor, error = %e, "skipping an unreadable logged event");
                None
            }
        })
        .collect();
    Ok(EventLogPage {
        missed,
        from,
        events,
    })
}
