//! How a [`crate::Client`] keeps its data and how it syncs.

use std::path::PathBuf;

use crate::sync::SyncOptions;

/// How a [`Client`] keeps its data and how it syncs.
#[derive(Debug, Clone)]
pub struct ClientOptions {
    /// The cache file; `None` keeps the cache in memory (gone on exit).
    pub cache_path: Option<PathBuf>,
    pub sync: SyncOptions,
    /// Notifications older than this many days leave the cache, as they leave
    /// the server (whose default is also 90).
    pub retention_days: u32,
    /// Most events kept in the local event log ([`Client::events_after`]).
    pub event_log_limit: usize,
}

impl ClientOptions {
    /// A client whose cache lives at `path` (created if missing).
    pub fn new(path: impl Into<PathBuf>) -> Self {
        Self {
            cache_path: Some(path.into()),
            ..Self::in_memory()
        }
    }

    /// A client whose cache lives in memory only.
    pub fn in_memory() -> Self {
        Self {
            cache_path: None,
            sync: SyncOptions::default(),
            retention_days: 90,
            event_log_limit: 10_000,
        }
    }

    pub fn with_sync(mut self, sync: SyncOptions) -> Self {
        self.sync = sync;
        self
    }
}
