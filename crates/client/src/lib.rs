//! Herald's client core, with no UI in it: the CLI (`herald`) and the desktop app
//! are both thin layers over this library.
//!
//! - [`Client`] ([`client`]): the handle front ends hold. Reads come from the
//!   local cache and work offline; actions apply at once and queue in an outbox;
//!   changes come back as a stream of [`ClientEvent`]s ([`events`]).
//! - [`sync`]: the engine behind it — a WebSocket that reconnects with backoff,
//!   notices dead links, resumes from the stored cursor (or reloads everything
//!   when the server says so) and sends the outbox.
//! - [`cache`]: the SQLite file (WAL, FTS5) holding notifications, chat
//!   (contacts, conversations, recent messages), the cursor, the outbox and a
//!   log of applied events; migrated in place.
//! - [`Api`] ([`api`]): every REST route as an async method; [`Credentials`]: a
//!   saved login.
//!
//! Nothing here prints, prompts or knows about Tauri.

pub mod api;
pub mod cache;
pub mod client;
pub mod credentials;
pub mod error;
pub mod events;
mod options;
mod shared;
pub mod sync;
mod unread;
pub mod views;

pub use api::{normalize_server_url, Api};
pub use cache::log::{EventLogPage, LoggedEvent};
pub use cache::notifications::NotificationFilter;
pub use cache::search::{MessageHit, NotificationHit, SnippetPart};
pub use cache::Cache;
pub use client::{Client, Recipient};
pub use credentials::Credentials;
pub use error::{Error, Result};
pub use events::{ClientEvent, ConnectionState, EventStream};
pub use options::ClientOptions;
pub use sync::backoff::Backoff;
pub use sync::SyncOptions;
pub use views::{Action, ChatMessage, ConversationSummary, MessageState};
