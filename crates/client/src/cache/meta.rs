//! Small named values: the cursor, the account, where the event log starts.

use std::fmt::Display;
use std::str::FromStr;

use herald_protocol::{Cursor, User};
use rusqlite::{Connection, OptionalExtension};

use crate::error::{Error, Result};

/// The last stream position whose event is applied; replay resumes after it.
/// Absent until the first full sync, which is how "never synced" is told apart.
pub(crate) const CURSOR: &str = "cursor";
/// The event log holds every applied event after this cursor.
pub(crate) const LOG_START: &str = "log_start";
/// Base URL of the server the data came from.
pub(crate) const SERVER: &str = "server";
/// Username the data belongs to, known before the first connection.
pub(crate) const USERNAME: &str = "username";
/// The user as the server last described it (JSON), from `hello`.
pub(crate) const USER: &str = "user";

pub(crate) fn get<T: FromStr>(conn: &Connection, key: &str) -> Result<Option<T>> {
    let text: Option<String> = conn
        .prepare_cached("SELECT value FROM meta WHERE key = ?1")?
        .query_row([key], |r| r.get(0))
        .optional()?;
    text.map(|t| {
        t.parse()
            .map_err(|_| Error::CacheCorrupt(format!("meta {key} = {t:?} does not parse")))
    })
    .transpose()
}

pub(crate) fn set(conn: &Connection, key: &str, value: impl Display) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO meta (key, value) VALUES (?1, ?2)
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
    )?
    .execute((key, value.to_string()))?;
    Ok(())
}

pub(crate) fn cursor(conn: &Connection) -> Result<Option<Cursor>> {
    get(conn, CURSOR)
}

pub(crate) fn user(conn: &Connection) -> Result<Option<User>> {
    let text: Option<String> = get(conn, USER)?;
    text.map(|t| {
        serde_json::from_str(&t).map_err(|e| Error::CacheCorrupt(format!("meta user: {e}")))
    })
    .transpose()
}

pub(crate) fn set_user(conn: &Connection, user: &User) -> Result<()> {
    let json = serde_json::to_string(user).expect("users always serialize");
    set(conn, USER, json)?;
    set(conn, USERNAME, &user.username)
}
