//! Notification rows: applying server events and reloads, applying local actions
//! on top, and the queries front ends make.
//!
//! Two layers live in one row. `server_read` and the row's existence are the
//! server's state, changed only by events and reloads. `read` and `hidden` are
//! what the user sees: the server state with every action still in the outbox
//! applied on top. [`super::rebase`] recomputes the second layer from the first, which
//! is how an action the server refused is undone, and why applying a server
//! event never clobbers an optimistic change that is still on its way.

use std::collections::HashSet;

use herald_protocol::stored::StoredRow;
use herald_protocol::{
    Counts, Event, KindFilter, Notification, NotificationId, NotificationKind, StatusFilter,
};
use rusqlite::types::Type;
use rusqlite::{Connection, OptionalExtension, Row};
use time::OffsetDateTime;

use super::tracker::Tracker;
use crate::error::Result;
use crate::views::Action;

const COLUMNS: &str =
    "id, kind, category, title, content, link, priority, desktop, sender, created_at, read";

/// What [`list`] returns: like `GET /notifications`, but from the cache.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NotificationFilter {
    pub status: StatusFilter,
    pub kind: KindFilter,
    pub category: Option<String>,
    /// Only ids below this one: pass the last id of a page to get the next.
    pub before: Option<NotificationId>,
    pub limit: u32,
}

impl Default for NotificationFilter {
    fn default() -> Self {
        Self {
            status: StatusFilter::All,
            kind: KindFilter::All,
            category: None,
            before: None,
            limit: 50,
        }
    }
}

pub(crate) use herald_protocol::stored::{from_millis, to_millis};

/// The SQL value of a kind filter; `None` matches every kind.
pub(crate) fn kind_value(kind: KindFilter) -> Option<&'static str> {
    match kind {
        KindFilter::Personal => Some(NotificationKind::Personal.as_str()),
        KindFilter::Broadcast => Some(NotificationKind::Broadcast.as_str()),
        KindFilter::All => None,
    }
}

/// A cache row as [`Notification::from_row`] reads it, so the cache and the
/// server's store agree on what a stored notification is.
struct CacheRow<'a, 'stmt>(&'a Row<'stmt>);

impl StoredRow for CacheRow<'_, '_> {
    type Error = rusqlite::Error;
    fn int(&self, column: usize) -> rusqlite::Result<i64> {
        self.0.get(column)
    }
    fn text(&self, column: usize) -> rusqlite::Result<String> {
        self.0.get(column)
    }
    fn opt_text(&self, column: usize) -> rusqlite::Result<Option<String>> {
        self.0.get(column)
    }
    fn flag(&self, column: usize) -> rusqlite::Result<bool> {
        self.0.get(column)
    }
    fn corrupt(&self, column: usize, problem: String) -> rusqlite::Error {
        rusqlite::Error::FromSqlConversionFailure(column, Type::Text, problem.into())
    }
}

/// Reads the [`COLUMNS`] from the start of `row`.
pub(crate) fn from_row(row: &Row<'_>) -> rusqlite::Result<Notification> {
    Notification::from_row(&CacheRow(row), 0)
}

/// One notification as the user sees it; `None` when absent or deleted here.
pub(crate) fn get(conn: &Connection, id: NotificationId) -> Result<Option<Notification>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM notifications WHERE id = ?1 AND hidden = 0"
        ))?
        .query_row([id], from_row)
        .optional()?)
}

/// Newest first, as the message center lists them.
pub(crate) fn list(conn: &Connection, filter: &NotificationFilter) -> Result<Vec<Notification>> {
    let read = match filter.status {
        StatusFilter::Unread => Some(false),
        StatusFilter::Read => Some(true),
        StatusFilter::All => None,
    };
    let items = conn
        .prepare_cached(&format!(
            "SELECT {COLUMNS} FROM notifications
             WHERE hidden = 0 AND id < ?1
               AND (?2 IS NULL OR kind = ?2)
               AND (?3 IS NULL OR read = ?3)
               AND (?4 IS NULL OR category = ?4)
             ORDER BY id DESC LIMIT ?5"
        ))?
        .query_map(
            (
                filter.before.unwrap_or(i64::MAX),
                kind_value(filter.kind),
                read,
                &filter.category,
                filter.limit,
            ),
            from_row,
        )?
        .collect::<rusqlite::Result<_>>()?;
    Ok(items)
}

/// Unread counts from what the user sees, so the badge always agrees with the list.
pub(crate) fn counts(conn: &Connection) -> Result<Counts> {
    let (personal, broadcast): (i64, i64) = conn
        .prepare_cached(
            "SELECT coalesce(sum(kind = 'personal'), 0), coalesce(sum(kind = 'broadcast'), 0)
             FROM notifications WHERE read = 0 AND hidden = 0",
        )?
        .query_row([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    let chats: i64 = conn
        .prepare_cached("SELECT coalesce(sum(unread_count), 0) FROM conversations")?
        .query_row([], |r| r.get(0))?;
    Ok(Counts::new(personal, broadcast, chats))
}

/// The newest id the user can see, which "mark all read" covers.
pub(crate) fn newest_id(conn: &Connection) -> Result<Option<NotificationId>> {
    Ok(conn
        .prepare_cached("SELECT max(id) FROM notifications WHERE hidden = 0")?
        .query_row([], |r| r.get(0))?)
}

fn exists(conn: &Connection, id: NotificationId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM notifications WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Inserts a row the server told us about (both layers start at the server's state).
fn insert(conn: &Connection, n: &Notification) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO notifications
            (id, kind, category, title, content, link, priority, desktop, sender, created_at,
             server_read, read, hidden)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11, 0)",
    )?
    .execute((
        n.id,
        n.kind.as_str(),
        &n.category,
        &n.title,
        &n.content,
        &n.link,
        n.priority,
        n.desktop,
        &n.sender,
        to_millis(n.created_at),
        n.read,
    ))?;
    Ok(())
}

fn set_server_read(conn: &Connection, ids: &[NotificationId], read: bool) -> Result<()> {
    let mut update = conn.prepare_cached(
        "UPDATE notifications SET server_read = ?2 WHERE id = ?1 AND server_read != ?2",
    )?;
    for &id in ids {
        update.execute((id, read))?;
    }
    Ok(())
}

fn remove(conn: &Connection, tracker: &mut Tracker, id: NotificationId) -> Result<()> {
    tracker.touch(conn, id)?;
    conn.prepare_cached("DELETE FROM notifications WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Applies one server event to the server layer. Idempotent: every event either
/// sets a value (read, unread, deleted) or inserts what is missing, so applying
/// it twice, or on top of a reload that already contains it, changes nothing.
/// Call [`super::rebase`] before the transaction ends.
pub(crate) fn apply_event(conn: &Connection, event: &Event, tracker: &mut Tracker) -> Result<()> {
    match event {
        Event::NotificationCreated { notification } => {
            // Already here (replay overlap, or a reload that saw it): what we hold
            // is at least as new as the creation.
            if !exists(conn, notification.id)? {
                tracker.touch(conn, notification.id)?;
                insert(conn, notification)?;
            }
        }
        Event::NotificationsRead { ids } => set_server_read(conn, ids, true)?,
        Event::NotificationsUnread { ids } => set_server_read(conn, ids, false)?,
        Event::AllRead { kind, up_to } => set_server_read_upto(conn, *kind, *up_to, true)?,
        Event::AllUnread { kind, up_to } => set_server_read_upto(conn, *kind, *up_to, false)?,
        Event::NotificationsDeleted { ids } => {
            for &id in ids {
                remove(conn, tracker, id)?;
            }
        }
        // Chat events are applied by the chat tables.
        Event::MessageCreated { .. }
        | Event::MessagesDeleted { .. }
        | Event::ConversationRead { .. }
        | Event::RoomUpdated { .. }
        | Event::RoomMemberAdded { .. }
        | Event::RoomMemberRemoved { .. }
        | Event::RoomLeft { .. } => {}
    }
    Ok(())
}

fn set_server_read_upto(
    conn: &Connection,
    kind: KindFilter,
    up_to: NotificationId,
    read: bool,
) -> Result<()> {
    conn.prepare_cached(
        "UPDATE notifications SET server_read = ?3
         WHERE id <= ?1 AND (?2 IS NULL OR kind = ?2) AND server_read != ?3",
    )?
    .execute((up_to, kind_value(kind), read))?;
    Ok(())
}

/// Makes the server layer equal to a full listing from the server, in place:
/// rows the server no longer lists go, new ones come, read states follow. Rows
/// that did not change produce no events, so a reload does not make a window
/// flicker. Call [`super::rebase`] before the transaction ends.
pub(crate) fn replace_all(
    conn: &Connection,
    items: &[Notification],
    tracker: &mut Tracker,
) -> Result<()> {
    let listed: HashSet<NotificationId> = items.iter().map(|n| n.id).collect();
    let held: Vec<NotificationId> = conn
        .prepare_cached("SELECT id FROM notifications")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in held.into_iter().filter(|id| !listed.contains(id)) {
        remove(conn, tracker, id)?;
    }
    for n in items {
        if exists(conn, n.id)? {
            set_server_read(conn, &[n.id], n.read)?;
        } else {
            tracker.touch(conn, n.id)?;
            insert(conn, n)?;
        }
    }
    Ok(())
}

/// Server-side truth learned from a refused request: these ids are not (or no
/// longer) the user's.
pub(crate) fn forget(
    conn: &Connection,
    ids: &[NotificationId],
    tracker: &mut Tracker,
) -> Result<()> {
    for &id in ids {
        remove(conn, tracker, id)?;
    }
    Ok(())
}

/// Applies one local action to the user's layer (optimistically).
pub(crate) fn apply_local(conn: &Connection, action: &Action, tracker: &mut Tracker) -> Result<()> {
    match action {
        Action::MarkRead { ids } => set_read(conn, tracker, ids, true),
        Action::MarkUnread { ids } => set_read(conn, tracker, ids, false),
        Action::MarkAllRead { kind, up_to } => {
            let ids: Vec<NotificationId> = conn
                .prepare_cached(
                    "SELECT id FROM notifications
                     WHERE id <= ?1 AND (?2 IS NULL OR kind = ?2) AND read = 0",
                )?
                .query_map((up_to, kind_value(*kind)), |r| r.get(0))?
                .collect::<rusqlite::Result<_>>()?;
            set_read(conn, tracker, &ids, true)
        }
        Action::Delete { ids } => {
            let mut hide = conn.prepare_cached(
                "UPDATE notifications SET hidden = 1 WHERE id = ?1 AND hidden = 0",
            )?;
            for &id in ids {
                tracker.touch(conn, id)?;
                hide.execute([id])?;
            }
            Ok(())
        }
        // Chat actions: see `chat::apply_local`.
        Action::SendMessage { .. }
        | Action::ReadConversation { .. }
        | Action::DeleteMessages { .. } => Ok(()),
    }
}

fn set_read(
    conn: &Connection,
    tracker: &mut Tracker,
    ids: &[NotificationId],
    read: bool,
) -> Result<()> {
    let mut update =
        conn.prepare_cached("UPDATE notifications SET read = ?2 WHERE id = ?1 AND read != ?2")?;
    for &id in ids {
        tracker.touch(conn, id)?;
        update.execute((id, read))?;
    }
    Ok(())
}

/// Resets the user's layer to the server's state; [`super::rebase`] then
/// applies the outbox on top. Cheap: it touches only rows where the layers differ.
pub(crate) fn reset_overlay(conn: &Connection, tracker: &mut Tracker) -> Result<()> {
    let drifted: Vec<NotificationId> = conn
        .prepare_cached("SELECT id FROM notifications WHERE read != server_read OR hidden != 0")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for &id in &drifted {
        tracker.touch(conn, id)?;
    }
    conn.prepare_cached(
        "UPDATE notifications SET read = server_read, hidden = 0
         WHERE read != server_read OR hidden != 0",
    )?
    .execute([])?;
    Ok(())
}

/// Drops notifications created before `before`, as the server's retention does.
pub(crate) fn purge(
    conn: &Connection,
    before: OffsetDateTime,
    tracker: &mut Tracker,
) -> Result<usize> {
    let old: Vec<NotificationId> = conn
        .prepare_cached("SELECT id FROM notifications WHERE created_at < ?1")?
        .query_map([to_millis(before)], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for &id in &old {
        remove(conn, tracker, id)?;
    }
    Ok(old.len())
}
