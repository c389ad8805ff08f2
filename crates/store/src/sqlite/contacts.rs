//! Contacts: each user's own list of people, and the reverse lookup presence needs.

use herald_protocol::{UserId, MAX_CONTACTS};
use rusqlite::Connection;

use super::rows::{from_millis, now_millis, user_columns, user_from_row};
use super::users::active_ids;
use crate::{ContactEntry, Error, Result};

pub(super) fn add(
    conn: &Connection,
    owner: UserId,
    username: &str,
) -> Result<(ContactEntry, bool)> {
    let [contact] = active_ids(conn, &[username.to_owned()])?[..] else {
        return Err(Error::Corrupt("one name resolved to several users".into()));
    };
    if contact == owner {
        return Err(Error::Invalid(
            "you cannot add yourself as a contact".into(),
        ));
    }
    let count: i64 = conn
        .prepare_cached("SELECT count(*) FROM contacts WHERE owner_id = ?1")?
        .query_row([owner], |r| r.get(0))?;
    let added = conn
        .prepare_cached(
            "INSERT INTO contacts (owner_id, contact_id, created_at) VALUES (?1, ?2, ?3)
             ON CONFLICT DO NOTHING",
        )?
        .execute((owner, contact, now_millis()))?
        > 0;
    // Checked after the insert so a re-add of an existing contact never fails;
    // the request's savepoint undoes the insert.
    if added && count >= MAX_CONTACTS as i64 {
        return Err(Error::Invalid(format!(
            "you already have {MAX_CONTACTS} contacts; remove some first"
        )));
    }
    let entry = list_where(conn, owner, Some(contact))?
        .pop()
        .ok_or_else(|| Error::Corrupt("added contact vanished".into()))?;
    Ok((entry, added))
}

pub(super) fn remove(conn: &Connection, owner: UserId, username: &str) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "DELETE FROM contacts
             WHERE owner_id = ?1 AND contact_id = (SELECT id FROM users WHERE username = ?2)",
        )?
        .execute((owner, username))?
        > 0)
}

pub(super) fn list(conn: &Connection, owner: UserId) -> Result<Vec<ContactEntry>> {
    list_where(conn, owner, None)
}

/// The owner's contacts, or just `only` among them.
fn list_where(conn: &Connection, owner: UserId, only: Option<UserId>) -> Result<Vec<ContactEntry>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {}, c.created_at
         FROM contacts c JOIN users u ON u.id = c.contact_id
         WHERE c.owner_id = ?1 AND (?2 IS NULL OR c.contact_id = ?2)
         ORDER BY u.username",
        user_columns("u")
    ))?;
    let entries = stmt
        .query_map((owner, only), |row| {
            Ok(ContactEntry {
                user: user_from_row(row, 0)?,
                added_at: from_millis(row.get(6)?),
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(entries)
}

pub(super) fn owners(conn: &Connection, user: UserId) -> Result<Vec<UserId>> {
    let mut stmt = conn.prepare_cached("SELECT owner_id FROM contacts WHERE contact_id = ?1")?;
    let owners = stmt
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(owners)
}
