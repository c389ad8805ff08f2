//! What keeps one client from taking the server from everyone else: password
//! hashing on a bounded pool, login backoff, send rates and WebSocket caps.
//! (Connection caps and HTTP timeouts are the listener's, `crate::listener`.)
//!
//! Everything here lives in one node's memory; in a cluster each node limits
//! what reaches it.

mod client_ip;
mod hash_pool;
pub mod login;
mod sends;
mod sockets;

use std::sync::Arc;
use std::time::Duration;

pub use client_ip::{ClientIps, TrustedProxy};
pub use hash_pool::{Claim, HashPool};
pub use login::LoginThrottle;
pub use sends::{whole_seconds, SendLimits};
pub use sockets::{Pending, Unauthenticated};

use crate::metrics::Metrics;
use crate::{Config, Result};

/// The limits a node keeps, shared by handlers and sessions.
pub struct Limits {
    /// Resolves each request's client address (trusted proxies).
    pub client_ips: ClientIps,
    /// Runs argon2id; refuses when full.
    pub hashes: HashPool,
    pub logins: LoginThrottle,
    pub sends: SendLimits,
    /// WebSocket upgrades still waiting for their `auth` frame, per address.
    pub unauthenticated: Unauthenticated,
}

impl Limits {
    pub fn new(config: &Config, metrics: Arc<Metrics>) -> Result<Self> {
        Ok(Self {
            client_ips: ClientIps::new(&config.trusted_proxies),
            hashes: HashPool::new(config.hash_threads(), metrics)?,
            logins: LoginThrottle::new(login::Policy {
                free: config.login_free_failures,
                base: Duration::from_millis(config.login_backoff_ms),
                max: Duration::from_secs(config.login_lockout_max_s.into()),
            }),
            sends: SendLimits::new(config),
            unauthenticated: Unauthenticated::default(),
        })
    }

    /// Forgets what no longer limits anyone (quiet login records, full
    /// buckets), so memory follows the active clients.
    pub fn sweep(&self) {
        self.logins.sweep(std::time::Instant::now());
        self.sends.sweep();
    }
}
