//! The sync engine: keeps the cache equal to the server, online or not.
//!
//! - [`connection`]: one WebSocket connection (handshake, `hello`, close codes).
//! - [`engine`]: the reconnect loop and, per connection, subscribe/replay,
//!   full reloads, live events and the outbox.
//! - [`backoff`]: reconnect delays; [`liveness`]: when silence means death.
//! - [`resync`]: the full reload over REST; [`flush`]: sending outbox actions.

pub mod backoff;
pub(crate) mod connection;
pub(crate) mod engine;
pub(crate) mod flush;
pub(crate) mod liveness;
pub(crate) mod resync;

use std::time::Duration;

/// Timings of the sync engine. The defaults follow the protocol (the server
/// pings every 25 s; 60 s of silence is a dead link); tests shorten them.
#[derive(Debug, Clone)]
pub struct SyncOptions {
    /// First reconnect delay, and the one after a connection caught up.
    pub backoff_initial: Duration,
    /// Reconnect delays never grow past this.
    pub backoff_max: Duration,
    /// After this much silence the client sends a `ping` frame of its own.
    pub ping_after: Duration,
    /// After this much silence the link is declared dead and replaced.
    pub dead_after: Duration,
    /// Bound on the handshake plus `hello`.
    pub connect_timeout: Duration,
    /// How long a confirmed action keeps its optimistic overlay while its event
    /// has not arrived (it normally arrives within milliseconds).
    pub ack_grace: Duration,
}

impl Default for SyncOptions {
    fn default() -> Self {
        Self {
            backoff_initial: Duration::from_secs(1),
            backoff_max: Duration::from_secs(30),
            ping_after: Duration::from_secs(30),
            dead_after: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(15),
            ack_grace: Duration::from_secs(5),
        }
    }
}
