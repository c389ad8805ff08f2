//! The writer task and its group commit, serialized cluster-wide.
//!
//! Like the SQLite writer, one task folds whatever requests are waiting into one
//! transaction, each in its own savepoint. Unlike SQLite, several processes share
//! the database, and PostgreSQL hands out sequence values in call order, not
//! commit order: a transaction that took seq 7 may commit after one that took
//! seq 8, and a reader that saw 8 would move its cursor past 7 for good. So the
//! first statement of every write transaction takes [`WRITE_LOCK_KEY`]: batches
//! of all nodes run one after another, and every id and cursor becomes visible
//! in the order it was assigned (the lock is released only after the commit is
//! visible).

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;

use deadpool_postgres::{Pool, Transaction};
use futures_util::FutureExt;
use tokio::sync::{mpsc, oneshot};

use crate::group_commit::{answer, finish, gather, Completion, Health, MAX_BATCH};
use crate::{CommitFeed, Error, Result, StoredEvent};

/// The transaction-scoped advisory lock every write transaction takes first
/// ("herald w" in ASCII). Anything else that writes Herald's tables must take it
/// too, or its ids could become visible out of order.
pub const WRITE_LOCK_KEY: i64 = 0x6865_7261_6c64_2077;

pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// One write request, type-erased so a batch can hold requests of any result.
trait Job: Send {
    /// Runs inside the job's savepoint and may append events; says whether it
    /// succeeded so the writer can roll the savepoint back.
    fn run<'a>(
        self: Box<Self>,
        tx: &'a Transaction<'_>,
        events: &'a mut Vec<StoredEvent>,
    ) -> BoxFuture<'a, (bool, Completion)>;

    /// The answer of a request that never ran: it fails with its batch.
    fn skip(self: Box<Self>) -> Completion;
}

struct Request<T, F> {
    f: F,
    reply: oneshot::Sender<Result<T>>,
}

impl<T, F> Job for Request<T, F>
where
    T: Send + 'static,
    F: for<'a> FnOnce(&'a Transaction<'_>, &'a mut Vec<StoredEvent>) -> BoxFuture<'a, Result<T>>
        + Send
        + 'static,
{
    fn run<'a>(
        self: Box<Self>,
        tx: &'a Transaction<'_>,
        events: &'a mut Vec<StoredEvent>,
    ) -> BoxFuture<'a, (bool, Completion)> {
        let Request { f, reply } = *self;
        Box::pin(async move {
            let result = f(tx, events).await;
            let ok = result.is_ok();
            let complete: Completion = Box::new(move |commit: Result<()>| {
                let _ = reply.send(commit.and(result));
            });
            (ok, complete)
        })
    }

    fn skip(self: Box<Self>) -> Completion {
        let reply = self.reply;
        Box::new(move |commit: Result<()>| {
            let _ = reply.send(commit.and(Err(Error::Aborted)));
        })
    }
}

#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
    health: Health,
}

impl Writer {
    /// `pool` holds the writer's one connection; the pool replaces it when it
    /// breaks, so a database restart costs one failed batch, not the writer.
    pub(super) fn spawn(pool: Pool, feed: CommitFeed) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        let health = Health::running();
        tokio::spawn(run(pool, rx, feed, health.clone()));
        Self { jobs, health }
    }

    pub(super) fn health(&self) -> &Health {
        &self.health
    }

    /// Runs `f` in the next group commit and answers once it is durable.
    pub(super) async fn run<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: for<'a> FnOnce(
                &'a Transaction<'_>,
                &'a mut Vec<StoredEvent>,
            ) -> BoxFuture<'a, Result<T>>
            + Send
            + 'static,
    {
        let (reply, rx) = oneshot::channel();
        let job: Box<dyn Job> = Box::new(Request { f, reply });
        self.jobs.send(job).await.map_err(|_| Error::Closed)?;
        answer(rx).await
    }
}

/// Runs until every sender is gone, so queued writes finish during shutdown.
/// A batch that panics is dropped, which rolls its transaction back, and its
/// requests fail; the task goes on with the next batch.
async fn run(pool: Pool, mut rx: mpsc::Receiver<Box<dyn Job>>, feed: CommitFeed, health: Health) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        gather(first, &mut rx, MAX_BATCH, &mut batch);
        let jobs = std::mem::take(&mut batch);
        let batch_ran = AssertUnwindSafe(commit_batch(&pool, jobs, &feed, &health))
            .catch_unwind()
            .await;
        if let Err(panic) = batch_ran {
            health.panicked(panic.as_ref());
        }
    }
    health.stopped();
}

async fn commit_batch(pool: &Pool, jobs: Vec<Box<dyn Job>>, feed: &CommitFeed, health: &Health) {
    let mut client = match pool.get().await {
        Ok(client) => client,
        Err(e) => return skip_all(jobs, Error::from(e), feed, health),
    };
    let tx = match begin(&mut client).await {
        Ok(tx) => tx,
        Err(e) => return skip_all(jobs, e, feed, health),
    };
    let mut events = Vec::new();
    let mut completions = Vec::with_capacity(jobs.len());
    let mut jobs = jobs.into_iter();
    let mut broken = None;
    // Savepoints by plain SQL rather than nested transaction handles, so that
    // ending one request's savepoint and opening the next one's is a single
    // message, and the last one needs none: COMMIT releases it.
    let mut opening = "SAVEPOINT job";
    for job in jobs.by_ref() {
        let mark = events.len();
        // The savepoint goes out first and the request's statements right behind
        // it, without waiting for its answer: if it failed, the transaction is
        // aborted and so are they.
        let (opened, (ok, complete)) =
            tokio::join!(tx.batch_execute(opening), job.run(&tx, &mut events));
        completions.push(complete);
        if let Err(e) = opened {
            broken = Some(e);
            break;
        }
        opening = if ok {
            "RELEASE SAVEPOINT job; SAVEPOINT job"
        } else {
            events.truncate(mark);
            // Rolled back and released at once, so the next one opens afresh.
            if let Err(e) = tx
                .batch_execute("ROLLBACK TO SAVEPOINT job; RELEASE SAVEPOINT job")
                .await
            {
                broken = Some(e);
                break;
            }
            "SAVEPOINT job"
        };
    }
    let committed = match broken {
        // The connection failed under the transaction: nothing of it commits,
        // and the requests not run yet fail with the rest.
        Some(e) => {
            drop(tx);
            completions.extend(jobs.map(|job| job.skip()));
            Err(e.into())
        }
        None => tx.commit().await.map_err(Error::from),
    };
    finish(committed, events, completions, feed, health);
}

/// Opens a write transaction holding the cluster-wide write lock.
async fn begin(client: &mut deadpool_postgres::Client) -> Result<Transaction<'_>> {
    let tx = client.transaction().await?;
    let lock = tx
        .prepare_cached("SELECT pg_advisory_xact_lock($1)")
        .await?;
    tx.execute(&lock, &[&WRITE_LOCK_KEY]).await?;
    Ok(tx)
}

/// No transaction could be had: every request fails with `error`, none ran.
fn skip_all(jobs: Vec<Box<dyn Job>>, error: Error, feed: &CommitFeed, health: &Health) {
    let completions = jobs.into_iter().map(|job| job.skip()).collect();
    finish(Err(error), Vec::new(), completions, feed, health);
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use herald_testkit::postgres::TestDatabase;

    use super::*;
    use crate::FailureKind;

    #[tokio::test]
    async fn a_batch_that_panics_fails_its_requests_and_the_writer_goes_on() {
        let database = TestDatabase::create().await;
        let admin = database.connect().await;
        admin
            .batch_execute("CREATE TABLE t (n bigint)")
            .await
            .unwrap();
        let config = tokio_postgres::Config::from_str(&database.url).unwrap();
        let (feed, _commits) = tokio::sync::mpsc::unbounded_channel();
        let writer = Writer::spawn(super::super::pool(config, 1).unwrap(), feed);

        let panicked = writer
            .run(|tx, _| {
                Box::pin(async move {
                    tx.execute("INSERT INTO t VALUES (1)", &[]).await?;
                    panic!("a bug in a store rule");
                })
            })
            .await;
        assert!(
            matches!(panicked, Err::<(), _>(Error::Aborted)),
            "{panicked:?}"
        );

        writer
            .run(|tx, _| {
                Box::pin(async move { Ok(tx.execute("INSERT INTO t VALUES (2)", &[]).await?) })
            })
            .await
            .unwrap();
        let stored: Vec<i64> = admin
            .query("SELECT n FROM t", &[])
            .await
            .unwrap()
            .iter()
            .map(|row| row.get(0))
            .collect();
        assert_eq!(stored, [2], "the panicked batch was rolled back");
        let status = writer.health().status();
        assert!(status.accepting_writes(), "{status:?}");
        let last = status.last_failure.map(|failure| failure.kind);
        assert_eq!(last, Some(FailureKind::Panic));
    }
}
