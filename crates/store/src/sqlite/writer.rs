//! The single writer thread and its group commit.

use std::panic::{catch_unwind, AssertUnwindSafe};
use std::thread;

use rusqlite::Connection;
use tokio::sync::{mpsc, oneshot};

use crate::group_commit::{answer, finish, gather, Completion, Health, MAX_BATCH};
use crate::{CommitFeed, Error, Result, StoredEvent};

/// One write request: given the open transaction, runs inside its own savepoint,
/// may append events, and says whether it succeeded so the writer can roll its
/// savepoint back. Given `None` (no transaction could begin) it runs nothing and
/// only hands back its completion, so the caller still gets the failure.
type Job =
    Box<dyn FnOnce(Option<(&Connection, &mut Vec<StoredEvent>)>) -> (bool, Completion) + Send>;

pub(super) struct Writer {
    jobs: mpsc::Sender<Job>,
    health: Health,
}

impl Writer {
    pub(super) fn spawn(conn: Connection, feed: CommitFeed) -> Result<Self> {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let health = Health::running();
        let running = health.clone();
        thread::Builder::new()
            .name("herald-sqlite-writer".into())
            .spawn(move || run(conn, rx, feed, running))?;
        Ok(Self { jobs, health })
    }

    pub(super) fn health(&self) -> &Health {
        &self.health
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
        answer(rx).await
    }
}

/// Runs until every sender is gone, so queued writes finish during shutdown.
/// A batch that panics is rolled back and its requests fail; the thread goes
/// on with the next batch.
fn run(conn: Connection, mut rx: mpsc::Receiver<Job>, feed: CommitFeed, health: Health) {
    /// Marks the writer stopped however the thread ends.
    struct Stopped(Health);
    impl Drop for Stopped {
        fn drop(&mut self) {
            self.0.stopped();
        }
    }
    let _stopped = Stopped(health.clone());
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.blocking_recv() {
        gather(first, &mut rx, MAX_BATCH, &mut batch);
        let jobs = batch.drain(..);
        let batch_ran = catch_unwind(AssertUnwindSafe(|| {
            commit_batch(&conn, jobs, &feed, &health);
        }));
        if let Err(panic) = batch_ran {
            // Whatever the batch left open is undone; its requests, dropped
            // unanswered, hear that nothing was stored.
            if !conn.is_autocommit() {
                let _ = conn.execute_batch("ROLLBACK");
            }
            health.panicked(panic.as_ref());
        }
    }
}

fn commit_batch(
    conn: &Connection,
    jobs: impl Iterator<Item = Job>,
    feed: &CommitFeed,
    health: &Health,
) {
    let mut events = Vec::new();
    let mut completions = Vec::new();
    if let Err(e) = conn.execute_batch("BEGIN IMMEDIATE") {
        // Run nothing: answer each request with the failure.
        let completions = jobs.map(|job| job(None).1).collect();
        return finish(Err(e.into()), events, completions, feed, health);
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
    let committed = conn.execute_batch("COMMIT").map_err(Error::from);
    if committed.is_err() {
        // SQLite may have rolled back already (a full disk does); if not, this does.
        let _ = conn.execute_batch("ROLLBACK");
    }
    finish(committed, events, completions, feed, health);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FailureKind;

    #[tokio::test]
    async fn a_batch_that_panics_fails_its_requests_and_the_writer_goes_on() {
        let dir = tempfile::tempdir().unwrap();
        let conn = Connection::open(dir.path().join("writer.db")).unwrap();
        conn.execute_batch("CREATE TABLE t (n INTEGER)").unwrap();
        let (feed, _commits) = tokio::sync::mpsc::unbounded_channel();
        let writer = Writer::spawn(conn, feed).unwrap();

        let panicked = writer
            .run(|conn, _| -> Result<()> {
                conn.execute("INSERT INTO t VALUES (1)", [])?;
                panic!("a bug in a store rule");
            })
            .await;
        assert!(matches!(panicked, Err(Error::Aborted)), "{panicked:?}");

        writer
            .run(|conn, _| Ok(conn.execute("INSERT INTO t VALUES (2)", [])?))
            .await
            .unwrap();
        let stored: Vec<i64> = writer
            .run(|conn, _| {
                let mut stmt = conn.prepare("SELECT n FROM t")?;
                let rows = stmt.query_map([], |row| row.get(0))?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
            .await
            .unwrap();
        assert_eq!(stored, [2], "the panicked batch was rolled back");
        let status = writer.health().status();
        assert!(status.accepting_writes(), "{status:?}");
        let last = status.last_failure.map(|failure| failure.kind);
        assert_eq!(last, Some(FailureKind::Panic));
    }
}
