//! T16: concurrent wrong-password logins against the shipped login limits,
//! while a healthy user reads their counts at a steady rate.
//!
//! Each run starts a fresh server that trusts 127.0.0.1 as its reverse proxy,
//! so the flood can come from one client address or from one per loop (named
//! in `X-Forwarded-For`; nothing is sent to those addresses). Server memory is
//! sampled throughout; past [`RSS_GUARD_KIB`] the server is killed, so a
//! server without bounds cannot take the shared machine down with it.

use std::path::Path;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use crate::http::Request;
use crate::load::{closed_loop, open_loop, Schedule};
use crate::procstat;
use crate::report::{Latency, LoginFlood};
use crate::seed::Seeded;
use crate::stamp::Clock;
use crate::target::{Launch, Target};
use crate::Result;

/// A server past this resident size is killed (4 GiB).
const RSS_GUARD_KIB: u64 = 4 * 1024 * 1024;
/// How often the server's memory is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(20);
/// Connections the healthy user spreads its requests over.
const HEALTHY_CONNECTIONS: usize = 4;

/// The size of one run.
#[derive(Debug, Clone, Copy)]
pub struct Flood {
    /// Concurrent login loops.
    pub attackers: usize,
    /// Client addresses they come from: 1, or one per loop.
    pub addresses: usize,
    pub seconds: f64,
    /// The healthy user's requests per second.
    pub healthy_rate: f64,
}

impl Flood {
    /// `attackers` loops from one address, then the same from one address each.
    pub fn from_one_and_from_each(attackers: usize, seconds: f64, healthy_rate: f64) -> Vec<Self> {
        [1, attackers]
            .into_iter()
            .map(|addresses| Self {
                attackers,
                addresses,
                seconds,
                healthy_rate,
            })
            .collect()
    }
}

/// The address of loop `i`, from the benchmarking range (RFC 2544).
fn address(i: usize) -> String {
    format!("198.18.{}.{}", (i / 256) % 256, i % 256)
}

pub async fn run(
    launch: &Launch,
    data_dir: &Path,
    seeded: Arc<Seeded>,
    flood: Flood,
) -> Result<LoginFlood> {
    let proxy = [("HERALD_TRUSTED_PROXIES", r#"["127.0.0.1"]"#)];
    let target = Target::herald_with(launch, data_dir, seeded.clone(), &proxy).await?;
    let pid = target.pid();
    let rss_before_kib = procstat::sample(pid)?.rss_kib;
    let stop = Arc::new(AtomicBool::new(false));
    let peak = Arc::new(AtomicU64::new(rss_before_kib));
    let killed = Arc::new(AtomicBool::new(false));
    let sampler = tokio::spawn(watch_memory(
        pid,
        stop.clone(),
        peak.clone(),
        killed.clone(),
    ));

    let addresses = flood.addresses.max(1);
    let attack = Arc::new(move |seq: u64| {
        let n = seq as usize % addresses;
        // Each address tries its own made-up user, so the per-username
        // backoff does not stop the flood before the password pool is tested.
        let body = format!(r#"{{"username":"ghost{n}","password":"not-the-password"}}"#);
        Request {
            forwarded_for: Some(address(n)),
            ..Request::post("/api/v1/auth/login", None, body)
        }
    });
    let token = seeded.users.first().map(|u| u.token.clone());
    let healthy = Arc::new(move |_| Request {
        bearer: token.clone(),
        ..Request::get("/api/v1/notifications/counts")
    });
    let clock = Clock::new();
    let schedule = Schedule {
        rate: flood.healthy_rate,
        count: (flood.healthy_rate * flood.seconds).max(1.0) as u64,
        workers: HEALTHY_CONNECTIONS,
        start_ns: clock.now_ns() + 100_000_000,
    };
    let limit = Duration::from_secs_f64(flood.seconds);
    let (attacked, reads) = tokio::join!(
        closed_loop(
            target.addr,
            flood.attackers,
            limit,
            stop.clone(),
            attack,
            false
        ),
        open_loop(target.addr, clock, schedule, healthy, |status| status
            == 200),
    );
    stop.store(true, Ordering::Relaxed);
    let _ = sampler.await;
    target.stop().await?;
    let attacked = attacked?;
    let reads = reads?;
    Ok(LoginFlood {
        addresses,
        attackers: flood.attackers,
        seconds: flood.seconds,
        attempts: attacked.accepted + attacked.refused,
        answers: attacked.refused_by_status,
        rss_before_kib,
        rss_peak_kib: peak.load(Ordering::Relaxed),
        killed_at_guard: killed.load(Ordering::Relaxed),
        healthy: Latency::of(&reads.ack),
        healthy_failed: reads.refused,
    })
}

/// Keeps the peak RSS of `pid` until `stop`; kills it past the guard.
async fn watch_memory(
    pid: u32,
    stop: Arc<AtomicBool>,
    peak: Arc<AtomicU64>,
    killed: Arc<AtomicBool>,
) {
    while !stop.load(Ordering::Relaxed) {
        let Ok(sample) = procstat::sample(pid) else {
            return;
        };
        peak.fetch_max(sample.rss_kib, Ordering::Relaxed);
        if sample.rss_kib > RSS_GUARD_KIB {
            // SAFETY: signalling the server this bench started, by its pid.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(pid as i32, libc::SIGKILL)
            };
            killed.store(true, Ordering::Relaxed);
            stop.store(true, Ordering::Relaxed);
            return;
        }
        tokio::time::sleep(SAMPLE_EVERY).await;
    }
}
