//! T4, T5, T12: broadcasts to many connected users.
//!
//! Every receiver records its receipt time per broadcast; a broadcast's latency
//! is its LAST receiver's receipt minus its scheduled send time.

use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::load::{open_loop, Schedule};
use crate::procstat;
use crate::receivers::Receivers;
use crate::report::{histogram, Broadcast, Latency};
use crate::stamp::{self, Clock, Stamp};
use crate::target::Target;
use crate::Result;

/// Histogram shards, so receivers on both cores rarely wait for one lock.
const SHARDS: usize = 16;
/// Senders: a broadcast POST is cheap to issue, the fan-out is the work.
const SENDERS: usize = 4;
/// The first broadcast is due this long after the phase starts.
const LEAD: Duration = Duration::from_millis(200);

/// One burst of broadcasts at a constant rate.
#[derive(Debug, Clone, Copy)]
pub struct Phase {
    /// Broadcasts per second.
    pub rate: f64,
    pub count: u64,
}

/// Per-broadcast receipt state shared by every receiver.
struct Tracker {
    clock: Clock,
    received: Vec<AtomicU32>,
    last_ns: Vec<AtomicU64>,
    deliveries: AtomicU64,
    each: Vec<Mutex<Histogram<u64>>>,
}

impl Tracker {
    fn record(&self, receiver: usize, stamp: Stamp) {
        let now = self.clock.now_ns();
        let Some(slot) = self.received.get(stamp.seq as usize) else {
            return;
        };
        slot.fetch_add(1, Ordering::Relaxed);
        self.last_ns[stamp.seq as usize].fetch_max(now, Ordering::Relaxed);
        self.deliveries.fetch_add(1, Ordering::Relaxed);
        let us = now.saturating_sub(stamp.scheduled_ns) / 1000;
        if let Ok(mut h) = self.each[receiver % SHARDS].lock() {
            h.saturating_record(us.max(1));
        }
    }
}

/// Connects `users` receivers and runs each phase in turn on the same connections.
pub async fn run(
    target: &Target,
    users: usize,
    phases: &[Phase],
    drain: Duration,
) -> Result<Vec<Broadcast>> {
    let clock = Clock::new();
    let total: u64 = phases.iter().map(|p| p.count).sum();
    let tracker = Arc::new(Tracker {
        clock,
        received: (0..total).map(|_| AtomicU32::new(0)).collect(),
        last_ns: (0..total).map(|_| AtomicU64::new(0)).collect(),
        deliveries: AtomicU64::new(0),
        each: (0..SHARDS).map(|_| Mutex::new(histogram())).collect(),
    });
    let sink = tracker.clone();
    let started = Instant::now();
    let receivers = Receivers::connect(
        target,
        users,
        Arc::new(move |i, text| {
            if let Some(stamp) = stamp::find(text) {
                sink.record(i, stamp);
            }
        }),
    )
    .await?;
    eprintln!(
        "    {} receivers connected in {:.2} s ({} failed)",
        receivers.connected,
        started.elapsed().as_secs_f64(),
        receivers.failed
    );
    // Let the server finish its per-connection start-up before measuring.
    tokio::time::sleep(Duration::from_secs(1)).await;
    let mut results = Vec::new();
    let mut offset = 0;
    for phase in phases {
        let result = run_phase(target, &receivers, &tracker, *phase, offset, drain).await?;
        eprintln!(
            "    {:.0} broadcasts/s × {}: last receiver {:?}; {:.0} deliveries/s; {:.2} CPU-s per million",
            phase.rate,
            phase.count,
            (result.last_receiver.p50_ms, result.last_receiver.p99_ms),
            result.deliveries_per_s,
            result.cpu_s_per_million
        );
        results.push(result);
        offset += phase.count;
    }
    receivers.close().await;
    Ok(results)
}

async fn run_phase(
    target: &Target,
    receivers: &Receivers,
    tracker: &Arc<Tracker>,
    phase: Phase,
    offset: u64,
    drain: Duration,
) -> Result<Broadcast> {
    let clock = tracker.clock;
    for h in &tracker.each {
        if let Ok(mut h) = h.lock() {
            h.reset();
        }
    }
    let delivered_before = tracker.deliveries.load(Ordering::Relaxed);
    let connected = receivers.connected as u64;
    let pid = target.pid();
    let cpu_before = procstat::sample(pid)?;
    let start_ns = clock.now_ns() + LEAD.as_nanos() as u64;
    let sender = target.sender();
    let sent = open_loop(
        target.addr,
        clock,
        Schedule {
            rate: phase.rate,
            count: phase.count,
            workers: SENDERS,
            start_ns,
        },
        Arc::new(move |s: Stamp| {
            sender.broadcast(&stamp::content(Stamp {
                seq: s.seq + offset,
                ..s
            }))
        }),
        target.sender().accepted(),
    )
    .await?;
    let expected = sent.accepted * connected;
    let deadline = Instant::now() + drain;
    while tracker.deliveries.load(Ordering::Relaxed) - delivered_before < expected
        && Instant::now() < deadline
    {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let cpu_after = procstat::sample(pid)?;
    let deliveries = tracker.deliveries.load(Ordering::Relaxed) - delivered_before;

    let interval_ns = 1e9 / phase.rate;
    let mut last = histogram();
    let (mut complete, mut last_receipt) = (0, start_ns);
    for k in 0..phase.count {
        let seq = (offset + k) as usize;
        let scheduled = start_ns + (k as f64 * interval_ns) as u64;
        let at = tracker.last_ns[seq].load(Ordering::Relaxed);
        last_receipt = last_receipt.max(at);
        if connected > 0 && u64::from(tracker.received[seq].load(Ordering::Relaxed)) >= connected {
            complete += 1;
            last.saturating_record((at.saturating_sub(scheduled) / 1000).max(1));
        }
    }
    let mut each = histogram();
    for h in &tracker.each {
        if let Ok(h) = h.lock() {
            let _ = each.add(&*h);
        }
    }
    let elapsed_s = (last_receipt.saturating_sub(start_ns)) as f64 / 1e9;
    let cpu_s = procstat::cpu_between(cpu_before, cpu_after).as_secs_f64();
    Ok(Broadcast {
        users: receivers.connected + receivers.failed,
        connected: receivers.connected,
        broadcasts: phase.count,
        rate: phase.rate,
        accepted: sent.accepted,
        expected_deliveries: expected,
        deliveries,
        complete,
        last_receiver: Latency::of(&last),
        each_delivery: Latency::of(&each),
        deliveries_per_s: if elapsed_s > 0.0 {
            deliveries as f64 / elapsed_s
        } else {
            0.0
        },
        server_cpu_s: cpu_s,
        server_system_share: procstat::system_share(cpu_before, cpu_after),
        cpu_s_per_million: if deliveries > 0 {
            cpu_s / (deliveries as f64 / 1e6)
        } else {
            0.0
        },
        first_error: sent.first_error,
    })
}
