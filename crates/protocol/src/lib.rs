//! Every type that crosses the wire between Herald's server and its clients.
//!
//! The server, the CLI and (later) the desktop app all compile against this crate,
//! so a change to a payload breaks every side at compile time instead of at run time.
//! `../shared/DESIGN.md` is the contract these types implement; `docs/protocol.md`
//! shows each of them as JSON.

mod auth;
mod chat;
mod event;
mod frame;
mod health;
mod notification;
pub mod stored;
pub mod text;

pub use auth::*;
pub use chat::*;
pub use event::*;
pub use frame::*;
pub use health::*;
pub use notification::*;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Largest page any list endpoint returns, whatever `limit` asks for.
pub const MAX_PAGE_LIMIT: u32 = 200;
/// Page size when a request names no `limit`.
pub const DEFAULT_PAGE_LIMIT: u32 = 50;
/// Largest request body the REST API accepts.
pub const MAX_BODY_BYTES: usize = 256 * 1024;
/// Largest WebSocket frame either side accepts; bigger frames close with 1009.
pub const MAX_FRAME_BYTES: usize = 64 * 1024;

/// Position in a user's event stream. Every committed event gets the next value;
/// a client that stored the last cursor it saw resumes with `since=cursor`.
pub type Cursor = i64;

/// The body of every error response, REST or WebSocket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

/// A machine-readable `code` (`not_found`, `invalid_input`, …) for programs and a
/// sentence for people.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ErrorDetail {
    pub code: String,
    pub message: String,
}

/// One page of a list plus the opaque cursor of the next page (absent on the last).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Page<T> {
    pub items: Vec<T>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}

/// Unread counts as the tray badge and the window's tabs show them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Counts {
    pub unread_total: i64,
    pub personal: i64,
    pub broadcast: i64,
    pub chats: i64,
}

impl Counts {
    /// Builds counts from the parts so that `unread_total` can never disagree with them.
    pub fn new(personal: i64, broadcast: i64, chats: i64) -> Self {
        Self {
            unread_total: personal + broadcast + chats,
            personal,
            broadcast,
            chats,
        }
    }
}

/// OpenAPI pattern of a username (what [`validate_username`] accepts).
pub const USERNAME_PATTERN: &str = "^[a-z0-9_.-]{1,32}$";

/// A username in the OpenAPI document: 1–32 of `a-z 0-9 _ . -`. Only the
/// document uses this type; the wire carries plain strings.
pub struct Username;

impl utoipa::PartialSchema for Username {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .description(Some("1-32 characters of a-z, 0-9, '_', '.', '-'"))
            .min_length(Some(1))
            .max_length(Some(32))
            .pattern(Some(USERNAME_PATTERN))
            .into()
    }
}

impl ToSchema for Username {
    fn name() -> std::borrow::Cow<'static, str> {
        "Username".into()
    }
}

/// Usernames are what people type in `--to alice,bob`, so they stay short and plain.
pub fn validate_username(name: &str) -> Result<(), String> {
    let valid_chars = name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'_' | b'.' | b'-'));
    if name.is_empty() || name.len() > 32 || !valid_chars {
        return Err(format!(
            "invalid username {name:?}: use 1-32 characters of a-z, 0-9, '_', '.', '-'"
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_follow_the_design_rules() {
        assert!(validate_username("alice").is_ok());
        assert!(validate_username("qa.lead-2_x").is_ok());
        assert!(validate_username("").is_err());
        assert!(validate_username("Alice").is_err());
        assert!(validate_username("bob smith").is_err());
        assert!(validate_username(&"a".repeat(33)).is_err());
        assert!(validate_username(&"a".repeat(32)).is_ok());
    }

    #[test]
    fn the_username_pattern_says_what_validation_does() {
        let pattern = regex::Regex::new(USERNAME_PATTERN).unwrap();
        for name in ["alice", "qa.lead-2_x", "", "Alice", "bob smith", "a\n", "é"] {
            assert_eq!(
                pattern.is_match(name),
                validate_username(name).is_ok(),
                "{name:?}"
            );
        }
        for len in [32, 33] {
            let name = "a".repeat(len);
            assert_eq!(pattern.is_match(&name), validate_username(&name).is_ok());
        }
    }

    #[test]
    fn counts_total_is_the_sum_of_parts() {
        let c = Counts::new(2, 3, 4);
        assert_eq!(c.unread_total, 9);
    }
}
