//! The threads that hash passwords.
//!
//! argon2id is slow and takes 19 MiB per hash on purpose. Run on tokio's shared
//! blocking pool, a login flood queued without bound (memory grew by gigabytes)
//! and starved the store's reads, which use that pool too. Here hashing has its
//! own few threads, and work that finds them all busy is refused at once
//! instead of queueing: the caller answers `429` and the client comes back.
//! One client address may hold at most half of them, so a single flooding
//! address always leaves room for everyone else.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use super::lock;
use crate::metrics::Metrics;
use crate::{Error, Result};

/// What a refused caller is told to wait: a hash takes tens of milliseconds.
const RETRY_AFTER: Duration = Duration::from_secs(1);

pub struct HashPool {
    threads: rayon::ThreadPool,
    /// One permit per thread: a job runs only with one, so nothing ever queues.
    slots: Arc<Semaphore>,
    /// Jobs running per client address.
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    per_client_max: usize,
    metrics: Arc<Metrics>,
}

impl HashPool {
    pub fn new(size: usize, metrics: Arc<Metrics>) -> Result<Self> {
        let threads = rayon::ThreadPoolBuilder::new()
            .num_threads(size)
            .thread_name(|i| format!("herald-hash-{i}"))
            .panic_handler(|_| tracing::error!("a password-hashing job panicked"))
            .build()
            .map_err(|e| Error::Internal(format!("starting the hashing threads: {e}")))?;
        Ok(Self {
            threads,
            slots: Arc::new(Semaphore::new(size)),
            per_client: Arc::default(),
            per_client_max: (size / 2).max(1),
            metrics,
        })
    }

    /// Runs `work` on a free hashing thread and returns its result; with every
    /// thread busy, or `client`'s share in use, fails at once with
    /// [`Error::RateLimited`]. Work for no client (an admin's change) only
    /// needs a free thread.
    pub async fn run<T, F>(&self, client: Option<IpAddr>, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let claim = self.claim(client).ok_or_else(|| {
            self.metrics.hash_pool_saturated.inc();
            Error::RateLimited {
                message: "the server is busy checking passwords; try again in a moment".into(),
                retry_after: RETRY_AFTER,
            }
        })?;
        let (done, result) = oneshot::channel();
        self.threads.spawn(move || {
            let result = work();
            // Free before the caller hears back, so its next call finds room.
            drop(claim);
            let _ = done.send(result);
        });
        result
            .await
            .map_err(|_| Error::Internal("a password-hashing job failed".into()))
    }

    fn claim(&self, client: Option<IpAddr>) -> Option<Claim> {
        if let Some(ip) = client {
            let mut per_client = lock(&self.per_client);
            let running = per_client.entry(ip).or_default();
            if *running >= self.per_client_max {
                return None;
            }
            *running += 1;
        }
        let mut claim = Claim {
            client,
            per_client: self.per_client.clone(),
            slot: None,
            metrics: self.metrics.clone(),
        };
        // Dropping the claim gives the client's share back if no slot is free.
        claim.slot = Some(self.slots.clone().try_acquire_owned().ok()?);
        self.metrics.hash_pool_busy.inc();
        Some(claim)
    }
}

/// A running job's thread and its client's share; both are given back on drop.
struct Claim {
    client: Option<IpAddr>,
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    slot: Option<OwnedSemaphorePermit>,
    metrics: Arc<Metrics>,
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.slot.take().is_some() {
            self.metrics.hash_pool_busy.dec();
        }
        if let Some(ip) = self.client {
            let mut per_client = lock(&self.per_client);
            if let Some(running) = per_client.get_mut(&ip) {
                *running -= 1;
                if *running == 0 {
                    per_client.remove(&ip);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A job that holds its thread until `release` is sent, counting how many
    /// run at once.
    fn slow_job(
        running: Arc<AtomicUsize>,
        peak: Arc<AtomicUsize>,
        release: Arc<std::sync::Barrier>,
    ) -> impl FnOnce() + Send + 'static {
        move || {
            let now = running.fetch_add(1, Ordering::SeqCst) + 1;
            peak.fetch_max(now, Ordering::SeqCst);
            release.wait();
            running.fetch_sub(1, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn a_full_pool_refuses_at_once_and_never_runs_more_than_its_size() {
        let pool = Arc::new(HashPool::new(2, Arc::new(Metrics::default())).unwrap());
        let running = Arc::<AtomicUsize>::default();
        let peak = Arc::<AtomicUsize>::default();
        // Two jobs (one per thread) wait at the barrier with the test.
        let release = Arc::new(std::sync::Barrier::new(3));
        let mut jobs = Vec::new();
        for _ in 0..2 {
            let job = slow_job(running.clone(), peak.clone(), release.clone());
            let pool = pool.clone();
            jobs.push(tokio::spawn(async move { pool.run(None, job).await }));
        }
        while pool.slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..20 {
            let refused = pool.run(None, || ()).await;
            assert!(matches!(refused, Err(Error::RateLimited { .. })));
        }
        tokio::task::spawn_blocking(move || release.wait())
            .await
            .unwrap();
        for job in jobs {
            job.await.unwrap().unwrap();
        }
        assert_eq!(peak.load(Ordering::SeqCst), 2);
        assert_eq!(pool.metrics.hash_pool_saturated.get(), 20);
        assert_eq!(pool.run(None, || 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn one_client_holds_at_most_half_the_threads() {
        let pool = Arc::new(HashPool::new(2, Arc::new(Metrics::default())).unwrap());
        let flooder = Some(IpAddr::from([192, 0, 2, 1]));
        let release = Arc::new(std::sync::Barrier::new(2));
        let job = slow_job(Arc::default(), Arc::default(), release.clone());
        let held = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.run(flooder, job).await })
        };
        while pool.slots.available_permits() > 1 {
            tokio::task::yield_now().await;
        }
        assert!(pool.run(flooder, || ()).await.is_err());
        let someone_else = Some(IpAddr::from([192, 0, 2, 2]));
        pool.run(someone_else, || ()).await.unwrap();
        tokio::task::spawn_blocking(move || release.wait())
            .await
            .unwrap();
        held.await.unwrap().unwrap();
        assert!(lock(&pool.per_client).is_empty());
    }
}
