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
use std::pin::Pin;

use deadpool_postgres::{Pool, Transaction};
use tokio::sync::{mpsc, oneshot};

use crate::{CommitFeed, Error, Result, StoredEvent};

/// The transaction-scoped advisory lock every write transaction takes first
/// ("herald w" in ASCII). Anything else that writes Herald's tables must take it
/// too, or its ids could become visible out of order.
pub const WRITE_LOCK_KEY: i64 = 0x6865_7261_6c64_2077;

/// Most requests folded into one transaction; bounds the latency of the first.
const MAX_BATCH: usize = 512;

pub(super) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Called after the batch commits (or fails to) to answer the request.
type Completion = Box<dyn FnOnce(Result<()>) + Send>;

/// One write request, type-erased so a batch can hold requests of any result.
trait Job: Send {
    /// Runs inside the job's savepoint and may append events; says whether it
    /// succeeded so the writer can roll the savepoint back.
    fn run<'a>(
        self: Box<Self>,
        tx: &'a Transaction<'_>,
        events: &'a mut Vec<StoredEvent>,
    ) -> BoxFuture<'a, (bool, Completion)>;

    /// Answers without running: no transaction could be had for it.
    fn fail(self: Box<Self>, error: Error);
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

    fn fail(self: Box<Self>, error: Error) {
        let _ = self.reply.send(Err(error));
    }
}

#[derive(Clone)]
pub(super) struct Writer {
    jobs: mpsc::Sender<Box<dyn Job>>,
}

impl Writer {
    /// `pool` holds the writer's one connection; the pool replaces it when it
    /// breaks, so a database restart costs one failed batch, not the writer.
    pub(super) fn spawn(pool: Pool, feed: CommitFeed) -> Self {
        let (jobs, rx) = mpsc::channel(4 * MAX_BATCH);
        tokio::spawn(run(pool, rx, feed));
        Self { jobs }
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
        rx.await.map_err(|_| Error::Closed)?
    }
}

/// Runs until every sender is gone, so queued writes finish during shutdown.
async fn run(pool: Pool, mut rx: mpsc::Receiver<Box<dyn Job>>, feed: CommitFeed) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while let Some(first) = rx.recv().await {
        batch.push(first);
        while batch.len() < MAX_BATCH {
            match rx.try_recv() {
                Ok(job) => batch.push(job),
                Err(_) => break,
            }
        }
        commit_batch(&pool, std::mem::take(&mut batch), &feed).await;
    }
}

async fn commit_batch(pool: &Pool, jobs: Vec<Box<dyn Job>>, feed: &CommitFeed) {
    let mut client = match pool.get().await {
        Ok(client) => client,
        Err(e) => return cannot_begin(jobs, Error::from(e)),
    };
    let tx = match begin(&mut client).await {
        Ok(tx) => tx,
        Err(e) => return cannot_begin(jobs, e),
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
    if let Some(e) = broken {
        // The connection failed under the transaction: nothing of it commits.
        tracing::error!(error = %e, "write transaction failed");
        let message = e.to_string();
        drop(tx);
        for complete in completions {
            complete(Err(Error::CommitFailed(message.clone())));
        }
        return fail_all(jobs.collect(), Error::CommitFailed(message));
    }
    match tx.commit().await {
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
            for complete in completions {
                complete(Err(Error::CommitFailed(e.to_string())));
            }
        }
    }
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

fn cannot_begin(jobs: Vec<Box<dyn Job>>, error: Error) {
    tracing::error!(error = %error, "cannot begin a write transaction");
    fail_all(jobs, error);
}

fn fail_all(jobs: Vec<Box<dyn Job>>, error: Error) {
    let message = error.to_string();
    for job in jobs {
        job.fail(Error::CommitFailed(message.clone()));
    }
}
