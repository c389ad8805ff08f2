//! What every request handler and connection shares.

use std::sync::Arc;

use herald_store::Store;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::fanout::{Fanout, Hub, Presence};
use crate::limits::Limits;
use crate::metrics::Metrics;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub store: Arc<dyn Store>,
    /// This node's connections.
    pub hub: Arc<Hub>,
    /// Pushes and revocations for every node's connections.
    pub fanout: Arc<Fanout>,
    /// Which users their contacts see online (`GET /contacts`).
    pub presence: Arc<Presence>,
    pub metrics: Arc<Metrics>,
    /// Rate limits, login backoff, the password pool and WebSocket caps.
    pub limits: Arc<Limits>,
    /// Cancelled when the server shuts down: WebSocket sessions close with 1001
    /// and long-polls return, so the graceful shutdown can finish.
    pub shutdown: CancellationToken,
}
