//! T1–T3: many authenticated WebSockets that do nothing, held for a while.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crate::procstat::{self, cpu_between};
use crate::receivers::Receivers;
use crate::report::Idle;
use crate::target::Target;
use crate::Result;

/// Lets the server finish allocating for the last connections before RSS is read.
const SETTLE: Duration = Duration::from_secs(2);
/// How often drops are checked during the hold (a progress line each time).
const CHECK_EVERY: Duration = Duration::from_secs(30);

/// Opens `n` connections, reads the server's RSS growth, holds them for `hold`
/// and counts the ones the server dropped.
pub async fn run(target: &Target, n: usize, hold: Duration) -> Result<Idle> {
    let pid = target.pid();
    let before = procstat::sample(pid)?;
    let started = Instant::now();
    let receivers = Receivers::connect(target, n, Arc::new(|_, _| {})).await?;
    let establish_s = started.elapsed().as_secs_f64();
    tokio::time::sleep(SETTLE).await;
    let after = procstat::sample(pid)?;
    let establish_cpu_us_per_connection =
        cpu_between(before, after).as_micros() as f64 / receivers.connected.max(1) as f64;
    eprintln!(
        "    {} connected in {establish_s:.2} s ({} failed, server CPU {establish_cpu_us_per_connection:.0} µs each); RSS {} → {} KiB; holding {} s",
        receivers.connected,
        receivers.failed,
        before.rss_kib,
        after.rss_kib,
        hold.as_secs()
    );
    let hold_started = Instant::now();
    while hold_started.elapsed() < hold {
        let left = hold.saturating_sub(hold_started.elapsed());
        tokio::time::sleep(left.min(CHECK_EVERY)).await;
        if !left.is_zero() && left > CHECK_EVERY {
            eprintln!(
                "    … {:.0} s held, {} dropped",
                hold_started.elapsed().as_secs_f64(),
                receivers.dropped()
            );
        }
    }
    let end = procstat::sample(pid)?;
    let dropped = receivers.dropped();
    let connected = receivers.connected;
    let result = Idle {
        attempted: n,
        connected,
        failed: receivers.failed,
        first_error: receivers.first_error.clone(),
        establish_s,
        establish_cpu_us_per_connection,
        rss_before_kib: before.rss_kib,
        rss_after_kib: after.rss_kib,
        kib_per_connection: after.rss_kib.saturating_sub(before.rss_kib) as f64
            / connected.max(1) as f64,
        hold_s: hold.as_secs_f64(),
        dropped,
        held: connected.saturating_sub(dropped),
        hold_cpu_s: cpu_between(after, end).as_secs_f64(),
        bench_rss_kib: procstat::sample(std::process::id())?.rss_kib,
    };
    receivers.close().await;
    Ok(result)
}
