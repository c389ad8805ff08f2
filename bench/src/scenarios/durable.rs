//! T9 and T11: durable notification writes per second, on SQLite
//! (synchronous=FULL) through the HTTP API and straight at the store, and on
//! PostgreSQL straight at the store.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use herald_store::postgres::PostgresStore;
use herald_store::{Audience, NewNotification, Store};
use tokio::task::JoinSet;

use crate::load::closed_loop;
use crate::report::{histogram, Latency, Postgres, Throughput};
use crate::target::Target;
use crate::{Error, Result};

/// Recipients the HTTP run rotates through; none of them is connected, so the
/// run measures the write path, not the fan-out.
const RECIPIENTS: usize = 100;

/// `workers` keep-alive clients POSTing personal notifications back to back.
pub async fn http(target: &Target, workers: usize, seconds: f64) -> Result<Throughput> {
    let sender = target.sender();
    let recipients = RECIPIENTS.min(target.users()).max(1);
    let started = Instant::now();
    let done = closed_loop(
        target.addr,
        workers,
        Duration::from_secs_f64(seconds),
        Arc::new(AtomicBool::new(false)),
        Arc::new(move |seq| sender.personal(seq as usize % recipients, "durable")),
        false,
    )
    .await?;
    let elapsed = started.elapsed().as_secs_f64();
    Ok(Throughput {
        workers,
        seconds: elapsed,
        accepted: done.accepted,
        per_s: done.accepted as f64 / elapsed,
        latency: Latency::of(&done.ack),
    })
}

/// `workers` tasks calling `Store::insert_notification` on a fresh SQLite
/// database in `dir`, in this process: the write path without HTTP, auth or JSON.
pub async fn sqlite_store(dir: &Path, workers: usize, seconds: f64) -> Result<Throughput> {
    let seeded = crate::seed::herald(dir, 1).await?;
    let recipient = seeded.users[0].name.clone();
    let store = crate::seed::open_sqlite(dir).await?;
    store_writes(store, vec![recipient], workers, seconds).await
}

/// T11 on a database created in the PostgreSQL at `admin_url` and dropped
/// after: one recipient per notification, then `batch` recipients (one statement
/// writes all their rows).
pub async fn postgres_store(
    admin_url: &str,
    batch: usize,
    workers: usize,
    seconds: f64,
) -> Result<Postgres> {
    // Dropped (with the database) when this returns.
    let database = herald_testkit::postgres::TestDatabase::create_at(admin_url).await;
    let measured = async {
        let store = PostgresStore::open(&database.url, crate::seed::drained_feed()).await?;
        let store: Arc<dyn Store> = Arc::new(store);
        let recipients = crate::seed::plain_users(&store, batch).await?;
        let single =
            store_writes(store.clone(), recipients[..1].to_vec(), workers, seconds).await?;
        let batched = store_writes(store, recipients, workers, seconds).await?;
        Ok::<_, Error>(Postgres {
            single,
            batched,
            recipients_per_batch: batch,
        })
    }
    .await;
    drop(database);
    measured
}

/// `workers` tasks inserting notifications for `recipients` back to back.
async fn store_writes(
    store: Arc<dyn Store>,
    recipients: Vec<String>,
    workers: usize,
    seconds: f64,
) -> Result<Throughput> {
    let count = Arc::new(AtomicU64::new(0));
    let limit = Duration::from_secs_f64(seconds);
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let (store, count, recipients) = (store.clone(), count.clone(), recipients.clone());
        tasks.spawn(async move {
            let mut latency = histogram();
            while started.elapsed() < limit {
                let t = Instant::now();
                let inserted = store
                    .insert_notification(NewNotification {
                        audience: Audience::Users(recipients.clone()),
                        category: None,
                        title: "b".into(),
                        content: "durable".into(),
                        link: None,
                        priority: 3,
                        desktop: false,
                        sender: None,
                    })
                    .await;
                if inserted.is_ok() {
                    count.fetch_add(1, Ordering::Relaxed);
                    latency.saturating_record((t.elapsed().as_micros() as u64).max(1));
                }
            }
            latency
        });
    }
    let mut latency = histogram();
    while let Some(done) = tasks.join_next().await {
        let h = done.map_err(|e| Error::Setup(e.to_string()))?;
        let _ = latency.add(&h);
    }
    let elapsed = started.elapsed().as_secs_f64();
    let accepted = count.load(Ordering::Relaxed);
    Ok(Throughput {
        workers,
        seconds: elapsed,
        accepted,
        per_s: accepted as f64 / elapsed,
        latency: Latency::of(&latency),
    })
}
