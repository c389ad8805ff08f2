//! The single writer thread and its group commit.

use std::thread;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::{CommitFeed, Error, Result, StoredEvent};

/// Most requests folded into one transaction; bounds the latency of the first.
const MAX_BATCH: usize = 512;

/// Called after the batch commits (or fails to) to answer the request.
type Completion = Box<dyn FnOnce(Result<()>) + Send>;
/// One write request: given the open transaction, runs inside its own savepoint,
/// may append events, and says whether it succeeded so the writer can roll its
/// savepoint back. Given `None` (no transaction could begin) it runs nothing and
/// only hands back its completion, so the caller still gets the failure.
type Job =
    Box<dyn FnOnce(Option<(&Connection, &mut Vec<StoredEvent>)>) -> (bool, Completion) + Send>;

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
}

impl Writer {
    pub(super) fn spawn(conn: Connection, feed: CommitFeed) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        thread::Builder::new()
            .name("herald-sqlite-writer".into())
            .spawn(move || run(conn, rx, feed))
            .expect("spawning the writer thread");
        Self { jobs }
    }

    /// Runs `f` in the next group commit and answers once it is durable.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection, &mut Vec<StoredEvent>) -> Result<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |transaction| {
            let result = transaction.map(|(conn, events)| f(conn, events));
            let ok = result.as_ref().is_some_and(Result::is_ok);
            let complete: Completion = Box::new(move |commit| {
                let answer = commit.and_then(|()| result.unwrap_or(Err(Error::Closed)));
                let _ = tx.send(answer);
            });
            (ok, complete)
        });
        self.jobs.send(job).await.map_err(|_| Error::Closed)?;
        rx.await.map_err(|_| Error::Closed)?
    }
}

/// Runs until every sender is gone, so queued writes finish during shutdown.
fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, feed: CommitFeed) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&conn, batch.drain(..), &feed);
    }
}

fn commit_batch(conn: &Connection, jobs: impl Iterator<Item = Job>, feed: &CommitFeed) {
    let mut events = Vec::new();
    let mut completions = Vec::new();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        tracing::error!(error = %e, "cannot begin a write transaction");
        for job in jobs {
            // Run nothing: answer each request with the failure.
            let (_, complete) = job(None);
            complete(Err(Error::CommitFailed(e.to_string())));
        }
        return;
    }
    for job in jobs {
        let mark = events.len();
        let savepoint = conn.execute_batch("SAVEPOINT job");
        let (ok, complete) = job(Some((conn, &mut events)));
        let ended = if ok {
            conn.execute_batch("RELEASE job")
        } else {
            events.truncate(mark);
            conn.execute_batch("ROLLBACK TO job; RELEASE job")
        };
        if let Err(e) = savepoint.and(ended) {
            tracing::error!(error = %e, "savepoint failed");
        }
        completions.push(complete);
    }
    match conn.execute_batch("COMMIT") {
        Ok(()) => {
            if !events.is_empty() {
                // The receiver is gone only during shutdown, when nobody listens.
                let _ = feed.send(events);
            }
            for complete in completions {
                complete(Ok(()));
            }
        }
        Err(e) => {
            tracing::error!(error = %e, "group commit failed");
            let _ = conn.execute_batch("ROLLBACK");
            for complete in completions {
                complete(Err(Error::CommitFailed(e.to_string())));
            }
        }
    }
}
