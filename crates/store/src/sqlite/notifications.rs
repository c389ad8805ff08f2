//! Personal and broadcast notifications and each user's state of them.

use herald_protocol::{
    Counts, Cursor, Event, KindFilter, Notification, NotificationId, NotificationKind, Page,
    StatusFilter, UserId,
};
use rusqlite::{Connection, OptionalExtension};

use super::rows::{emit, from_millis, now_millis, to_millis};
use crate::{
    unique_ids, Audience, Error, Inserted, ListFilter, MarkTarget, NewNotification, Result,
    StoredEvent,
};

pub(super) fn insert(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    new: &NewNotification,
) -> Result<Inserted> {
    let recipients = match &new.audience {
        Audience::Users(names) => Some(super::users::active_ids(conn, names)?),
        Audience::Broadcast => None,
    };
    let kind = match recipients {
        Some(_) => NotificationKind::Personal,
        None => NotificationKind::Broadcast,
    };
    let created_at = now_millis();
    conn.prepare_cached(
        "INSERT INTO notifications
            (kind, category, title, content, link, priority, desktop, sender_id, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
    )?
    .execute((
        kind.as_str(),
        &new.category,
        &new.title,
        &new.content,
        &new.link,
        new.priority,
        new.desktop,
        new.sender.as_ref().map(|(id, _)| *id),
        created_at,
    ))?;
    let notification = Notification {
        id: conn.last_insert_rowid(),
        kind,
        category: new.category.clone(),
        title: new.title.clone(),
        content: new.content.clone(),
        link: new.link.clone(),
        priority: new.priority,
        desktop: new.desktop,
        sender: new.sender.as_ref().map(|(_, name)| name.clone()),
        created_at: from_millis(created_at),
        read: false,
    };
    let count = match recipients {
        Some(user_ids) => {
            let mut add = conn.prepare_cached(
                "INSERT INTO recipients (user_id, notification_id) VALUES (?1, ?2)",
            )?;
            for &user_id in &user_ids {
                add.execute((user_id, notification.id))?;
                let event = Event::NotificationCreated {
                    notification: notification.clone(),
                };
                emit(conn, events, Some(user_id), event)?;
            }
            user_ids.len() as i64
        }
        None => {
            let event = Event::NotificationCreated {
                notification: notification.clone(),
            };
            emit(conn, events, None, event)?;
            conn.query_row("SELECT count(*) FROM users WHERE disabled = 0", [], |r| {
                r.get(0)
            })?
        }
    };
    Ok(Inserted {
        notification,
        recipients: count,
    })
}

const NOTIFICATION_COLUMNS: &str =
    "n.id AS id, n.kind, n.category, n.title, n.content, n.link, n.priority, n.desktop, s.username, n.created_at";

/// The read state of a broadcast for a user: an explicit row, else the watermark.
const BROADCAST_READ: &str = "coalesce(b.read, n.id <= ?6)";

pub(super) fn list(
    conn: &Connection,
    user_id: UserId,
    filter: &ListFilter,
) -> Result<Page<Notification>> {
    // Parameters: ?1 user, ?2 before id, ?3 since, ?4 read flag, ?5 category,
    // ?6 broadcast watermark, ?7 limit. Unused ones are bound and ignored.
    let status = match filter.status {
        StatusFilter::Unread => Some(0),
        StatusFilter::Read => Some(1),
        StatusFilter::All => None,
    };
    let mut conditions = String::from(" AND n.id < ?2 AND n.created_at >= ?3");
    if filter.category.is_some() {
        conditions.push_str(" AND n.category = ?5");
    }
    let mut parts = Vec::new();
    if filter.kind.includes(NotificationKind::Personal) {
        let read = if status.is_some() {
            " AND r.read = ?4"
        } else {
            ""
        };
        parts.push(format!(
            "SELECT {NOTIFICATION_COLUMNS}, r.read AS read
             FROM recipients r
             JOIN notifications n ON n.id = r.notification_id
             LEFT JOIN users s ON s.id = n.sender_id
             WHERE r.user_id = ?1{conditions}{read}"
        ));
    }
    if filter.kind.includes(NotificationKind::Broadcast) {
        let read = if status.is_some() {
            format!(" AND {BROADCAST_READ} = ?4")
        } else {
            String::new()
        };
        parts.push(format!(
            "SELECT {NOTIFICATION_COLUMNS}, {BROADCAST_READ} AS read
             FROM notifications n
             LEFT JOIN broadcast_state b ON b.user_id = ?1 AND b.notification_id = n.id
             LEFT JOIN users s ON s.id = n.sender_id
             WHERE n.kind = 'broadcast' AND coalesce(b.deleted, 0) = 0{conditions}{read}"
        ));
    }
    let sql = format!("{} ORDER BY id DESC LIMIT ?7", parts.join(" UNION ALL "));
    let upto = broadcast_watermark(conn, user_id)?;
    let mut stmt = conn.prepare_cached(&sql)?;
    let items: Vec<Notification> = stmt
        .query_map(
            (
                user_id,
                filter.before_id.unwrap_or(i64::MAX),
                to_millis(filter.since),
                status.unwrap_or(0),
                &filter.category,
                upto,
                filter.limit,
            ),
            |row| {
                let kind: String = row.get(1)?;
                Ok(Notification {
                    id: row.get(0)?,
                    kind: NotificationKind::parse(&kind).unwrap_or(NotificationKind::Personal),
                    category: row.get(2)?,
                    title: row.get(3)?,
                    content: row.get(4)?,
                    link: row.get(5)?,
                    priority: row.get(6)?,
                    desktop: row.get(7)?,
                    sender: row.get(8)?,
                    created_at: from_millis(row.get(9)?),
                    read: row.get(10)?,
                })
            },
        )?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = match items.last() {
        Some(last) if items.len() as u32 == filter.limit => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

fn broadcast_watermark(conn: &Connection, user_id: UserId) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT broadcast_read_upto FROM users WHERE id = ?1")?
        .query_row([user_id], |r| r.get(0))
        .optional()?
        .unwrap_or(0))
}

pub(super) fn counts(conn: &Connection, user_id: UserId) -> Result<(Counts, Cursor)> {
    // One read transaction, so the counts are exact at the returned cursor.
    let tx = conn.unchecked_transaction()?;
    let (personal, broadcast) = unread_counts(&tx, user_id)?;
    let chats = super::chat::unread_total(&tx, user_id)?;
    let head = super::events::head(&tx)?;
    tx.commit()?;
    Ok((Counts::new(personal, broadcast, chats), head))
}

fn unread_counts(conn: &Connection, user_id: UserId) -> Result<(i64, i64)> {
    let upto = broadcast_watermark(conn, user_id)?;
    let row = conn
        .prepare_cached(
            "SELECT
               (SELECT count(*) FROM recipients WHERE user_id = ?1 AND read = 0),
               (SELECT count(*) FROM notifications n
                 WHERE n.kind = 'broadcast' AND n.id > ?2
                   AND NOT EXISTS (SELECT 1 FROM broadcast_state b
                                   WHERE b.user_id = ?1 AND b.notification_id = n.id
                                     AND (b.read = 1 OR b.deleted = 1)))
             + (SELECT count(*) FROM broadcast_state
                 WHERE user_id = ?1 AND notification_id <= ?2 AND read = 0 AND deleted = 0)",
        )?
        .query_row((user_id, upto), |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(row)
}

/// How one visible notification stands for a user.
struct Visible {
    id: NotificationId,
    kind: NotificationKind,
    read: bool,
}

/// Every id must be visible to the user; otherwise the whole request is refused,
/// so another user's ids reveal nothing and change nothing.
fn visible(conn: &Connection, user_id: UserId, ids: &[NotificationId]) -> Result<Vec<Visible>> {
    let upto = broadcast_watermark(conn, user_id)?;
    let mut personal = conn.prepare_cached(
        "SELECT read FROM recipients WHERE user_id = ?1 AND notification_id = ?2",
    )?;
    let mut broadcast = conn.prepare_cached(
        "SELECT coalesce(b.read, n.id <= ?3)
         FROM notifications n
         LEFT JOIN broadcast_state b ON b.user_id = ?1 AND b.notification_id = n.id
         WHERE n.id = ?2 AND n.kind = 'broadcast' AND coalesce(b.deleted, 0) = 0",
    )?;
    let mut found = Vec::with_capacity(ids.len());
    for id in unique_ids(ids) {
        if let Some(read) = personal.query_row((user_id, id), |r| r.get(0)).optional()? {
            found.push(Visible {
                id,
                kind: NotificationKind::Personal,
                read,
            });
        } else if let Some(read) = broadcast
            .query_row((user_id, id, upto), |r| r.get(0))
            .optional()?
        {
            found.push(Visible {
                id,
                kind: NotificationKind::Broadcast,
                read,
            });
        } else {
            return Err(Error::NotFound(format!("notification {id}")));
        }
    }
    Ok(found)
}

pub(super) fn mark(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    target: &MarkTarget,
    read: bool,
) -> Result<i64> {
    match target {
        MarkTarget::Ids(ids) => mark_ids(conn, events, user_id, ids, read),
        MarkTarget::All(kind) => mark_all(conn, events, user_id, *kind, read),
    }
}

fn mark_ids(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    ids: &[NotificationId],
    read: bool,
) -> Result<i64> {
    let mut changed = Vec::new();
    for item in visible(conn, user_id, ids)? {
        if item.read == read {
            continue;
        }
        match item.kind {
            NotificationKind::Personal => {
                conn.prepare_cached(
                    "UPDATE recipients SET read = ?3 WHERE user_id = ?1 AND notification_id = ?2",
                )?
                .execute((user_id, item.id, read))?;
            }
            NotificationKind::Broadcast => {
                conn.prepare_cached(
                    "INSERT INTO broadcast_state (user_id, notification_id, read) VALUES (?1, ?2, ?3)
                     ON CONFLICT (user_id, notification_id) DO UPDATE SET read = excluded.read",
                )?
                .execute((user_id, item.id, read))?;
            }
        }
        changed.push(item.id);
    }
    let count = changed.len() as i64;
    if !changed.is_empty() {
        let event = if read {
            Event::NotificationsRead { ids: changed }
        } else {
            Event::NotificationsUnread { ids: changed }
        };
        emit(conn, events, Some(user_id), event)?;
    }
    Ok(count)
}

fn mark_all(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    kind: KindFilter,
    read: bool,
) -> Result<i64> {
    let mut changed = 0;
    if kind.includes(NotificationKind::Personal) {
        changed += conn
            .prepare_cached("UPDATE recipients SET read = ?2 WHERE user_id = ?1 AND read != ?2")?
            .execute((user_id, read))? as i64;
    }
    if kind.includes(NotificationKind::Broadcast) {
        let (_, unread_before) = unread_counts(conn, user_id)?;
        let newest: i64 = conn.query_row(
            "SELECT coalesce(max(id), 0) FROM notifications WHERE kind = 'broadcast'",
            [],
            |r| r.get(0),
        )?;
        // Moving the watermark and clearing this user's exceptions costs O(their
        // exceptions), never O(broadcasts) or O(users).
        conn.prepare_cached("UPDATE users SET broadcast_read_upto = ?2 WHERE id = ?1")?
            .execute((user_id, if read { newest } else { 0 }))?;
        conn.prepare_cached(
            "UPDATE broadcast_state SET read = ?2 WHERE user_id = ?1 AND read != ?2",
        )?
        .execute((user_id, read))?;
        changed += if read {
            unread_before
        } else {
            // Only the rare "mark all unread" counts every visible broadcast.
            let visible: i64 = conn.query_row(
                "SELECT count(*) FROM notifications n
                 WHERE n.kind = 'broadcast' AND NOT EXISTS (SELECT 1 FROM broadcast_state b
                       WHERE b.user_id = ?1 AND b.notification_id = n.id AND b.deleted = 1)",
                [user_id],
                |r| r.get(0),
            )?;
            visible - unread_before
        };
    }
    if changed > 0 {
        let up_to: i64 =
            conn.query_row("SELECT coalesce(max(id), 0) FROM notifications", [], |r| {
                r.get(0)
            })?;
        let event = if read {
            Event::AllRead { kind, up_to }
        } else {
            Event::AllUnread { kind, up_to }
        };
        emit(conn, events, Some(user_id), event)?;
    }
    Ok(changed)
}

pub(super) fn delete(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    ids: &[NotificationId],
) -> Result<i64> {
    let items = visible(conn, user_id, ids)?;
    for item in &items {
        match item.kind {
            NotificationKind::Personal => {
                conn.prepare_cached(
                    "DELETE FROM recipients WHERE user_id = ?1 AND notification_id = ?2",
                )?
                .execute((user_id, item.id))?;
            }
            NotificationKind::Broadcast => {
                conn.prepare_cached(
                    "INSERT INTO broadcast_state (user_id, notification_id, read, deleted)
                     VALUES (?1, ?2, ?3, 1)
                     ON CONFLICT (user_id, notification_id) DO UPDATE SET deleted = 1",
                )?
                .execute((user_id, item.id, item.read))?;
            }
        }
    }
    let ids: Vec<NotificationId> = items.iter().map(|item| item.id).collect();
    let count = ids.len() as i64;
    if !ids.is_empty() {
        emit(
            conn,
            events,
            Some(user_id),
            Event::NotificationsDeleted { ids },
        )?;
    }
    Ok(count)
}
