//! Herald's client core: the REST client ([`Api`]), the resumable WebSocket
//! stream ([`Watcher`]) and the CLI's saved login ([`Credentials`]).
//!
//! Nothing here prints or knows about the terminal: the `herald` binary and, later,
//! the desktop app are both thin layers over this library.

pub mod api;
pub mod credentials;
pub mod error;
pub mod watch;

pub use api::{normalize_server_url, Api};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use watch::{Backoff, Update, Watcher};
