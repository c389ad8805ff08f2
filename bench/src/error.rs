//! The one error type of the harness: every failure says which step broke.

/// Why a benchmark step could not run (not why a target was missed: a missed
/// target is a result, reported in the table).
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
    /// Boxed: tungstenite's error is large and would bloat every `Result`.
    #[error("websocket: {0}")]
    Ws(Box<tokio_tungstenite::tungstenite::Error>),
    #[error("herald store: {0}")]
    Store(#[from] herald_store::Error),
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
    /// A malformed or unexpected HTTP exchange with a target.
    #[error("http: {0}")]
    Http(String),
    /// Starting, seeding or talking to a target went wrong.
    #[error("{0}")]
    Setup(String),
}

impl From<tokio_tungstenite::tungstenite::Error> for Error {
    fn from(e: tokio_tungstenite::tungstenite::Error) -> Self {
        Error::Ws(Box::new(e))
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
