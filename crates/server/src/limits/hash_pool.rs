//! The threads that hash passwords.
//!
//! argon2id is slow and takes 19 MiB per hash on purpose. Run on tokio's shared
//! blocking pool, a login flood queued without bound (memory grew by gigabytes)
//! and starved the store's reads, which use that pool too. Here hashing has its
//! own few threads, and work that finds them all busy is refused at once
//! instead of queueing: the caller answers `429` and the client comes back.
//! A caller claims its thread before doing anything else (a login claims it
//! before reading the user), so a refused attempt costs nothing. One client
//! address may hold at most half of the threads, so a single flooding address
//! always leaves room for everyone else, and the threads run at a lower CPU
//! priority than the ones serving requests: a flood of hashes slows other
//! hashes, not every other request.

use parking_lot::Mutex;
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::{oneshot, OwnedSemaphorePermit, Semaphore};

use crate::metrics::Metrics;
use crate::{Error, Result};

/// What a refused caller is told to wait: a hash takes tens of milliseconds.
const RETRY_AFTER: Duration = Duration::from_secs(1);
/// The hashing threads' nice value (request threads keep 0).
const NICENESS: libc::c_int = 10;

pub struct HashPool {
    threads: Arc<rayon::ThreadPool>,
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
            .start_handler(|_| lower_priority())
            .build()
            .map_err(|e| Error::Internal(format!("starting the hashing threads: {e}")))?;
        Ok(Self {
            threads: Arc::new(threads),
            slots: Arc::new(Semaphore::new(size)),
            per_client: Arc::default(),
            per_client_max: (size / 2).max(1),
            metrics,
        })
    }

    /// A free hashing thread for `client`, held until the returned claim runs
    /// its work or is dropped; with every thread busy, or `client`'s share in
    /// use, [`Error::RateLimited`] at once. Work for no client (an admin's
    /// change) only needs a free thread.
    pub fn claim(&self, client: Option<IpAddr>) -> Result<Claim> {
        self.try_claim(client).ok_or_else(|| {
            self.metrics.hash_pool_saturated.inc();
            Error::RateLimited {
                message: "the server is busy checking passwords; try again in a moment".into(),
                retry_after: RETRY_AFTER,
            }
        })
    }

    fn try_claim(&self, client: Option<IpAddr>) -> Option<Claim> {
        if let Some(ip) = client {
            let mut per_client = self.per_client.lock();
            let running = per_client.entry(ip).or_default();
            if *running >= self.per_client_max {
                return None;
            }
            *running += 1;
        }
        let mut claim = Claim {
            threads: self.threads.clone(),
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

/// Lowers the calling thread's CPU priority (on Linux `setpriority` with a
/// thread id acts on that thread alone).
fn lower_priority() {
    // SAFETY: gettid and setpriority only read and change this thread's nice value.
    #[allow(unsafe_code)]
    let changed = unsafe {
        let thread = libc::gettid() as libc::id_t;
        libc::setpriority(libc::PRIO_PROCESS, thread, NICENESS)
    };
    if changed != 0 {
        tracing::debug!("could not lower the priority of a hashing thread");
    }
}

/// A hashing thread and its client's share, held from the claim until the
/// work is done; both are given back on drop.
pub struct Claim {
    threads: Arc<rayon::ThreadPool>,
    client: Option<IpAddr>,
    per_client: Arc<Mutex<HashMap<IpAddr, usize>>>,
    slot: Option<OwnedSemaphorePermit>,
    metrics: Arc<Metrics>,
}

impl Claim {
    /// Runs `work` on the claimed thread and returns its result.
    pub async fn run<T, F>(self, work: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce() -> T + Send + 'static,
    {
        let (done, result) = oneshot::channel();
        let threads = self.threads.clone();
        threads.spawn(move || {
            let result = work();
            // Free before the caller hears back, so its next call finds room.
            drop(self);
            let _ = done.send(result);
        });
        result
            .await
            .map_err(|_| Error::Internal("a password-hashing job failed".into()))
    }
}

impl Drop for Claim {
    fn drop(&mut self) {
        if self.slot.take().is_some() {
            self.metrics.hash_pool_busy.dec();
        }
        if let Some(ip) = self.client {
            let mut per_client = self.per_client.lock();
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
            jobs.push(tokio::spawn(
                async move { pool.claim(None)?.run(job).await },
            ));
        }
        while pool.slots.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        for _ in 0..20 {
            let refused = pool.claim(None);
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
        assert_eq!(pool.claim(None).unwrap().run(|| 7).await.unwrap(), 7);
    }

    #[tokio::test]
    async fn one_client_holds_at_most_half_the_threads() {
        let pool = Arc::new(HashPool::new(2, Arc::new(Metrics::default())).unwrap());
        let flooder = Some(IpAddr::from([192, 0, 2, 1]));
        let release = Arc::new(std::sync::Barrier::new(2));
        let job = slow_job(Arc::default(), Arc::default(), release.clone());
        let held = {
            let pool = pool.clone();
            tokio::spawn(async move { pool.claim(flooder)?.run(job).await })
        };
        while pool.slots.available_permits() > 1 {
            tokio::task::yield_now().await;
        }
        assert!(pool.claim(flooder).is_err());
        let someone_else = Some(IpAddr::from([192, 0, 2, 2]));
        pool.claim(someone_else).unwrap().run(|| ()).await.unwrap();
        tokio::task::spawn_blocking(move || release.wait())
            .await
            .unwrap();
        held.await.unwrap().unwrap();
        assert!(pool.per_client.lock().is_empty());
    }
}
