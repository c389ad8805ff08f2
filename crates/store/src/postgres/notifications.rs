//! Personal and broadcast notifications and each user's state of them.

use std::collections::HashMap;

use deadpool_postgres::{GenericClient, Transaction};
use herald_protocol::{
    Counts, Cursor, Event, KindFilter, Notification, NotificationId, NotificationKind, Page,
    StatusFilter, UserId,
};
use tokio_postgres::types::Type;

use super::rows::{collect, emit, from_millis, now_millis, to_millis};
use crate::{
    unique_ids, Audience, Error, Inserted, ListFilter, MarkTarget, NewNotification, Result,
    StoredEvent,
};

/// Inserts a broadcast: one row for everyone, one event with no user.
pub(super) async fn insert_broadcast(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    new: &NewNotification,
) -> Result<Inserted> {
    let created_at = now_millis();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO notifications
                (kind, category, title, content, link, priority, desktop, sender_id, created_at)
             VALUES ('broadcast', $1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .await?;
    let priority = i16::from(new.priority);
    let sender_id = new.sender.as_ref().map(|(id, _)| *id);
    let params: [&(dyn tokio_postgres::types::ToSql + Sync); 8] = [
        &new.category,
        &new.title,
        &new.content,
        &new.link,
        &priority,
        &new.desktop,
        &sender_id,
        &created_at,
    ];
    let row = tx.query_one(&stmt, &params).await?;
    let notification = as_stored(
        new,
        row.try_get(0)?,
        NotificationKind::Broadcast,
        created_at,
    );
    emit(
        tx,
        events,
        None,
        Event::NotificationCreated {
            notification: notification.clone(),
        },
    )
    .await?;
    let stmt = tx
        .prepare_cached("SELECT count(*) FROM users WHERE NOT disabled")
        .await?;
    let recipients = tx.query_one(&stmt, &[]).await?.try_get(0)?;
    Ok(Inserted {
        notification,
        recipients,
    })
}

/// Inserts a batch of personal notifications with a few multi-row statements
/// instead of several statements each: the writer is serialized cluster-wide,
/// so statements per request bound the whole cluster's send rate. Each request
/// is answered on its own: one naming an unknown user gets that error and
/// writes nothing; the others go in, in the order given.
pub(super) async fn insert_personal(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    batch: &[NewNotification],
) -> Result<Vec<Result<Inserted>>> {
    let mut names: Vec<&str> = batch
        .iter()
        .flat_map(|new| recipient_names(new).iter().map(String::as_str))
        .collect();
    names.sort_unstable();
    names.dedup();
    // Ids are drawn before the rows are written, so each row's id is known
    // without relying on the order of a RETURNING list. One per request; an
    // unused one is a gap, as a rolled-back insert leaves.
    let (users, ids) = tokio::try_join!(
        async {
            let stmt = tx
                .prepare_cached(
                    "SELECT username, id FROM users WHERE username = ANY($1) AND NOT disabled",
                )
                .await?;
            Ok::<_, Error>(tx.query(&stmt, &[&names]).await?)
        },
        next_values(tx, "notifications", "id", batch.len()),
    )?;
    let users: HashMap<String, UserId> = users
        .iter()
        .map(|row| Ok((row.try_get(0)?, row.try_get(1)?)))
        .collect::<Result<_>>()?;

    let created_at = now_millis();
    let mut rows = NotificationRows::default();
    let mut answers = Vec::with_capacity(batch.len());
    for (new, id) in batch.iter().zip(ids) {
        let mut wanted: Vec<&String> = recipient_names(new).iter().collect();
        wanted.sort_unstable();
        wanted.dedup();
        let unknown: Vec<String> = wanted
            .iter()
            .filter(|name| !users.contains_key(name.as_str()))
            .map(|name| name.to_string())
            .collect();
        if !unknown.is_empty() {
            answers.push(Err(Error::UnknownUsers(unknown)));
            continue;
        }
        let recipients: Vec<UserId> = wanted.iter().map(|name| users[name.as_str()]).collect();
        let notification = as_stored(new, id, NotificationKind::Personal, created_at);
        rows.push(new, &notification, &recipients)?;
        answers.push(Ok(Inserted {
            notification,
            recipients: recipients.len() as i64,
        }));
    }
    if rows.ids.is_empty() {
        return Ok(answers);
    }
    let seqs = next_values(tx, "events", "seq", rows.event_users.len()).await?;
    rows.write(tx, created_at, &seqs).await?;
    let mut written: Vec<StoredEvent> = seqs
        .into_iter()
        .zip(rows.event_users)
        .zip(rows.event_values)
        .map(|((seq, user), event)| StoredEvent {
            seq,
            user_id: Some(user),
            at: from_millis(created_at),
            event,
        })
        .collect();
    written.sort_by_key(|e| e.seq);
    events.extend(written);
    Ok(answers)
}

/// The notification `new` becomes once stored as `id`, unread.
fn as_stored(
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

fn recipient_names(new: &NewNotification) -> &[String] {
    match &new.audience {
        Audience::Users(names) => names,
        Audience::Broadcast => &[],
    }
}

/// `n` fresh values of the sequence behind `table.column`.
async fn next_values(
    tx: &Transaction<'_>,
    table: &str,
    column: &str,
    n: usize,
) -> Result<Vec<i64>> {
    let stmt = tx
        .prepare_cached(
            "SELECT nextval(pg_get_serial_sequence($1, $2)) FROM generate_series(1, $3::bigint)",
        )
        .await?;
    let rows = tx.query(&stmt, &[&table, &column, &(n as i64)]).await?;
    collect(rows, |row| Ok(row.try_get(0)?))
}

/// The columns of a batch's rows, one array per column, for `unnest`.
#[derive(Default)]
struct NotificationRows {
    ids: Vec<i64>,
    categories: Vec<Option<String>>,
    titles: Vec<String>,
    contents: Vec<String>,
    links: Vec<Option<String>>,
    priorities: Vec<i16>,
    desktops: Vec<bool>,
    senders: Vec<Option<UserId>>,
    recipient_users: Vec<UserId>,
    recipient_notifications: Vec<i64>,
    event_users: Vec<UserId>,
    /// For each event, its notification's place in `payloads` (1-based, as SQL
    /// arrays are), so a payload goes over the wire once, not once per recipient.
    event_payloads: Vec<i32>,
    event_values: Vec<Event>,
    payloads: Vec<String>,
}

impl NotificationRows {
    fn push(
        &mut self,
        new: &NewNotification,
        notification: &Notification,
        recipients: &[UserId],
    ) -> Result<()> {
        self.ids.push(notification.id);
        self.categories.push(new.category.clone());
        self.titles.push(new.title.clone());
        self.contents.push(new.content.clone());
        self.links.push(new.link.clone());
        self.priorities.push(i16::from(new.priority));
        self.desktops.push(new.desktop);
        self.senders.push(new.sender.as_ref().map(|(id, _)| *id));
        let event = Event::NotificationCreated {
            notification: notification.clone(),
        };
        self.payloads
            .push(serde_json::to_string(&event).map_err(|e| Error::Corrupt(e.to_string()))?);
        let payload = self.payloads.len() as i32;
        for &user in recipients {
            self.recipient_users.push(user);
            self.recipient_notifications.push(notification.id);
            self.event_users.push(user);
            self.event_payloads.push(payload);
            self.event_values.push(event.clone());
        }
        Ok(())
    }

    /// Three statements, sent together: one round trip.
    async fn write(&self, tx: &Transaction<'_>, created_at: i64, seqs: &[i64]) -> Result<()> {
        let (notifications, recipients, events) = tokio::try_join!(
            tx.prepare_cached(
                "INSERT INTO notifications
                    (id, kind, category, title, content, link, priority, desktop, sender_id, created_at)
                 OVERRIDING SYSTEM VALUE
                 SELECT id, 'personal', category, title, content, link, priority, desktop, sender, $9
                 FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::text[],
                             $6::smallint[], $7::bool[], $8::bigint[])
                      AS t(id, category, title, content, link, priority, desktop, sender)",
            ),
            tx.prepare_cached(
                "INSERT INTO recipients (user_id, notification_id)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[])",
            ),
            tx.prepare_cached(
                "INSERT INTO events (seq, user_id, created_at, payload) OVERRIDING SYSTEM VALUE
                 SELECT seq, user_id, $3, ($5::text[])[payload]
                 FROM unnest($1::bigint[], $2::bigint[], $4::int[]) AS t(seq, user_id, payload)",
            ),
        )?;
        type Params<'p> = [&'p (dyn tokio_postgres::types::ToSql + Sync)];
        let notification_params: &Params = &[
            &self.ids,
            &self.categories,
            &self.titles,
            &self.contents,
            &self.links,
            &self.priorities,
            &self.desktops,
            &self.senders,
            &created_at,
        ];
        let recipient_params: &Params = &[&self.recipient_users, &self.recipient_notifications];
        let event_params: &Params = &[
            &seqs,
            &self.event_users,
            &created_at,
            &self.event_payloads,
            &self.payloads,
        ];
        tokio::try_join!(
            tx.execute(&notifications, notification_params),
            tx.execute(&recipients, recipient_params),
            tx.execute(&events, event_params),
        )?;
        Ok(())
    }
}

const NOTIFICATION_COLUMNS: &str =
    "n.id AS id, n.kind, n.category, n.title, n.content, n.link, n.priority, n.desktop, s.username, n.created_at";

/// The read state of a broadcast for a user: an explicit row, else the watermark.
const BROADCAST_READ: &str = "coalesce(b.read, n.id <= $6)";

/// The parameter types of [`list`]'s query, declared because a variant of the
/// query may leave some unused, and PostgreSQL cannot infer an unused one.
const LIST_PARAMS: &[Type] = &[
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::BOOL,
    Type::TEXT,
    Type::INT8,
    Type::INT8,
];

pub(super) async fn list(
    db: &impl GenericClient,
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
            "SELECT {NOTIFICATION_COLUMNS}, r.read AS read
             FROM recipients r
             JOIN notifications n ON n.id = r.notification_id
             LEFT JOIN users s ON s.id = n.sender_id
             WHERE r.user_id = $1{conditions}{read}"
        ));
    }
    if filter.kind.includes(NotificationKind::Broadcast) {
        let read = if status.is_some() {
            format!(" AND {BROADCAST_READ} = $4")
        } else {
            String::new()
        };
        parts.push(format!(
            "SELECT {NOTIFICATION_COLUMNS}, {BROADCAST_READ} AS read
             FROM notifications n
             LEFT JOIN broadcast_state b ON b.user_id = $1 AND b.notification_id = n.id
             LEFT JOIN users s ON s.id = n.sender_id
             WHERE n.kind = 'broadcast' AND NOT coalesce(b.deleted, false){conditions}{read}"
        ));
    }
    let sql = format!("{} ORDER BY id DESC LIMIT $7", parts.join(" UNION ALL "));
    let upto = broadcast_watermark(db, user_id).await?;
    let stmt = db.prepare_typed_cached(&sql, LIST_PARAMS).await?;
    let rows = db
        .query(
            &stmt,
            &[
                &user_id,
                &filter.before_id.unwrap_or(i64::MAX),
                &to_millis(filter.since),
                &status.unwrap_or(false),
                &filter.category,
                &upto,
                &i64::from(filter.limit),
            ],
        )
        .await?;
    let items = collect(rows, |row| {
        let kind: &str = row.try_get(1)?;
        let priority: i16 = row.try_get(6)?;
        Ok(Notification {
            id: row.try_get(0)?,
            kind: NotificationKind::parse(kind).unwrap_or(NotificationKind::Personal),
            category: row.try_get(2)?,
            title: row.try_get(3)?,
            content: row.try_get(4)?,
            link: row.try_get(5)?,
            priority: u8::try_from(priority)
                .map_err(|_| Error::Corrupt(format!("priority {priority}")))?,
            desktop: row.try_get(7)?,
            sender: row.try_get(8)?,
            created_at: from_millis(row.try_get(9)?),
            read: row.try_get(10)?,
        })
    })?;
    let next_cursor = match items.last() {
        Some(last) if items.len() as u32 == filter.limit => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

async fn broadcast_watermark(db: &impl GenericClient, user_id: UserId) -> Result<i64> {
    let stmt = db
        .prepare_cached("SELECT broadcast_read_upto FROM users WHERE id = $1")
        .await?;
    Ok(match db.query_opt(&stmt, &[&user_id]).await? {
        Some(row) => row.try_get(0)?,
        None => 0,
    })
}

/// Run in a snapshot, so the counts are exact at the returned cursor.
pub(super) async fn counts(tx: &Transaction<'_>, user_id: UserId) -> Result<(Counts, Cursor)> {
    let (personal, broadcast) = unread_counts(tx, user_id).await?;
    let chats = super::chat::unread_total(tx, user_id).await?;
    let head = super::events::head(tx).await?;
    Ok((Counts::new(personal, broadcast, chats), head))
}

async fn unread_counts(db: &impl GenericClient, user_id: UserId) -> Result<(i64, i64)> {
    let upto = broadcast_watermark(db, user_id).await?;
    let stmt = db
        .prepare_cached(
            "SELECT
               (SELECT count(*) FROM recipients WHERE user_id = $1 AND NOT read),
               (SELECT count(*) FROM notifications n
                 WHERE n.kind = 'broadcast' AND n.id > $2
                   AND NOT EXISTS (SELECT 1 FROM broadcast_state b
                                   WHERE b.user_id = $1 AND b.notification_id = n.id
                                     AND (b.read OR b.deleted)))
             + (SELECT count(*) FROM broadcast_state
                 WHERE user_id = $1 AND notification_id <= $2 AND NOT read AND NOT deleted)",
        )
        .await?;
    let row = db.query_one(&stmt, &[&user_id, &upto]).await?;
    Ok((row.try_get(0)?, row.try_get(1)?))
}

/// How one visible notification stands for a user.
struct Visible {
    id: NotificationId,
    kind: NotificationKind,
    read: bool,
}

/// Every id must be visible to the user; otherwise the whole request is refused,
/// so another user's ids reveal nothing and change nothing. One query for all ids.
async fn visible(
    tx: &Transaction<'_>,
    user_id: UserId,
    ids: &[NotificationId],
) -> Result<Vec<Visible>> {
    let upto = broadcast_watermark(tx, user_id).await?;
    let stmt = tx
        .prepare_cached(
            "SELECT i.id, r.read,
                    CASE WHEN n.id IS NOT NULL AND NOT coalesce(b.deleted, false)
                         THEN coalesce(b.read, n.id <= $3) END
             FROM unnest($2::bigint[]) AS i(id)
             LEFT JOIN recipients r ON r.user_id = $1 AND r.notification_id = i.id
             LEFT JOIN notifications n ON n.id = i.id AND n.kind = 'broadcast'
             LEFT JOIN broadcast_state b ON b.user_id = $1 AND b.notification_id = n.id
             ORDER BY i.id",
        )
        .await?;
    let rows = tx
        .query(&stmt, &[&user_id, &unique_ids(ids), &upto])
        .await?;
    collect(rows, |row| {
        let id = row.try_get(0)?;
        let (kind, read) = match (row.try_get(1)?, row.try_get(2)?) {
            (Some(read), _) => (NotificationKind::Personal, read),
            (None, Some(read)) => (NotificationKind::Broadcast, read),
            (None, None) => return Err(Error::NotFound(format!("notification {id}"))),
        };
        Ok(Visible { id, kind, read })
    })
}

pub(super) async fn mark(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    target: &MarkTarget,
    read: bool,
) -> Result<i64> {
    match target {
        MarkTarget::Ids(ids) => mark_ids(tx, events, user_id, ids, read).await,
        MarkTarget::All(kind) => mark_all(tx, events, user_id, *kind, read).await,
    }
}

/// The ids of `items` of `kind`.
fn ids_of(items: &[Visible], kind: NotificationKind) -> Vec<NotificationId> {
    items
        .iter()
        .filter(|item| item.kind == kind)
        .map(|item| item.id)
        .collect()
}

async fn mark_ids(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    ids: &[NotificationId],
    read: bool,
) -> Result<i64> {
    let mut changed = visible(tx, user_id, ids).await?;
    changed.retain(|item| item.read != read);
    let personal = ids_of(&changed, NotificationKind::Personal);
    if !personal.is_empty() {
        let stmt = tx
            .prepare_cached(
                "UPDATE recipients SET read = $3
                 WHERE user_id = $1 AND notification_id = ANY($2::bigint[])",
            )
            .await?;
        tx.execute(&stmt, &[&user_id, &personal, &read]).await?;
    }
    let broadcast = ids_of(&changed, NotificationKind::Broadcast);
    if !broadcast.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO broadcast_state (user_id, notification_id, read)
                 SELECT $1, unnest($2::bigint[]), $3
                 ON CONFLICT (user_id, notification_id) DO UPDATE SET read = excluded.read",
            )
            .await?;
        tx.execute(&stmt, &[&user_id, &broadcast, &read]).await?;
    }
    let changed: Vec<NotificationId> = changed.iter().map(|item| item.id).collect();
    let count = changed.len() as i64;
    if !changed.is_empty() {
        let event = if read {
            Event::NotificationsRead { ids: changed }
        } else {
            Event::NotificationsUnread { ids: changed }
        };
        emit(tx, events, Some(user_id), event).await?;
    }
    Ok(count)
}

async fn mark_all(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    kind: KindFilter,
    read: bool,
) -> Result<i64> {
    let mut changed = 0;
    if kind.includes(NotificationKind::Personal) {
        let stmt = tx
            .prepare_cached("UPDATE recipients SET read = $2 WHERE user_id = $1 AND read <> $2")
            .await?;
        changed += tx.execute(&stmt, &[&user_id, &read]).await? as i64;
    }
    if kind.includes(NotificationKind::Broadcast) {
        let (_, unread_before) = unread_counts(tx, user_id).await?;
        // Moving the watermark and clearing this user's exceptions costs O(their
        // exceptions), never O(broadcasts) or O(users).
        let stmt = tx
            .prepare_cached(
                "UPDATE users SET broadcast_read_upto = CASE WHEN $2 THEN
                     (SELECT coalesce(max(id), 0) FROM notifications WHERE kind = 'broadcast')
                   ELSE 0 END
                 WHERE id = $1",
            )
            .await?;
        tx.execute(&stmt, &[&user_id, &read]).await?;
        let stmt = tx
            .prepare_cached(
                "UPDATE broadcast_state SET read = $2 WHERE user_id = $1 AND read <> $2",
            )
            .await?;
        tx.execute(&stmt, &[&user_id, &read]).await?;
        changed += if read {
            unread_before
        } else {
            // Only the rare "mark all unread" counts every visible broadcast.
            let stmt = tx
                .prepare_cached(
                    "SELECT count(*) FROM notifications n
                     WHERE n.kind = 'broadcast' AND NOT EXISTS (SELECT 1 FROM broadcast_state b
                           WHERE b.user_id = $1 AND b.notification_id = n.id AND b.deleted)",
                )
                .await?;
            let visible: i64 = tx.query_one(&stmt, &[&user_id]).await?.try_get(0)?;
            visible - unread_before
        };
    }
    if changed > 0 {
        let stmt = tx
            .prepare_cached("SELECT coalesce(max(id), 0) FROM notifications")
            .await?;
        let up_to: i64 = tx.query_one(&stmt, &[]).await?.try_get(0)?;
        let event = if read {
            Event::AllRead { kind, up_to }
        } else {
            Event::AllUnread { kind, up_to }
        };
        emit(tx, events, Some(user_id), event).await?;
    }
    Ok(changed)
}

pub(super) async fn delete(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user_id: UserId,
    ids: &[NotificationId],
) -> Result<i64> {
    let items = visible(tx, user_id, ids).await?;
    let personal = ids_of(&items, NotificationKind::Personal);
    if !personal.is_empty() {
        let stmt = tx
            .prepare_cached(
                "DELETE FROM recipients WHERE user_id = $1 AND notification_id = ANY($2::bigint[])",
            )
            .await?;
        tx.execute(&stmt, &[&user_id, &personal]).await?;
    }
    let (broadcast, reads): (Vec<NotificationId>, Vec<bool>) = items
        .iter()
        .filter(|item| item.kind == NotificationKind::Broadcast)
        .map(|item| (item.id, item.read))
        .unzip();
    if !broadcast.is_empty() {
        let stmt = tx
            .prepare_cached(
                "INSERT INTO broadcast_state (user_id, notification_id, read, deleted)
                 SELECT $1, i.id, i.read, true FROM unnest($2::bigint[], $3::boolean[]) AS i(id, read)
                 ON CONFLICT (user_id, notification_id) DO UPDATE SET deleted = true",
            )
            .await?;
        tx.execute(&stmt, &[&user_id, &broadcast, &reads]).await?;
    }
    let ids: Vec<NotificationId> = items.iter().map(|item| item.id).collect();
    let count = ids.len() as i64;
    if !ids.is_empty() {
        emit(
            tx,
            events,
            Some(user_id),
            Event::NotificationsDeleted { ids },
        )
        .await?;
    }
    Ok(count)
}
