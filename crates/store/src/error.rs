use thiserror::Error;

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, Error)]
pub enum Error {
    /// An id the caller named does not exist for them (or belongs to someone else).
    #[error("{0} not found")]
    NotFound(String),
    /// A unique value is taken; the text names the field.
    #[error("{0}")]
    Conflict(String),
    #[error("unknown or disabled users: {}", .0.join(", "))]
    UnknownUsers(Vec<String>),
    /// The caller can see the thing but may not do this to it (another's message
    /// for everyone, a room they do not own).
    #[error("{0}")]
    Forbidden(String),
    /// The request breaks a rule only the stored data can tell (messaging
    /// oneself, a full room, a malformed cursor).
    #[error("{0}")]
    Invalid(String),
    #[cfg(feature = "sqlite")]
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    #[cfg(feature = "postgres")]
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// No PostgreSQL connection could be had (the server is down or unreachable).
    #[error("database unavailable: {0}")]
    Unavailable(String),
    #[error("commit failed: {0}")]
    CommitFailed(String),
    /// The disk (or the database's quota) is full: nothing of the write was stored.
    #[error("storage full: {0}")]
    StorageFull(String),
    /// The writer lost the request with a batch that panicked: nothing of it
    /// was stored.
    #[error("the write was abandoned by a failing batch and not stored")]
    Aborted,
    #[error("stored data is corrupt: {0}")]
    Corrupt(String),
    #[error("the store is shut down")]
    Closed,
    #[error("storage I/O error: {0}")]
    Io(#[from] std::io::Error),
}

impl Error {
    /// Whether the disk or a quota is full, whichever layer noticed.
    pub fn is_storage_full(&self) -> bool {
        match self {
            Error::StorageFull(_) => true,
            #[cfg(feature = "sqlite")]
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::DiskFull
            }
            #[cfg(feature = "postgres")]
            Error::Postgres(e) => e.code() == Some(&tokio_postgres::error::SqlState::DISK_FULL),
            Error::Io(e) => matches!(
                e.kind(),
                std::io::ErrorKind::StorageFull | std::io::ErrorKind::QuotaExceeded
            ),
            _ => false,
        }
    }

    /// Why a batch failed with this error, for [`crate::WriterStatus`].
    pub(crate) fn failure_kind(&self) -> crate::FailureKind {
        if self.is_storage_full() {
            crate::FailureKind::StorageFull
        } else {
            crate::FailureKind::Commit
        }
    }

    /// What each request of a batch that failed with this error is answered.
    pub(crate) fn batch_failure(&self) -> Error {
        if matches!(self, Error::Aborted) {
            Error::Aborted
        } else if self.is_storage_full() {
            Error::StorageFull(self.to_string())
        } else {
            Error::CommitFailed(self.to_string())
        }
    }

    /// Whether a unique constraint refused the write.
    pub(crate) fn is_unique_violation(&self) -> bool {
        match self {
            #[cfg(feature = "sqlite")]
            Error::Sqlite(rusqlite::Error::SqliteFailure(e, _)) => {
                e.code == rusqlite::ErrorCode::ConstraintViolation
            }
            #[cfg(feature = "postgres")]
            Error::Postgres(e) => {
                e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
            }
            _ => false,
        }
    }
}

#[cfg(feature = "postgres")]
impl From<deadpool_postgres::PoolError> for Error {
    fn from(e: deadpool_postgres::PoolError) -> Self {
        match e {
            deadpool_postgres::PoolError::Backend(e) => Error::Postgres(e),
            other => Error::Unavailable(other.to_string()),
        }
    }
}
