//! What both writers share: gathering a batch, ending it, and the health the
//! server reports.
//!
//! Each backend has one writer (SQLite a thread, PostgreSQL a task) that takes
//! the first waiting request plus whatever else is queued, runs them in one
//! transaction, each in its own savepoint, and answers them only once the
//! commit is durable. A batch that fails, or panics, fails only its own
//! requests: the writer goes on with the next one, and [`Health`] says whether
//! writes are going through, so `/healthz` can tell.

use parking_lot::Mutex;
use std::any::Any;
use std::sync::Arc;

use time::OffsetDateTime;
use tokio::sync::{mpsc, oneshot};

use crate::{CommitFeed, Committed, Error, Result, StoredEvent};

/// Most requests folded into one transaction; bounds the latency of the first.
pub(crate) const MAX_BATCH: usize = 512;

/// Called after the batch commits (or fails to) to answer the request.
pub(crate) type Completion = Box<dyn FnOnce(Result<()>) + Send>;

/// Appends to `batch` the first request and whatever else is already waiting,
/// up to `max` in all.
pub(crate) fn gather<T>(first: T, waiting: &mut mpsc::Receiver<T>, max: usize, batch: &mut Vec<T>) {
    batch.push(first);
    while batch.len() < max {
        match waiting.try_recv() {
            Ok(next) => batch.push(next),
            Err(_) => break,
        }
    }
}

/// Ends a batch whose transaction `committed` (or did not): on success the
/// events go to the feed before any request hears back, so a client that saw
/// its answer finds the events published; on failure every request gets the
/// batch's error and nothing is published.
pub(crate) fn finish(
    committed: Result<()>,
    events: Vec<StoredEvent>,
    completions: Vec<Completion>,
    feed: &CommitFeed,
    health: &Health,
) {
    match committed {
        Ok(()) => {
            health.succeeded();
            if !events.is_empty() {
                // The receiver is gone only during shutdown, when nobody listens.
                let _ = feed.send(Committed::Events(events));
            }
            for complete in completions {
                complete(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, requests = completions.len(), "group commit failed");
            health.failed(e.failure_kind());
            for complete in completions {
                complete(Err(e.batch_failure()));
            }
        }
    }
}

/// The answer a writer sends back for one request. A request the writer
/// dropped without answering was lost with a batch that panicked: nothing of
/// it was stored.
pub(crate) async fn answer<T>(reply: oneshot::Receiver<Result<T>>) -> Result<T> {
    reply.await.unwrap_or(Err(Error::Aborted))
}

/// Whether writes are going through, kept by the writer.
#[derive(Clone, Default)]
pub(crate) struct Health(Arc<Mutex<WriterStatus>>);

impl Health {
    /// A writer about to take requests.
    pub(crate) fn running() -> Self {
        let health = Self::default();
        health.0.lock().running = true;
        health
    }

    pub(crate) fn status(&self) -> WriterStatus {
        self.0.lock().clone()
    }

    fn succeeded(&self) {
        self.0.lock().failing = None;
    }

    fn failed(&self, kind: FailureKind) {
        let failure = WriteFailure {
            at: OffsetDateTime::now_utc(),
            kind,
        };
        let mut status = self.0.lock();
        status.failing = Some(failure.clone());
        status.last_failure = Some(failure);
    }

    /// A batch panicked; the writer rolled it back and goes on.
    pub(crate) fn panicked(&self, panic: &(dyn Any + Send)) {
        let message = panic
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| panic.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into());
        tracing::error!(%message, "a write batch panicked; its requests failed, the writer goes on");
        self.failed(FailureKind::Panic);
    }

    /// The writer stopped taking requests (every sender gone, or it died).
    pub(crate) fn stopped(&self) {
        self.0.lock().running = false;
    }
}

/// The writer's state as `/healthz` reports it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WriterStatus {
    /// The writer takes requests.
    pub running: bool,
    /// The last batch failed and none has succeeded since: writes are not
    /// going through right now.
    pub failing: Option<WriteFailure>,
    /// The most recent failure, even if writes have succeeded since.
    pub last_failure: Option<WriteFailure>,
}

impl WriterStatus {
    /// Whether a write has a chance: the writer runs and its last batch committed.
    pub fn accepting_writes(&self) -> bool {
        self.running && self.failing.is_none()
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteFailure {
    pub at: OffsetDateTime,
    pub kind: FailureKind,
}

/// Why a batch failed, in words safe to show anyone (the log has the details).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The disk (or the database's quota) is full.
    StorageFull,
    /// The transaction could not begin or commit: I/O, a lost connection.
    Commit,
    /// A bug: the batch panicked.
    Panic,
}

impl FailureKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FailureKind::StorageFull => "storage_full",
            FailureKind::Commit => "commit_failed",
            FailureKind::Panic => "panic",
        }
    }
}
