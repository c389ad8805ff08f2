//! Users and tokens.

use herald_protocol::stored::from_millis;
use herald_protocol::{FoundUser, TokenInfo, TokenKind, User, UserId};

use crate::chat::rooms;
use crate::db::Db;
use crate::rows::{self, now_millis, user_columns};
use crate::{rules, Error, NewUser, Principal, Result, StoredEvent, UserChanges, UserRecord};

pub(crate) async fn count(db: &impl Db) -> Result<i64> {
    db.query_one("SELECT count(*) FROM users", &[], |row| row.get(0))
        .await
}

pub(crate) async fn create(db: &impl Db, new: &NewUser) -> Result<User> {
    // A new user starts with every existing broadcast read: joining a team should
    // not bring 90 days of announcements as unread.
    const CREATE: &str = concat!(
        "INSERT INTO users
            (username, display_name, password_hash, role, created_at, broadcast_read_upto)
         VALUES ($1, $2, $3, $4, $5,
                 (SELECT coalesce(max(id), 0) FROM notifications WHERE kind = 'broadcast'))
         RETURNING ",
        user_columns!()
    );
    let params: [&dyn crate::db::Param; 5] = [
        &new.username,
        &new.display_name,
        &new.password_hash,
        &new.role.as_str(),
        &now_millis(),
    ];
    match db
        .query_one(CREATE, &params, |row| rows::user(row, 0))
        .await
    {
        Err(e) if e.is_unique_violation() => Err(Error::Conflict(format!(
            "username {:?} is taken",
            new.username
        ))),
        other => other,
    }
}

pub(crate) async fn by_id(db: &impl Db, id: UserId) -> Result<Option<User>> {
    const BY_ID: &str = concat!("SELECT ", user_columns!(), " FROM users WHERE id = $1");
    db.query_opt(BY_ID, &[&id], |row| rows::user(row, 0)).await
}

pub(crate) async fn by_name(db: &impl Db, username: &str) -> Result<Option<UserRecord>> {
    const BY_NAME: &str = concat!(
        "SELECT ",
        user_columns!(),
        ", password_hash FROM users WHERE username = $1"
    );
    db.query_opt(BY_NAME, &[&username], |row| {
        Ok(UserRecord {
            user: rows::user(row, 0)?,
            password_hash: row.get(6)?,
        })
    })
    .await
}

pub(crate) async fn search(
    db: &impl Db,
    viewer: UserId,
    prefix: &str,
    limit: u32,
) -> Result<Vec<FoundUser>> {
    // Both sides lowered: ASCII letters fold alike in both dialects (the
    // columns sort bytewise), and the pattern is one parameter.
    const SEARCH: &str = concat!(
        "SELECT ",
        user_columns!("u"),
        ", EXISTS (SELECT 1 FROM contacts c WHERE c.owner_id = $3 AND c.contact_id = u.id)
         FROM users u
         WHERE lower(u.username) LIKE lower($1) ESCAPE '\\'
            OR lower(u.display_name) LIKE lower($1) ESCAPE '\\'
         ORDER BY u.username LIMIT $2"
    );
    let pattern = rules::prefix_pattern(prefix);
    db.query(SEARCH, &[&pattern, &i64::from(limit), &viewer], |row| {
        Ok(FoundUser {
            user: rows::user(row, 0)?,
            is_contact: row.get(6)?,
        })
    })
    .await
}

pub(crate) async fn update(
    db: &impl Db,
    id: UserId,
    changes: &UserChanges,
) -> Result<Option<User>> {
    const UPDATE: &str = concat!(
        "UPDATE users SET
            display_name = coalesce($2, display_name),
            role = coalesce($3, role),
            disabled = coalesce($4, disabled),
            password_hash = coalesce($5, password_hash)
         WHERE id = $1
         RETURNING ",
        user_columns!()
    );
    let params: [&dyn crate::db::Param; 5] = [
        &id,
        &changes.display_name,
        &changes.role.map(|r| r.as_str()),
        &changes.disabled,
        &changes.password_hash,
    ];
    let Some(user) = db
        .query_opt(UPDATE, &params, |row| rows::user(row, 0))
        .await?
    else {
        return Ok(None);
    };
    if rules::ends_sessions(changes) {
        db.execute("DELETE FROM tokens WHERE user_id = $1", &[&id])
            .await?;
    }
    Ok(Some(user))
}

/// The user leaves their rooms (whose members hear of it) and loses their
/// events, tokens and state; their messages and notifications stay, sender-less.
pub(crate) async fn delete<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    id: UserId,
) -> Result<bool> {
    rooms::forget_user(db, events, id).await?;
    db.execute("DELETE FROM events WHERE user_id = $1", &[&id])
        .await?;
    Ok(db
        .execute("DELETE FROM users WHERE id = $1", &[&id])
        .await?
        > 0)
}

pub(crate) async fn create_token(
    db: &impl Db,
    user_id: UserId,
    kind: TokenKind,
    name: &str,
    hash: &[u8],
) -> Result<TokenInfo> {
    let created_at = now_millis();
    let id = db
        .insert_one(
            "INSERT INTO tokens (user_id, kind, name, hash, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            "id",
            &[&user_id, &kind.as_str(), &name, &hash, &created_at],
        )
        .await?;
    Ok(TokenInfo {
        id,
        name: name.to_owned(),
        kind,
        created_at: from_millis(created_at),
    })
}

pub(crate) async fn authenticate(db: &impl Db, hash: &[u8]) -> Result<Option<Principal>> {
    const AUTHENTICATE: &str = concat!(
        "SELECT ",
        user_columns!("u"),
        ", t.id, t.name, t.kind, t.created_at
         FROM tokens t JOIN users u ON u.id = t.user_id
         WHERE t.hash = $1"
    );
    db.query_opt(AUTHENTICATE, &[&hash], |row| {
        Ok(Principal {
            user: rows::user(row, 0)?,
            token: rows::token(row, 6)?,
        })
    })
    .await
}

pub(crate) async fn list_tokens(db: &impl Db, user_id: UserId) -> Result<Vec<TokenInfo>> {
    db.query(
        "SELECT id, name, kind, created_at FROM tokens WHERE user_id = $1 ORDER BY id",
        &[&user_id],
        |row| rows::token(row, 0),
    )
    .await
}

pub(crate) async fn delete_token(db: &impl Db, user_id: UserId, token_id: i64) -> Result<bool> {
    let deleted = db
        .execute(
            "DELETE FROM tokens WHERE id = $1 AND user_id = $2",
            &[&token_id, &user_id],
        )
        .await?;
    Ok(deleted > 0)
}
