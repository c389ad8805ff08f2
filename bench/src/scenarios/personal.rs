//! T6, T7: personal notifications at constant rates, POST → receipt; and the
//! same measurement for any request whose stamp reaches receivers (T8's chat).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;

use crate::http::Request;
use crate::load::{open_loop, Schedule};
use crate::procstat;
use crate::receivers::Receivers;
use crate::report::{histogram, Latency, Personal};
use crate::stamp::{self, Clock, Stamp};
use crate::target::Target;
use crate::Result;

/// The first message of a run is due this long after the run starts.
const LEAD: Duration = Duration::from_millis(200);

/// Builds the request for message `seq` around its stamped content.
pub type Stamped = Arc<dyn Fn(u64, &str) -> Request + Send + Sync>;

/// Receipts of the current run; earlier runs' stragglers are ignored by seq.
struct Tracker {
    clock: Clock,
    /// Stamps below this belong to an earlier run.
    first_seq: AtomicU64,
    received: AtomicU64,
    last_ns: AtomicU64,
    latency: Mutex<Histogram<u64>>,
    from_sent: Mutex<Histogram<u64>>,
}

impl Tracker {
    fn record(&self, stamp: Stamp) {
        if stamp.seq < self.first_seq.load(Ordering::Relaxed) {
            return;
        }
        let now = self.clock.now_ns();
        self.received.fetch_add(1, Ordering::Relaxed);
        self.last_ns.fetch_max(now, Ordering::Relaxed);
        if let Ok(mut h) = self.latency.lock() {
            h.saturating_record((now.saturating_sub(stamp.scheduled_ns) / 1000).max(1));
        }
        if let Ok(mut h) = self.from_sent.lock() {
            h.saturating_record((now.saturating_sub(stamp.sent_ns) / 1000).max(1));
        }
    }
}

/// Connected receivers that runs at several rates share.
pub struct Bench<'a> {
    target: &'a Target,
    receivers: Receivers,
    tracker: Arc<Tracker>,
    next_seq: u64,
}

impl<'a> Bench<'a> {
    /// Connects users `0..users` of `target`.
    pub async fn connect(target: &'a Target, users: usize) -> Result<Self> {
        let tracker = Arc::new(Tracker {
            clock: Clock::new(),
            first_seq: AtomicU64::new(0),
            received: AtomicU64::new(0),
            last_ns: AtomicU64::new(0),
            latency: Mutex::new(histogram()),
            from_sent: Mutex::new(histogram()),
        });
        let sink = tracker.clone();
        let receivers = Receivers::connect(
            target,
            users,
            Arc::new(move |_, text| {
                if let Some(stamp) = stamp::find(text) {
                    sink.record(stamp);
                }
            }),
        )
        .await?;
        tokio::time::sleep(Duration::from_secs(1)).await;
        Ok(Self {
            target,
            receivers,
            tracker,
            next_seq: 0,
        })
    }

    /// Sends `rate`/s for `seconds`, message `k` to user `k % users`, and waits
    /// up to `drain` for the last receipts.
    pub async fn run(&mut self, rate: f64, seconds: f64, drain: Duration) -> Result<Personal> {
        let users = self.receivers.connected.max(1);
        let sender = self.target.sender();
        let make =
            move |seq: u64, content: &str| sender.personal((seq % users as u64) as usize, content);
        self.run_with(rate, seconds, drain, Arc::new(make), 1).await
    }

    /// Sends `rate`/s for `seconds`, message `seq` built by `make` around its
    /// stamped content and received by `receivers_each` connections, and waits
    /// up to `drain` for the last receipts.
    pub async fn run_with(
        &mut self,
        rate: f64,
        seconds: f64,
        drain: Duration,
        make: Stamped,
        receivers_each: u64,
    ) -> Result<Personal> {
        let count = (rate * seconds).round().max(1.0) as u64;
        let users = self.receivers.connected.max(1);
        let first_seq = self.next_seq;
        self.next_seq += count;
        let t = &self.tracker;
        t.first_seq.store(first_seq, Ordering::Relaxed);
        t.received.store(0, Ordering::Relaxed);
        t.last_ns.store(0, Ordering::Relaxed);
        for h in [&t.latency, &t.from_sent] {
            if let Ok(mut h) = h.lock() {
                h.reset();
            }
        }
        let pid = self.target.pid();
        let cpu_before = procstat::sample(pid)?;
        let start_ns = t.clock.now_ns() + LEAD.as_nanos() as u64;
        // Enough connections for rate × a few ms in flight.
        let workers = ((rate / 40.0) as usize).clamp(16, 512);
        let sent = open_loop(
            self.target.addr,
            t.clock,
            Schedule {
                rate,
                count,
                workers,
                start_ns,
            },
            Arc::new(move |s: Stamp| {
                let seq = s.seq + first_seq;
                make(seq, &stamp::content(Stamp { seq, ..s }))
            }),
            self.target.sender().accepted(),
        )
        .await?;
        let deadline = Instant::now() + drain;
        let expected = sent.accepted * receivers_each;
        while t.received.load(Ordering::Relaxed) < expected && Instant::now() < deadline {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let cpu_after = procstat::sample(pid)?;
        let received = t.received.load(Ordering::Relaxed);
        let span_s = (t.last_ns.load(Ordering::Relaxed).saturating_sub(start_ns) as f64 / 1e9)
            .max(count as f64 / rate);
        let latency = t
            .latency
            .lock()
            .map(|h| Latency::of(&h))
            .unwrap_or_default();
        let from_actual_send = t
            .from_sent
            .lock()
            .map(|h| Latency::of(&h))
            .unwrap_or_default();
        let result = Personal {
            rate,
            users,
            accepted: sent.accepted,
            refused: sent.refused,
            received,
            expected,
            achieved_per_s: received as f64 / receivers_each as f64 / span_s,
            latency,
            from_actual_send,
            ack: Latency::of(&sent.ack),
            server_cpu_s: procstat::cpu_between(cpu_before, cpu_after).as_secs_f64(),
            server_system_share: procstat::system_share(cpu_before, cpu_after),
            first_error: sent.first_error,
        };
        eprintln!(
            "    {rate:.0}/s: p50 {:.2} p99 {:.2} ms (from actual send p99 {:.2}); ack p99 {:.2} ms; {} of {} received",
            result.latency.p50_ms,
            result.latency.p99_ms,
            result.from_actual_send.p99_ms,
            result.ack.p99_ms,
            received,
            expected
        );
        Ok(result)
    }

    /// T7: runs `rates` in increasing order until one fails p99 ≤ 10 ms.
    pub async fn step_search(
        &mut self,
        rates: &[f64],
        seconds: f64,
        drain: Duration,
    ) -> Result<(Vec<Personal>, Option<f64>)> {
        let mut steps = Vec::new();
        let mut best = None;
        for &rate in rates {
            let step = self.run(rate, seconds, drain).await?;
            let passed = step.passes_t7();
            steps.push(step);
            if !passed {
                break;
            }
            best = Some(rate);
        }
        Ok((steps, best))
    }

    pub async fn close(self) {
        self.receivers.close().await;
    }
}
