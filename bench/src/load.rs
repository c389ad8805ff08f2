//! Request generators: open-loop at a constant rate (for latency) and
//! closed-loop as fast as the server answers (for throughput).

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use hdrhistogram::Histogram;
use tokio::task::JoinSet;

use crate::http::{json_id, Http, Request};
use crate::report::histogram;
use crate::stamp::{Clock, Stamp};
use crate::{Error, Result};

/// Builds the request for a message (its stamp goes into the content).
pub type MakeRequest = Arc<dyn Fn(Stamp) -> Request + Send + Sync>;

/// What an open-loop run sent.
pub struct Sent {
    pub accepted: u64,
    pub refused: u64,
    /// Scheduled send → response, µs (for Herald: → durable 201).
    pub ack: Histogram<u64>,
    pub first_error: Option<String>,
}

/// When and how much an open-loop run sends.
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    /// Requests per second.
    pub rate: f64,
    pub count: u64,
    /// Connections (each with one request in flight).
    pub workers: usize,
    /// When the first request is due, on the run's clock.
    pub start_ns: u64,
}

/// Sends `count` requests at `rate`/s starting at `start_ns` on `clock`.
///
/// Message `seq` is due at `start_ns + seq / rate` whatever happened before it:
/// a slow response delays the worker, not the schedule, and the delay shows up
/// in every latency measured from the scheduled time (no coordinated omission).
/// `workers` connections must cover rate × latency, or the queue shows instead.
pub async fn open_loop(
    addr: SocketAddr,
    clock: Clock,
    schedule: Schedule,
    make: MakeRequest,
    accepted: fn(u16) -> bool,
) -> Result<Sent> {
    let Schedule {
        rate,
        count,
        workers,
        start_ns,
    } = schedule;
    let next = Arc::new(AtomicU64::new(0));
    let interval_ns = 1e9 / rate;
    let mut tasks = JoinSet::new();
    for _ in 0..workers.min(count as usize).max(1) {
        let mut http = Http::connect(addr).await?;
        let (next, make) = (next.clone(), make.clone());
        tasks.spawn(async move {
            let mut sent = Sent {
                accepted: 0,
                refused: 0,
                ack: histogram(),
                first_error: None,
            };
            loop {
                let seq = next.fetch_add(1, Ordering::Relaxed);
                if seq >= count {
                    return sent;
                }
                let scheduled_ns = start_ns + (seq as f64 * interval_ns) as u64;
                tokio::time::sleep_until(clock.at(scheduled_ns).into()).await;
                let request = make(Stamp {
                    seq,
                    scheduled_ns,
                    sent_ns: clock.now_ns(),
                });
                match http.send(&request).await {
                    Ok((status, _)) if accepted(status) => {
                        sent.accepted += 1;
                        let us = clock.now_ns().saturating_sub(scheduled_ns) / 1000;
                        sent.ack.saturating_record(us.max(1));
                    }
                    Ok((status, body)) => {
                        sent.refused += 1;
                        sent.first_error.get_or_insert_with(|| {
                            format!("status {status}: {}", String::from_utf8_lossy(&body))
                        });
                    }
                    Err(e) => {
                        sent.refused += 1;
                        sent.first_error.get_or_insert(e.to_string());
                        match Http::connect(addr).await {
                            Ok(fresh) => http = fresh,
                            Err(_) => return sent,
                        }
                    }
                }
            }
        });
    }
    let mut total = Sent {
        accepted: 0,
        refused: 0,
        ack: histogram(),
        first_error: None,
    };
    while let Some(done) = tasks.join_next().await {
        let sent = done.map_err(|e| Error::Setup(e.to_string()))?;
        total.accepted += sent.accepted;
        total.refused += sent.refused;
        let _ = total.ack.add(&sent.ack);
        if total.first_error.is_none() {
            total.first_error = sent.first_error;
        }
    }
    Ok(total)
}

/// What a closed-loop run got done.
pub struct Done {
    pub accepted: u64,
    pub refused: u64,
    /// How many refusals each status got.
    pub refused_by_status: std::collections::BTreeMap<u16, u64>,
    /// Request → response, µs.
    pub ack: Histogram<u64>,
    /// Ids from the accepted responses (`{"id":…}`), when asked for.
    pub ids: Vec<i64>,
}

/// `workers` connections each sending back to back until `stop` is set or
/// `limit` passes. A broken connection ends its worker (the server may have
/// been killed on purpose).
pub async fn closed_loop(
    addr: SocketAddr,
    workers: usize,
    limit: Duration,
    stop: Arc<AtomicBool>,
    make: Arc<dyn Fn(u64) -> Request + Send + Sync>,
    collect_ids: bool,
) -> Result<Done> {
    let clock = Clock::new();
    let next = Arc::new(AtomicU64::new(0));
    let mut tasks = JoinSet::new();
    for _ in 0..workers {
        let mut http = Http::connect(addr).await?;
        let (next, make, stop) = (next.clone(), make.clone(), stop.clone());
        tasks.spawn(async move {
            let mut done = Done {
                accepted: 0,
                refused: 0,
                refused_by_status: Default::default(),
                ack: histogram(),
                ids: Vec::new(),
            };
            while !stop.load(Ordering::Relaxed) && clock.at(0).elapsed() < limit {
                let request = make(next.fetch_add(1, Ordering::Relaxed));
                let started = clock.now_ns();
                match http.send(&request).await {
                    Ok((status, body)) if (200..300).contains(&status) => {
                        done.accepted += 1;
                        let us = (clock.now_ns() - started) / 1000;
                        done.ack.saturating_record(us.max(1));
                        if collect_ids {
                            if let Some(id) = json_id(&body) {
                                done.ids.push(id);
                            }
                        }
                    }
                    Ok((status, _)) => {
                        done.refused += 1;
                        *done.refused_by_status.entry(status).or_default() += 1;
                    }
                    Err(_) => return done,
                }
            }
            done
        });
    }
    let mut total = Done {
        accepted: 0,
        refused: 0,
        refused_by_status: Default::default(),
        ack: histogram(),
        ids: Vec::new(),
    };
    while let Some(done) = tasks.join_next().await {
        let done = done.map_err(|e| Error::Setup(e.to_string()))?;
        total.accepted += done.accepted;
        total.refused += done.refused;
        for (status, n) in done.refused_by_status {
            *total.refused_by_status.entry(status).or_default() += n;
        }
        let _ = total.ack.add(&done.ack);
        total.ids.extend(done.ids);
    }
    Ok(total)
}
