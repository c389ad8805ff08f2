//! The one error type of `herald-client`.
//!
//! Variants are split by what a caller can do about them, not by which library
//! produced them: a tray app greys its icon on [`Error::Unreachable`], asks for a new
//! login on [`Error::Unauthorized`], and shows the server's sentence for the rest.
//! The CLI maps the same variants to its exit codes.

use std::path::PathBuf;

use reqwest::StatusCode;

/// Everything that can go wrong in the client library and the CLI.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The server could not be reached at all (refused, DNS, TLS, timeout), so
    /// nothing happened on the server and retrying later may work.
    #[error("cannot reach the server at {server}: {reason}")]
    Unreachable { server: String, reason: String },

    /// 401: the token is missing, expired or revoked.
    #[error("not authenticated: {message}")]
    Unauthorized { message: String },

    /// 403: the token is valid but may not do this (e.g. a send-only CI token, or a
    /// non-admin calling an admin route).
    #[error("permission denied: {message}")]
    Forbidden { message: String },

    /// 404, or a name the client looked up and did not find. The server's messages
    /// already say "… not found", so nothing is added.
    #[error("{message}")]
    NotFound { message: String },

    /// Any other error answer; `message` is the server's own sentence, which is
    /// what a person needs to read (`code` is for programs).
    #[error("{message}")]
    Server {
        status: StatusCode,
        code: String,
        message: String,
    },

    /// The server answered 2xx with a body we could not understand: most likely a
    /// different server version, or not a Herald server at all.
    #[error("unexpected response from the server to {what}: {source}")]
    UnexpectedResponse {
        what: String,
        #[source]
        source: serde_json::Error,
    },

    /// A request failed for a reason other than reachability (e.g. a broken body).
    #[error("request to {what} failed: {source}")]
    Http {
        what: String,
        #[source]
        source: reqwest::Error,
    },

    /// The WebSocket failed after it was established, or its handshake failed for a
    /// reason other than authentication. Boxed because tungstenite's error is large.
    #[error("websocket: {0}")]
    WebSocket(#[source] Box<tokio_tungstenite::tungstenite::Error>),

    /// The server spoke the WebSocket protocol but not Herald's (e.g. no `hello`).
    #[error("websocket protocol error: {0}")]
    Protocol(String),

    /// No token is available: neither saved by `herald login` nor in `HERALD_TOKEN`.
    #[error("not logged in: run `herald login --server URL --user NAME`, or set HERALD_TOKEN")]
    NotLoggedIn,

    /// The caller gave us something unusable (a bad URL, an empty password, a
    /// missing server); nothing was sent.
    #[error("{0}")]
    Usage(String),

    /// A local file (credentials, cursor) could not be read or written.
    #[error("{action} {}: {source}", path.display())]
    File {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },

    /// A local file exists but does not hold what we wrote there.
    #[error("{} is corrupt: {reason}", path.display())]
    CorruptFile { path: PathBuf, reason: String },

    /// Writing to stdout or reading from stdin/the terminal failed.
    #[error("terminal: {0}")]
    Terminal(#[source] std::io::Error),

    /// The local cache (SQLite) failed: a full disk, a file another program
    /// locked for too long, or a database written by a newer client. The server
    /// still has everything, so deleting the cache file is always safe.
    #[error("local cache: {0}")]
    Cache(#[from] rusqlite::Error),

    /// The local cache holds something this version cannot read (a schema from a
    /// newer client, or a row that does not parse).
    #[error("local cache: {0}")]
    CacheCorrupt(String),

    /// The [`crate::Client`] was shut down (or its background task ended) while
    /// the call was waiting for it.
    #[error("the client was shut down")]
    Closed,
}

/// Shorthand used across the crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// Whether retrying the same call with the same credentials can never succeed,
    /// so reconnect loops should stop and ask the user instead.
    pub fn is_auth(&self) -> bool {
        matches!(
            self,
            Error::Unauthorized { .. } | Error::Forbidden { .. } | Error::NotLoggedIn
        )
    }

    /// Builds the error for a non-2xx answer from the parts the server sent.
    pub(crate) fn from_status(status: StatusCode, code: String, message: String) -> Self {
        match status {
            StatusCode::UNAUTHORIZED => Error::Unauthorized { message },
            StatusCode::FORBIDDEN => Error::Forbidden { message },
            StatusCode::NOT_FOUND => Error::NotFound { message },
            _ => Error::Server {
                status,
                code,
                message,
            },
        }
    }
}

/// The innermost cause of an error chain, which for network failures is the one a
/// person can act on ("Connection refused") rather than reqwest's outer wrapper.
pub(crate) fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut current = err;
    while let Some(next) = current.source() {
        current = next;
    }
    current.to_string()
}

/// Text the server would refuse (a control character, too long) is the
/// caller's to fix; nothing was sent.
impl From<herald_protocol::text::TextError> for Error {
    fn from(error: herald_protocol::text::TextError) -> Self {
        Error::Usage(error.to_string())
    }
}
