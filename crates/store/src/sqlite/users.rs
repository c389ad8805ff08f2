//! Users and tokens.

use herald_protocol::{FoundUser, TokenInfo, TokenKind, User, UserId};
use rusqlite::{Connection, OptionalExtension};

use super::chat;
use super::rows::{from_millis, now_millis, user_columns, user_from_row};
use crate::{Error, NewUser, Principal, Result, StoredEvent, UserChanges, UserRecord};

pub(super) fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM users", [], |r| r.get(0))?)
}

pub(super) fn create(conn: &Connection, new: &NewUser) -> Result<User> {
    // A new user starts with every existing broadcast read: joining a team should
    // not bring 90 days of announcements as unread.
    let inserted = conn.execute(
        "INSERT INTO users (username, display_name, password_hash, role, created_at, broadcast_read_upto)
         VALUES (?1, ?2, ?3, ?4, ?5,
                 (SELECT coalesce(max(id), 0) FROM notifications WHERE kind = 'broadcast'))",
        (&new.username, &new.display_name, &new.password_hash, new.role.as_str(), now_millis()),
    );
    match inserted {
        Err(rusqlite::Error::SqliteFailure(e, _))
            if e.code == rusqlite::ErrorCode::ConstraintViolation =>
        {
            Err(Error::Conflict(format!(
                "username {:?} is taken",
                new.username
            )))
        }
        other => {
            other?;
            by_id(conn, conn.last_insert_rowid())?
                .ok_or_else(|| Error::Corrupt("inserted user vanished".into()))
        }
    }
}

pub(super) fn by_id(conn: &Connection, id: UserId) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {} FROM users WHERE id = ?1",
            user_columns("users")
        ))?
        .query_row([id], |row| user_from_row(row, 0))
        .optional()?)
}

pub(super) fn by_name(conn: &Connection, username: &str) -> Result<Option<UserRecord>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {}, password_hash FROM users WHERE username = ?1",
            user_columns("users")
        ))?
        .query_row([username], |row| {
            Ok(UserRecord {
                user: user_from_row(row, 0)?,
                password_hash: row.get(6)?,
            })
        })
        .optional()?)
}

pub(super) fn search(
    conn: &Connection,
    viewer: UserId,
    prefix: &str,
    limit: u32,
) -> Result<Vec<FoundUser>> {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("{escaped}%");
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {},
                EXISTS (SELECT 1 FROM contacts c WHERE c.owner_id = ?3 AND c.contact_id = u.id)
         FROM users u
         WHERE u.username LIKE ?1 ESCAPE '\\' OR u.display_name LIKE ?1 ESCAPE '\\'
         ORDER BY u.username LIMIT ?2",
        user_columns("u")
    ))?;
    let users = stmt
        .query_map((pattern, limit, viewer), |row| {
            Ok(FoundUser {
                user: user_from_row(row, 0)?,
                is_contact: row.get(6)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(users)
}

/// Active users for the names, or [`Error::UnknownUsers`] naming those that are
/// not, so a request naming a stranger changes nothing.
pub(super) fn active_ids(conn: &Connection, names: &[String]) -> Result<Vec<UserId>> {
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    let mut lookup =
        conn.prepare_cached("SELECT id FROM users WHERE username = ?1 AND disabled = 0")?;
    let mut ids = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    for name in names {
        match lookup.query_row([&name], |r| r.get(0)).optional()? {
            Some(id) => ids.push(id),
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownUsers(unknown));
    }
    Ok(ids)
}

pub(super) fn update(conn: &Connection, id: UserId, changes: &UserChanges) -> Result<Option<User>> {
    let updated = conn.execute(
        "UPDATE users SET
            display_name = coalesce(?2, display_name),
            role = coalesce(?3, role),
            disabled = coalesce(?4, disabled),
            password_hash = coalesce(?5, password_hash)
         WHERE id = ?1",
        (
            id,
            &changes.display_name,
            changes.role.map(|r| r.as_str()),
            changes.disabled,
            &changes.password_hash,
        ),
    )?;
    if updated == 0 {
        return Ok(None);
    }
    if changes.disabled == Some(true) || changes.password_hash.is_some() {
        // A disabled user or a changed password ends every session.
        conn.execute("DELETE FROM tokens WHERE user_id = ?1", [id])?;
    }
    by_id(conn, id)
}

pub(super) fn delete(conn: &Connection, events: &mut Vec<StoredEvent>, id: UserId) -> Result<bool> {
    chat::forget_user(conn, events, id)?;
    conn.execute("DELETE FROM events WHERE user_id = ?1", [id])?;
    Ok(conn.execute("DELETE FROM users WHERE id = ?1", [id])? > 0)
}

pub(super) fn create_token(
    conn: &Connection,
    user_id: UserId,
    kind: TokenKind,
    name: &str,
    hash: &[u8],
) -> Result<TokenInfo> {
    let created_at = now_millis();
    conn.execute(
        "INSERT INTO tokens (user_id, kind, name, hash, created_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        (user_id, kind.as_str(), name, hash, created_at),
    )?;
    Ok(TokenInfo {
        id: conn.last_insert_rowid(),
        name: name.to_owned(),
        kind,
        created_at: from_millis(created_at),
    })
}

fn token_from_row(row: &rusqlite::Row<'_>, offset: usize) -> rusqlite::Result<TokenInfo> {
    let kind: String = row.get(offset + 2)?;
    Ok(TokenInfo {
        id: row.get(offset)?,
        name: row.get(offset + 1)?,
        kind: TokenKind::parse(&kind).unwrap_or(TokenKind::Send),
        created_at: from_millis(row.get(offset + 3)?),
    })
}

pub(super) fn authenticate(conn: &Connection, hash: &[u8]) -> Result<Option<Principal>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {}, t.id, t.name, t.kind, t.created_at
             FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = ?1",
            user_columns("u")
        ))?
        .query_row([hash], |row| {
            Ok(Principal {
                user: user_from_row(row, 0)?,
                token: token_from_row(row, 6)?,
            })
        })
        .optional()?)
}

pub(super) fn list_tokens(conn: &Connection, user_id: UserId) -> Result<Vec<TokenInfo>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, name, kind, created_at FROM tokens WHERE user_id = ?1 ORDER BY id",
    )?;
    let tokens = stmt
        .query_map([user_id], |row| token_from_row(row, 0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(tokens)
}

pub(super) fn delete_token(conn: &Connection, user_id: UserId, token_id: i64) -> Result<bool> {
    Ok(conn.execute(
        "DELETE FROM tokens WHERE id = ?1 AND user_id = ?2",
        (token_id, user_id),
    )? > 0)
}
