//! Contacts: each user's own list of people, and the reverse lookup presence needs.

use deadpool_postgres::{GenericClient, Transaction};
use herald_protocol::{UserId, MAX_CONTACTS};

use super::rows::{collect, from_millis, now_millis, user_columns, user_from_row};
use super::users::active_ids;
use crate::{ContactEntry, Error, Result};

pub(super) async fn add(
    tx: &Transaction<'_>,
    owner: UserId,
    username: &str,
) -> Result<(ContactEntry, bool)> {
    let [contact] = active_ids(tx, &[username.to_owned()]).await?[..] else {
        return Err(Error::Corrupt("one name resolved to several users".into()));
    };
    if contact == owner {
        return Err(Error::Invalid(
            "you cannot add yourself as a contact".into(),
        ));
    }
    let stmt = tx
        .prepare_cached("SELECT count(*) FROM contacts WHERE owner_id = $1")
        .await?;
    let count: i64 = tx.query_one(&stmt, &[&owner]).await?.try_get(0)?;
    let stmt = tx
        .prepare_cached(
            "INSERT INTO contacts (owner_id, contact_id, created_at) VALUES ($1, $2, $3)
             ON CONFLICT DO NOTHING",
        )
        .await?;
    let added = tx
        .execute(&stmt, &[&owner, &contact, &now_millis()])
        .await?
        > 0;
    // Checked after the insert so a re-add of an existing contact never fails;
    // the request's savepoint undoes the insert.
    if added && count >= MAX_CONTACTS as i64 {
        return Err(Error::Invalid(format!(
            "you already have {MAX_CONTACTS} contacts; remove some first"
        )));
    }
    let entry = list_where(tx, owner, Some(contact))
        .await?
        .pop()
        .ok_or_else(|| Error::Corrupt("added contact vanished".into()))?;
    Ok((entry, added))
}

pub(super) async fn remove(tx: &Transaction<'_>, owner: UserId, username: &str) -> Result<bool> {
    let stmt = tx
        .prepare_cached(
            "DELETE FROM contacts
             WHERE owner_id = $1 AND contact_id = (SELECT id FROM users WHERE username = $2)",
        )
        .await?;
    Ok(tx.execute(&stmt, &[&owner, &username]).await? > 0)
}

pub(super) async fn list(db: &impl GenericClient, owner: UserId) -> Result<Vec<ContactEntry>> {
    list_where(db, owner, None).await
}

/// The owner's contacts, or just `only` among them.
async fn list_where(
    db: &impl GenericClient,
    owner: UserId,
    only: Option<UserId>,
) -> Result<Vec<ContactEntry>> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {}, c.created_at
             FROM contacts c JOIN users u ON u.id = c.contact_id
             WHERE c.owner_id = $1 AND ($2::bigint IS NULL OR c.contact_id = $2)
             ORDER BY u.username",
            user_columns("u")
        ))
        .await?;
    collect(db.query(&stmt, &[&owner, &only]).await?, |row| {
        Ok(ContactEntry {
            user: user_from_row(row, 0)?,
            added_at: from_millis(row.try_get(6)?),
        })
    })
}

pub(super) async fn owners(db: &impl GenericClient, user: UserId) -> Result<Vec<UserId>> {
    let stmt = db
        .prepare_cached("SELECT owner_id FROM contacts WHERE contact_id = $1")
        .await?;
    collect(db.query(&stmt, &[&user]).await?, |row| Ok(row.try_get(0)?))
}
