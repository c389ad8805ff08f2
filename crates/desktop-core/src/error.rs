//! The desktop core's one error type. The window shows errors as their sentence.

/// What can go wrong in the desktop core.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The client core's own error (the server refused, offline, the cache…).
    #[error(transparent)]
    Client(#[from] herald_client::Error),
    /// Writing the settings file.
    #[error("could not save settings: {0}")]
    Settings(#[from] std::io::Error),
    /// The bundled server started but left no password for its admin.
    #[error("the local server did not save an admin password")]
    NoAdminPassword,
}

pub type Result<T> = std::result::Result<T, Error>;
