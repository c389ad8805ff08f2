//! Personal notifications written a batch at a time.
//!
//! The writer is serialized cluster-wide (see [`super::writer`]), so statements
//! per request bound the whole cluster's send rate. Personal notifications, the
//! bulk of the traffic, are therefore gathered and written with a few
//! multi-row statements per batch instead of several statements each.

use std::collections::HashMap;

use deadpool_postgres::{GenericClient, Transaction};
use herald_protocol::stored::from_millis;
use herald_protocol::{Event, Notification, NotificationKind, UserId};

use crate::notifications::as_stored;
use crate::rows::now_millis;
use crate::stream::Stored;
use crate::{rules, Audience, Error, Inserted, NewNotification, Result, StoredEvent};

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
        let found = wanted
            .into_iter()
            .map(|name| (name.clone(), users.get(name).copied()))
            .collect();
        let recipients = match rules::all_known(found) {
            Ok(recipients) => recipients,
            Err(unknown) => {
                answers.push(Err(unknown));
                continue;
            }
        };
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
    rows.iter().map(|row| Ok(row.try_get(0)?)).collect()
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
    /// For each event, its notification's place in `ids` and `payloads`
    /// (1-based, as SQL arrays are): the event names its notification, and
    /// carries what replays once that is gone ([`Stored`]).
    event_notifications: Vec<i32>,
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
        self.payloads.push(Stored::of(&event)?.payload);
        let place = self.ids.len() as i32;
        for &user in recipients {
            self.recipient_users.push(user);
            self.recipient_notifications.push(notification.id);
            self.event_users.push(user);
            self.event_notifications.push(place);
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
                "INSERT INTO events (seq, user_id, created_at, payload, notification_id)
                 OVERRIDING SYSTEM VALUE
                 SELECT seq, user_id, $3, ($5::text[])[n], ($6::bigint[])[n]
                 FROM unnest($1::bigint[], $2::bigint[], $4::int[]) AS t(seq, user_id, n)",
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
            &self.event_notifications,
            &self.payloads,
            &self.ids,
        ];
        tokio::try_join!(
            tx.execute(&notifications, notification_params),
            tx.execute(&recipients, recipient_params),
            tx.execute(&events, event_params),
        )?;
        Ok(())
    }
}
