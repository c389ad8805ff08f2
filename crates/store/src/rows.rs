//! Rows as domain types: the column lists queries select and the one mapper
//! of each type, for both backends. A stored value no version of Herald writes
//! (an unknown role or kind) is [`Error::Corrupt`], never a guess.

use herald_protocol::stored::{from_millis, to_millis};
use herald_protocol::{ConversationKind, Message, Role, TokenInfo, TokenKind, User};
use time::OffsetDateTime;

use crate::db::Row;
use crate::{Error, Result};

/// The user columns [`user`] reads, in order; `user_columns!("u")` qualifies
/// them with a table alias.
macro_rules! user_columns {
    () => {
        "id, username, display_name, role, disabled, created_at"
    };
    ($t:literal) => {
        concat!(
            $t,
            ".id, ",
            $t,
            ".username, ",
            $t,
            ".display_name, ",
            $t,
            ".role, ",
            $t,
            ".disabled, ",
            $t,
            ".created_at"
        )
    };
}
pub(crate) use user_columns;

/// The message columns [`message`] reads, from `messages m` with its sender
/// joined as `s` (see [`message_from!`]), or as the alias given.
macro_rules! message_columns {
    () => {
        message_columns!("s")
    };
    ($sender:literal) => {
        concat!(
            "m.id, m.conversation_id, ",
            $sender,
            ".username, m.content, m.client_id, m.created_at"
        )
    };
}
pub(crate) use message_columns;

/// Messages with their sender, as [`message_columns!`] reads them.
macro_rules! message_from {
    () => {
        "messages m LEFT JOIN users s ON s.id = m.sender_id"
    };
}
pub(crate) use message_from;

/// The notification columns `Notification::from_row` reads (all but `read`,
/// which each query computes), from `notifications n` with the sender as `s`.
macro_rules! notification_columns {
    () => {
        "n.id AS id, n.kind, n.category, n.title, n.content, n.link, n.priority, n.desktop, \
         s.username, n.created_at"
    };
}
pub(crate) use notification_columns;

pub(crate) fn now_millis() -> i64 {
    to_millis(OffsetDateTime::now_utc())
}

/// Reads the [`user_columns!`] starting at column `at`.
pub(crate) fn user(row: &Row<'_>, at: usize) -> Result<User> {
    let role: String = row.get(at + 3)?;
    Ok(User {
        id: row.get(at)?,
        username: row.get(at + 1)?,
        display_name: row.get(at + 2)?,
        role: Role::parse(&role).ok_or_else(|| corrupt("role", &role))?,
        disabled: row.get(at + 4)?,
        created_at: from_millis(row.get(at + 5)?),
    })
}

/// Reads a token's `id, name, kind, created_at` starting at column `at`.
pub(crate) fn token(row: &Row<'_>, at: usize) -> Result<TokenInfo> {
    let kind: String = row.get(at + 2)?;
    Ok(TokenInfo {
        id: row.get(at)?,
        name: row.get(at + 1)?,
        kind: TokenKind::parse(&kind).ok_or_else(|| corrupt("token kind", &kind))?,
        created_at: from_millis(row.get(at + 3)?),
    })
}

/// Reads the [`message_columns!`] starting at column `at`.
pub(crate) fn message(row: &Row<'_>, at: usize) -> Result<Message> {
    Ok(Message {
        id: row.get(at)?,
        conversation_id: row.get(at + 1)?,
        sender: row.get(at + 2)?,
        content: row.get(at + 3)?,
        client_id: row.get(at + 4)?,
        created_at: from_millis(row.get(at + 5)?),
    })
}

pub(crate) fn conversation_kind(row: &Row<'_>, at: usize) -> Result<ConversationKind> {
    let kind: String = row.get(at)?;
    ConversationKind::parse(&kind).ok_or_else(|| corrupt("conversation kind", &kind))
}

fn corrupt(what: &str, value: &str) -> Error {
    Error::Corrupt(format!("unknown {what} {value:?}"))
}
