//! Users and tokens.

use deadpool_postgres::{GenericClient, Transaction};
use herald_protocol::{FoundUser, TokenInfo, TokenKind, User, UserId};
use tokio_postgres::error::SqlState;
use tokio_postgres::Row;

use super::chat;
use super::rows::{collect, from_millis, now_millis, user_columns, user_from_row};
use crate::{Error, NewUser, Principal, Result, StoredEvent, UserChanges, UserRecord};

pub(super) async fn count(db: &impl GenericClient) -> Result<i64> {
    Ok(db
        .query_one("SELECT count(*) FROM users", &[])
        .await?
        .get(0))
}

pub(super) async fn create(tx: &Transaction<'_>, new: &NewUser) -> Result<User> {
    // A new user starts with every existing broadcast read: joining a team should
    // not bring 90 days of announcements as unread.
    let stmt = tx
        .prepare_cached(&format!(
            "INSERT INTO users (username, display_name, password_hash, role, created_at, broadcast_read_upto)
             VALUES ($1, $2, $3, $4, $5,
                     (SELECT coalesce(max(id), 0) FROM notifications WHERE kind = 'broadcast'))
             RETURNING {}",
            user_columns("users")
        ))
        .await?;
    let inserted = tx
        .query_one(
            &stmt,
            &[
                &new.username,
                &new.display_name,
                &new.password_hash,
                &new.role.as_str(),
                &now_millis(),
            ],
        )
        .await;
    match inserted {
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => Err(Error::Conflict(format!(
            "username {:?} is taken",
            new.username
        ))),
        other => user_from_row(&other?, 0),
    }
}

pub(super) async fn by_id(db: &impl GenericClient, id: UserId) -> Result<Option<User>> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {} FROM users WHERE id = $1",
            user_columns("users")
        ))
        .await?;
    db.query_opt(&stmt, &[&id])
        .await?
        .map(|row| user_from_row(&row, 0))
        .transpose()
}

pub(super) async fn by_name(db: &impl GenericClient, username: &str) -> Result<Option<UserRecord>> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {}, password_hash FROM users WHERE username = $1",
            user_columns("users")
        ))
        .await?;
    db.query_opt(&stmt, &[&username])
        .await?
        .map(|row| {
            Ok(UserRecord {
                user: user_from_row(&row, 0)?,
                password_hash: row.try_get(6)?,
            })
        })
        .transpose()
}

pub(super) async fn search(
    db: &impl GenericClient,
    viewer: UserId,
    prefix: &str,
    limit: u32,
) -> Result<Vec<FoundUser>> {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    let pattern = format!("{escaped}%");
    // ILIKE under the columns' "C" collation folds ASCII letters only, as
    // SQLite's LIKE does.
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {},
                    EXISTS (SELECT 1 FROM contacts c WHERE c.owner_id = $3 AND c.contact_id = u.id)
             FROM users u
             WHERE u.username ILIKE $1 ESCAPE '\\' OR u.display_name ILIKE $1 ESCAPE '\\'
             ORDER BY u.username LIMIT $2",
            user_columns("u")
        ))
        .await?;
    let rows = db
        .query(&stmt, &[&pattern, &i64::from(limit), &viewer])
        .await?;
    collect(rows, |row| {
        Ok(FoundUser {
            user: user_from_row(row, 0)?,
            is_contact: row.try_get(6)?,
        })
    })
}

/// Active users for the names, or [`Error::UnknownUsers`] naming those that are
/// not, so a request naming a stranger changes nothing.
pub(super) async fn active_ids(db: &impl GenericClient, names: &[String]) -> Result<Vec<UserId>> {
    let mut names = names.to_vec();
    names.sort();
    names.dedup();
    let stmt = db
        .prepare_cached(
            "SELECT n.name, u.id
             FROM unnest($1::text[]) WITH ORDINALITY AS n(name, i)
             LEFT JOIN users u ON u.username = n.name AND NOT u.disabled
             ORDER BY n.i",
        )
        .await?;
    let mut ids = Vec::with_capacity(names.len());
    let mut unknown = Vec::new();
    for row in db.query(&stmt, &[&names]).await? {
        match row.try_get::<_, Option<UserId>>(1)? {
            Some(id) => ids.push(id),
            None => unknown.push(row.try_get(0)?),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownUsers(unknown));
    }
    Ok(ids)
}

pub(super) async fn update(
    tx: &Transaction<'_>,
    id: UserId,
    changes: &UserChanges,
) -> Result<Option<User>> {
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE users SET
                display_name = coalesce($2, display_name),
                role = coalesce($3, role),
                disabled = coalesce($4, disabled),
                password_hash = coalesce($5, password_hash)
             WHERE id = $1
             RETURNING {}",
            user_columns("users")
        ))
        .await?;
    let updated = tx
        .query_opt(
            &stmt,
            &[
                &id,
                &changes.display_name,
                &changes.role.map(|r| r.as_str()),
                &changes.disabled,
                &changes.password_hash,
            ],
        )
        .await?;
    let Some(row) = updated else {
        return Ok(None);
    };
    if changes.disabled == Some(true) || changes.password_hash.is_some() {
        // A disabled user or a changed password ends every session.
        let stmt = tx
            .prepare_cached("DELETE FROM tokens WHERE user_id = $1")
            .await?;
        tx.execute(&stmt, &[&id]).await?;
    }
    user_from_row(&row, 0).map(Some)
}

pub(super) async fn delete(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    id: UserId,
) -> Result<bool> {
    chat::forget_user(tx, events, id).await?;
    let stmt = tx
        .prepare_cached("DELETE FROM events WHERE user_id = $1")
        .await?;
    tx.execute(&stmt, &[&id]).await?;
    let stmt = tx.prepare_cached("DELETE FROM users WHERE id = $1").await?;
    Ok(tx.execute(&stmt, &[&id]).await? > 0)
}

pub(super) async fn create_token(
    tx: &Transaction<'_>,
    user_id: UserId,
    kind: TokenKind,
    name: &str,
    hash: &[u8],
) -> Result<TokenInfo> {
    let created_at = now_millis();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO tokens (user_id, kind, name, hash, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .await?;
    let row = tx
        .query_one(
            &stmt,
            &[&user_id, &kind.as_str(), &name, &hash, &created_at],
        )
        .await?;
    Ok(TokenInfo {
        id: row.try_get(0)?,
        name: name.to_owned(),
        kind,
        created_at: from_millis(created_at),
    })
}

fn token_from_row(row: &Row, offset: usize) -> Result<TokenInfo> {
    let kind: String = row.try_get(offset + 2)?;
    Ok(TokenInfo {
        id: row.try_get(offset)?,
        name: row.try_get(offset + 1)?,
        kind: TokenKind::parse(&kind).unwrap_or(TokenKind::Send),
        created_at: from_millis(row.try_get(offset + 3)?),
    })
}

pub(super) async fn authenticate(
    db: &impl GenericClient,
    hash: &[u8],
) -> Result<Option<Principal>> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {}, t.id, t.name, t.kind, t.created_at
             FROM tokens t JOIN users u ON u.id = t.user_id
             WHERE t.hash = $1",
            user_columns("u")
        ))
        .await?;
    db.query_opt(&stmt, &[&hash])
        .await?
        .map(|row| {
            Ok(Principal {
                user: user_from_row(&row, 0)?,
                token: token_from_row(&row, 6)?,
            })
        })
        .transpose()
}

pub(super) async fn list_tokens(
    db: &impl GenericClient,
    user_id: UserId,
) -> Result<Vec<TokenInfo>> {
    let stmt = db
        .prepare_cached(
            "SELECT id, name, kind, created_at FROM tokens WHERE user_id = $1 ORDER BY id",
        )
        .await?;
    collect(db.query(&stmt, &[&user_id]).await?, |row| {
        token_from_row(row, 0)
    })
}

pub(super) async fn delete_token(
    tx: &Transaction<'_>,
    user_id: UserId,
    token_id: i64,
) -> Result<bool> {
    let stmt = tx
        .prepare_cached("DELETE FROM tokens WHERE id = $1 AND user_id = $2")
        .await?;
    Ok(tx.execute(&stmt, &[&token_id, &user_id]).await? > 0)
}
