//! Personal and broadcast notifications and each user's state of them.
//!
//! A broadcast is one row for everyone; a user's read and deleted state of it is
//! a watermark (`users.broadcast_read_upto`) plus exception rows
//! (`broadcast_state`), so "mark all read" never costs a row per broadcast or
//! per user. A personal notification has one `recipients` row per recipient.

use herald_protocol::stored::{from_millis, to_millis};
use herald_protocol::{
    Counts, Cursor, Event, KindFilter, Notification, NotificationId, NotificationKind, Page,
    StatusFilter, UserId,
};

use crate::db::{Db, Ids, ListSql, Param};
use crate::rows::{notification_columns, now_millis};
use crate::{
    chat, events, names, rules, stream, unique_ids, Audience, Inserted, ListFilter, MarkTarget,
    NewNotification, Result, StoredEvent,
};

/// Stores a notification for its audience: one row, a `recipients` row and an
/// event per personal recipient, or one event for everyone.
pub(crate) async fn insert<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    new: &NewNotification,
) -> Result<Inserted> {
    let recipients = match &new.audience {
        Audience::Users(names) => Some(names::active_ids(db, names).await?),
        Audience::Broadcast => None,
    };
    let kind = match recipients {
        Some(_) => NotificationKind::Personal,
        None => NotificationKind::Broadcast,
    };
    let created_at = now_millis();
    let priority = i16::from(new.priority);
    let sender = new.sender.as_ref().map(|(id, _)| *id);
    let params: [&dyn Param; 9] = [
        &kind.as_str(),
        &new.category,
        &new.title,
        &new.content,
        &new.link,
        &priority,
        &new.desktop,
        &sender,
        &created_at,
    ];
    let id = db
        .insert_one(
            "INSERT INTO notifications
                (kind, category, title, content, link, priority, desktop, sender_id, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            "id",
            &params,
        )
        .await?;
    let notification = as_stored(new, id, kind, created_at);
    let created = Event::NotificationCreated {
        notification: notification.clone(),
    };
    let recipients = match recipients {
        Some(users) => {
            for user in &users {
                db.execute(
                    "INSERT INTO recipients (user_id, notification_id) VALUES ($1, $2)",
                    &[user, &id],
                )
                .await?;
            }
            stream::emit_to(db, events, &users, created).await?;
            users.len() as i64
        }
        None => {
            stream::emit(db, events, None, created).await?;
            db.query_one(
                "SELECT count(*) FROM users WHERE NOT disabled",
                &[],
                |row| row.get(0),
            )
            .await?
        }
    };
    Ok(Inserted {
        notification,
        recipients,
    })
}

/// The notification `new` becomes once stored as `id`, unread.
pub(crate) fn as_stored(
    new: &NewNotification,
    id: NotificationId,
    kind: NotificationKind,
    created_at: i64,
) -> Notification {
    Notification {
        id,
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
    }
}

/// The read state of a broadcast for a user: an explicit row, else the watermark.
const BROADCAST_READ: &str = "coalesce(b.read, n.id <= $6)";

pub(crate) async fn list(
    db: &impl Db,
    user_id: UserId,
    filter: &ListFilter,
) -> Result<Page<Notification>> {
    // Parameters: $1 user, $2 before id, $3 since, $4 read flag, $5 category,
    // $6 broadcast watermark, $7 limit. Unused ones are bound and ignored.
    let status = match filter.status {
        StatusFilter::Unread => Some(false),
        StatusFilter::Read => Some(true),
        StatusFilter::All => None,
    };
    let mut conditions = String::from(" AND n.id < $2 AND n.created_at >= $3");
    if filter.category.is_some() {
        conditions.push_str(" AND n.category = $5");
    }
    let mut parts = Vec::new();
    if filter.kind.includes(NotificationKind::Personal) {
        let read = if status.is_some() {
            " AND r.read = $4"
        } else {
            ""
        };
        parts.push(format!(
            "SELECT {}, r.read AS read
             FROM recipients r
             JOIN notifications n ON n.id = r.notification_id
             LEFT JOIN users s ON s.id = n.sender_id
             WHERE r.user_id = $1{conditions}{read}",
            notification_columns!()
        ));
    }
    if filter.kind.includes(NotificationKind::Broadcast) {
        let read = if status.is_some() {
            format!(" AND {BROADCAST_READ} = $4")
        } else {
            String::new()
        };
        parts.push(format!(
            "SELECT {}, {BROADCAST_READ} AS read
             FROM notifications n
             LEFT JOIN broadcast_state b ON b.user_id = $1 AND b.notification_id = n.id
             LEFT JOIN users s ON s.id = n.sender_id
             WHERE n.kind = 'broadcast' AND NOT coalesce(b.deleted, FALSE){conditions}{read}",
            notification_columns!()
        ));
    }
    let sql = format!("{} ORDER BY id DESC LIMIT $7", parts.join(" UNION ALL "));
    let upto = broadcast_watermark(db, user_id).await?;
    let params: [&dyn Param; 7] = [
        &user_id,
        &filter.before_id.unwrap_or(i64::MAX),
        &to_millis(filter.since),
        &status.unwrap_or(false),
        &filter.category,
        &upto,
        &i64::from(filter.limit),
    ];
    let items = db
        .query(&sql, &params, |row| Notification::from_row(row, 0))
        .await?;
    let next_cursor = match items.last() {
        Some(last) if items.len() as u32 == filter.limit => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

async fn broadcast_watermark(db: &impl Db, user_id: UserId) -> Result<i64> {
    let upto = db
        .query_opt(
            "SELECT broadcast_read_upto FROM users WHERE id = $1",
            &[&user_id],
            |row| row.get(0),
        )
        .await?;
    Ok(upto.unwrap_or(0))
}

/// Run in one snapshot, so the counts are exact at the returned cursor.
pub(crate) async fn counts<D: Db>(db: &D, user_id: UserId) -> Result<(Counts, Cursor)> {
    let (personal, broadcast) = unread_counts(db, user_id).await?;
    let chats = chat::members::unread_total(db, user_id).await?;
    let head = events::head(db).await?;
    Ok((Counts::new(personal, broadcast, chats), head))
}

/// Unread personal notifications, and broadcasts: those above the watermark
/// the user has neither read nor deleted, plus exceptions below it.
pub(crate) const UNREAD_COUNTS: &str = "SELECT
       (SELECT count(*) FROM recipients WHERE user_id = $1 AND read = FALSE),
       (SELECT count(*) FROM notifications n
         WHERE n.kind = 'broadcast' AND n.id > $2
           AND NOT EXISTS (SELECT 1 FROM broadcast_state b
                           WHERE b.user_id = $1 AND b.notification_id = n.id
                             AND (b.read OR b.deleted)))
     + (SELECT count(*) FROM broadcast_state
         WHERE user_id = $1 AND notification_id <= $2 AND read = FALSE AND NOT deleted)";

async fn unread_counts(db: &impl Db, user_id: UserId) -> Result<(i64, i64)> {
    let upto = broadcast_watermark(db, user_id).await?;
    db.query_one(UNREAD_COUNTS, &[&user_id, &upto], |row| {
        Ok((row.get(0)?, row.get(1)?))
    })
    .await
}

/// How one visible notification stands for a user.
struct Visible {
    id: NotificationId,
    kind: NotificationKind,
    read: bool,
}

/// Every id must be visible to the user; otherwise the whole request is refused,
/// so another user's ids reveal nothing and change nothing. One query for all.
async fn visible<D: Db>(db: &D, user_id: UserId, ids: &[NotificationId]) -> Result<Vec<Visible>> {
    // Per id: the personal read flag if it is one of the user's, else the read
    // state of a broadcast they have not deleted.
    static VISIBLE: ListSql = ListSql::new(
        "SELECT i.value, r.read,
                CASE WHEN n.id IS NOT NULL AND NOT coalesce(b.deleted, FALSE)
                     THEN coalesce(b.read, n.id <= $3) END
         FROM {list $2 AS i}
         LEFT JOIN recipients r ON r.user_id = $1 AND r.notification_id = i.value
         LEFT JOIN notifications n ON n.id = i.value AND n.kind = 'broadcast'
         LEFT JOIN broadcast_state b ON b.user_id = $1 AND b.notification_id = n.id
         ORDER BY i.value",
    );
    let upto = broadcast_watermark(db, user_id).await?;
    let ids = unique_ids(ids);
    db.query(VISIBLE.text::<D>(), &[&user_id, &Ids(&ids), &upto], |row| {
        let id = row.get(0)?;
        let (kind, read) = rules::notification_standing(id, row.get(1)?, row.get(2)?)?;
        Ok(Visible { id, kind, read })
    })
    .await
}

pub(crate) async fn mark<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    target: &MarkTarget,
    read: bool,
) -> Result<i64> {
    match target {
        MarkTarget::Ids(ids) => mark_ids(db, events, user_id, ids, read).await,
        MarkTarget::All(kind) => mark_all(db, events, user_id, *kind, read).await,
    }
}

/// The ids of `items` of `kind`.
fn ids_of<'a>(
    items: impl IntoIterator<Item = &'a Visible>,
    kind: NotificationKind,
) -> Vec<NotificationId> {
    items
        .into_iter()
        .filter(|item| item.kind == kind)
        .map(|item| item.id)
        .collect()
}

async fn mark_ids<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    ids: &[NotificationId],
    read: bool,
) -> Result<i64> {
    let mut changed = visible(db, user_id, ids).await?;
    changed.retain(|item| item.read != read);
    static MARK_PERSONAL: ListSql = ListSql::new(
        "UPDATE recipients SET read = $3
         WHERE user_id = $1 AND notification_id IN (SELECT i.value FROM {list $2 AS i})",
    );
    // (`WHERE TRUE` tells SQLite's parser that ON CONFLICT is not a join's ON.)
    static MARK_BROADCASTS: ListSql = ListSql::new(
        "INSERT INTO broadcast_state (user_id, notification_id, read)
         SELECT $1, i.value, $3 FROM {list $2 AS i} WHERE TRUE
         ON CONFLICT (user_id, notification_id) DO UPDATE SET read = excluded.read",
    );
    let personal = ids_of(&changed, NotificationKind::Personal);
    if !personal.is_empty() {
        let params: [&dyn Param; 3] = [&user_id, &Ids(&personal), &read];
        db.execute(MARK_PERSONAL.text::<D>(), &params).await?;
    }
    let broadcast = ids_of(&changed, NotificationKind::Broadcast);
    if !broadcast.is_empty() {
        let params: [&dyn Param; 3] = [&user_id, &Ids(&broadcast), &read];
        db.execute(MARK_BROADCASTS.text::<D>(), &params).await?;
    }
    let changed: Vec<NotificationId> = changed.iter().map(|item| item.id).collect();
    let count = changed.len() as i64;
    if !changed.is_empty() {
        let event = if read {
            Event::NotificationsRead { ids: changed }
        } else {
            Event::NotificationsUnread { ids: changed }
        };
        stream::emit(db, events, Some(user_id), event).await?;
    }
    Ok(count)
}

async fn mark_all(
    db: &impl Db,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    kind: KindFilter,
    read: bool,
) -> Result<i64> {
    let mut changed = 0;
    if kind.includes(NotificationKind::Personal) {
        changed += db
            .execute(
                "UPDATE recipients SET read = $2 WHERE user_id = $1 AND read <> $2",
                &[&user_id, &read],
            )
            .await? as i64;
    }
    if kind.includes(NotificationKind::Broadcast) {
        let (_, unread_before) = unread_counts(db, user_id).await?;
        // Moving the watermark and clearing this user's exceptions costs O(their
        // exceptions), never O(broadcasts) or O(users).
        db.execute(
            "UPDATE users SET broadcast_read_upto = CASE WHEN $2 THEN
                 (SELECT coalesce(max(id), 0) FROM notifications WHERE kind = 'broadcast')
               ELSE 0 END
             WHERE id = $1",
            &[&user_id, &read],
        )
        .await?;
        db.execute(
            "UPDATE broadcast_state SET read = $2 WHERE user_id = $1 AND read <> $2",
            &[&user_id, &read],
        )
        .await?;
        changed += if read {
            unread_before
        } else {
            // Only the rare "mark all unread" counts every visible broadcast.
            let visible: i64 = db
                .query_one(
                    "SELECT count(*) FROM notifications n
                     WHERE n.kind = 'broadcast' AND NOT EXISTS (SELECT 1 FROM broadcast_state b
                           WHERE b.user_id = $1 AND b.notification_id = n.id AND b.deleted)",
                    &[&user_id],
                    |row| row.get(0),
                )
                .await?;
            visible - unread_before
        };
    }
    if changed > 0 {
        let up_to: i64 = db
            .query_one(
                "SELECT coalesce(max(id), 0) FROM notifications",
                &[],
                |row| row.get(0),
            )
            .await?;
        let event = if read {
            Event::AllRead { kind, up_to }
        } else {
            Event::AllUnread { kind, up_to }
        };
        stream::emit(db, events, Some(user_id), event).await?;
    }
    Ok(changed)
}

pub(crate) async fn delete<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    ids: &[NotificationId],
) -> Result<i64> {
    static DELETE_PERSONAL: ListSql = ListSql::new(
        "DELETE FROM recipients
         WHERE user_id = $1 AND notification_id IN (SELECT i.value FROM {list $2 AS i})",
    );
    static HIDE_BROADCASTS: ListSql = ListSql::new(
        "INSERT INTO broadcast_state (user_id, notification_id, read, deleted)
         SELECT $1, i.value, $3, TRUE FROM {list $2 AS i} WHERE TRUE
         ON CONFLICT (user_id, notification_id) DO UPDATE SET deleted = TRUE",
    );
    let items = visible(db, user_id, ids).await?;
    let personal = ids_of(&items, NotificationKind::Personal);
    if !personal.is_empty() {
        let params: [&dyn Param; 2] = [&user_id, &Ids(&personal)];
        db.execute(DELETE_PERSONAL.text::<D>(), &params).await?;
    }
    // A broadcast's deletion keeps the read state it had, so the exception row
    // (new or not) says both.
    for read in [false, true] {
        let broadcast = ids_of(
            items.iter().filter(|item| item.read == read),
            NotificationKind::Broadcast,
        );
        if !broadcast.is_empty() {
            let params: [&dyn Param; 3] = [&user_id, &Ids(&broadcast), &read];
            db.execute(HIDE_BROADCASTS.text::<D>(), &params).await?;
        }
    }
    let ids: Vec<NotificationId> = items.iter().map(|item| item.id).collect();
    let count = ids.len() as i64;
    if !ids.is_empty() {
        let event = Event::NotificationsDeleted { ids };
        stream::emit(db, events, Some(user_id), event).await?;
    }
    Ok(count)
}
