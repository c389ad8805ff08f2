//! The front door: accepts TCP connections, caps how many are open, serves each
//! one (`crate::connection`), and on shutdown drains them within a deadline.
//!
//! `axum::serve` has no timeouts and no cap, so idle sockets and half-sent
//! request heads piled up until the process ran out of file descriptors and
//! even `/healthz` failed. Here:
//! - at most `max_connections` sockets are open (WebSockets included); a new
//!   one past that gets a `503` and is closed at once, while a descriptor is
//!   still there to answer with;
//! - a failing `accept` (out of descriptors or memory) is retried after a
//!   growing pause instead of spinning or ending the loop;
//! - shutdown stops accepting, closes idle connections (a half-sent head
//!   included) at once, lets requests in flight and WebSockets finish for at
//!   most `shutdown_timeout_s`, then closes what is left.

use std::future::Future;
use std::io;
use std::sync::{Arc, LazyLock};
use std::time::Duration;

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::connection::{self, Stopping, Timeouts};
use crate::metrics::Metrics;
use crate::Config;

/// Descriptors kept for everything but client sockets when `max_connections`
/// is derived from the open-file limit: database files, the Redis and
/// PostgreSQL links, logs, and the answer to a refused socket.
const RESERVED_FDS: u64 = 256;
/// The least connections a derived cap allows.
const MIN_DERIVED_CONNECTIONS: u64 = 64;
/// Pauses after a failed `accept`, doubling up to the longest.
const ACCEPT_PAUSE: Duration = Duration::from_millis(10);
const ACCEPT_PAUSE_MAX: Duration = Duration::from_secs(1);

/// What a socket over the cap is told before it is closed.
static OVER_CAPACITY: LazyLock<Vec<u8>> = LazyLock::new(|| {
    let body = r#"{"error":{"code":"too_many_connections","message":"the server is at its connection limit; try again shortly"}}"#;
    format!(
        "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\n\
         retry-after: 1\r\nconnection: close\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    )
    .into_bytes()
});

/// How the listener runs.
pub struct Settings {
    pub max_connections: u32,
    pub timeouts: Timeouts,
    pub shutdown_timeout: Duration,
}

impl Settings {
    pub fn from_config(config: &Config) -> Self {
        let max_connections = config
            .max_connections
            .unwrap_or_else(derived_max_connections);
        if let Some(limit) = open_file_limit() {
            if u64::from(max_connections) + RESERVED_FDS > limit {
                tracing::warn!(
                    max_connections,
                    open_file_limit = limit,
                    "max_connections leaves little room below the open-file limit; \
                     raise the limit (LimitNOFILE=) or lower max_connections"
                );
            }
        }
        Self {
            max_connections,
            timeouts: Timeouts {
                header_read: Duration::from_secs(config.header_read_timeout_s.into()),
                keep_alive: Duration::from_secs(config.keep_alive_timeout_s.into()),
            },
            shutdown_timeout: Duration::from_secs(config.shutdown_timeout_s.into()),
        }
    }
}

/// The soft limit on open files (`ulimit -n`), if it can be read.
fn open_file_limit() -> Option<u64> {
    let mut limit = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit only writes the struct it is given.
    #[allow(unsafe_code)]
    let read = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) };
    (read == 0 && limit.rlim_cur != libc::RLIM_INFINITY).then_some(limit.rlim_cur)
}

fn derived_max_connections() -> u32 {
    let limit = open_file_limit().unwrap_or(1024);
    let derived = limit
        .saturating_sub(RESERVED_FDS)
        .max(MIN_DERIVED_CONNECTIONS);
    u32::try_from(derived).unwrap_or(u32::MAX)
}

/// Serves `router` on `listener` until `shutdown` resolves; `cancel` is the
/// server's shutdown token (WebSockets and long-polls end on it). Returns once
/// every connection has closed or the shutdown deadline has passed.
pub async fn run(
    listener: TcpListener,
    router: Router,
    settings: Settings,
    shutdown: impl Future<Output = ()>,
    cancel: CancellationToken,
    metrics: Arc<Metrics>,
) {
    let slots = Arc::new(Semaphore::new(settings.max_connections as usize));
    let connections = TaskTracker::new();
    let stopping = Stopping {
        drain: cancel.clone(),
        force: CancellationToken::new(),
    };
    tokio::pin!(shutdown);
    let mut pause = ACCEPT_PAUSE;
    loop {
        let accepted = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => accepted,
        };
        let (stream, peer) = match accepted {
            Ok(accepted) => {
                pause = ACCEPT_PAUSE;
                accepted
            }
            // That one connection failed before we took it; the next may not.
            Err(e) if is_connection_error(&e) => continue,
            Err(e) => {
                tracing::warn!(error = %e, "accepting connections failed; pausing {pause:?}");
                tokio::select! {
                    _ = &mut shutdown => break,
                    _ = tokio::time::sleep(pause) => {}
                }
                pause = (pause * 2).min(ACCEPT_PAUSE_MAX);
                continue;
            }
        };
        let Ok(slot) = slots.clone().try_acquire_owned() else {
            refuse(&stream);
            metrics.http_connections_refused.inc();
            continue;
        };
        connections.spawn(connection::serve(
            stream,
            peer,
            slot,
            router.clone(),
            settings.timeouts,
            stopping.clone(),
            metrics.clone(),
        ));
    }
    drop(listener);
    cancel.cancel();
    connections.close();
    // Every slot back means every socket, upgraded ones included, is closed.
    let all_closed = async {
        connections.wait().await;
        let _ = slots.acquire_many(settings.max_connections).await;
    };
    if tokio::time::timeout(settings.shutdown_timeout, all_closed)
        .await
        .is_err()
    {
        let open = settings.max_connections as usize - slots.available_permits();
        tracing::warn!(
            open,
            "shutdown deadline of {:?} passed; closing the connections left",
            settings.shutdown_timeout
        );
        stopping.force.cancel();
        connections.wait().await;
    }
}

/// Errors of `accept` that concern only the connection being accepted.
fn is_connection_error(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::ConnectionRefused
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::Interrupted
    )
}

/// Answers a socket over the cap with a `503` if its buffer takes it at once,
/// then closes it (on drop).
fn refuse(stream: &TcpStream) {
    let _ = stream.try_write(&OVER_CAPACITY);
}
