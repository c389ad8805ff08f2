//! Contacts: each user's own list of people, and the reverse lookup presence needs.

use herald_protocol::stored::from_millis;
use herald_protocol::UserId;

use crate::db::Db;
use crate::rows::{self, now_millis, user_columns};
use crate::{names, rules, ContactEntry, Error, Result};

pub(crate) async fn add<D: Db>(
    db: &D,
    owner: UserId,
    username: &str,
) -> Result<(ContactEntry, bool)> {
    let contact = names::active_id(db, username).await?;
    rules::may_add_contact(owner, contact)?;
    let count: i64 = db
        .query_one(
            "SELECT count(*) FROM contacts WHERE owner_id = $1",
            &[&owner],
            |row| row.get(0),
        )
        .await?;
    let added = db
        .execute(
            "INSERT INTO contacts (owner_id, contact_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
            &[&owner, &contact, &now_millis()],
        )
        .await?
        > 0;
    // Checked after the insert so a re-add of an existing contact never fails;
    // the request's savepoint undoes the insert.
    if added {
        rules::contact_list_has_room(count)?;
    }
    let entry = list_where(db, owner, Some(contact))
        .await?
        .pop()
        .ok_or_else(|| Error::Corrupt("added contact vanished".into()))?;
    Ok((entry, added))
}

pub(crate) async fn remove(db: &impl Db, owner: UserId, username: &str) -> Result<bool> {
    let removed = db
        .execute(
            "DELETE FROM contacts
             WHERE owner_id = $1 AND contact_id = (SELECT id FROM users WHERE username = $2)",
            &[&owner, &username],
        )
        .await?;
    Ok(removed > 0)
}

pub(crate) async fn list(db: &impl Db, owner: UserId) -> Result<Vec<ContactEntry>> {
    list_where(db, owner, None).await
}

/// The owner's contacts by username, or just `only` among them.
async fn list_where(
    db: &impl Db,
    owner: UserId,
    only: Option<UserId>,
) -> Result<Vec<ContactEntry>> {
    const LIST: &str = concat!(
        "SELECT ",
        user_columns!("u"),
        ", c.created_at
         FROM contacts c JOIN users u ON u.id = c.contact_id
         WHERE c.owner_id = $1 AND ($2 IS NULL OR c.contact_id = $2)
         ORDER BY u.username"
    );
    db.query(LIST, &[&owner, &only], |row| {
        Ok(ContactEntry {
            user: rows::user(row, 0)?,
            added_at: from_millis(row.get(6)?),
        })
    })
    .await
}

pub(crate) async fn owners(db: &impl Db, user: UserId) -> Result<Vec<UserId>> {
    db.query(
        "SELECT owner_id FROM contacts WHERE contact_id = $1",
        &[&user],
        |row| row.get(0),
    )
    .await
}
