//! One TCP connection: HTTP/1.1 (with upgrades to WebSocket) under the
//! timeouts hyper does not keep itself.
//!
//! A watchdog closes the connection when it has no request in flight and
//! - has not sent a complete first request head `header_read` after it opened,
//! - has sent part of a later head and not the rest within `header_read`, or
//! - has sat idle between requests for `keep_alive`.
//!
//! A request in flight (a long-poll, a write waiting for its commit) is never
//! cut here; its body has its own deadline (`api::body`). An upgraded
//! WebSocket leaves hyper, and this watchdog, behind: the session keeps its own
//! heartbeat.

use parking_lot::Mutex;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use axum::extract::ConnectInfo;
use axum::Router;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::TcpStream;
use tokio::sync::OwnedSemaphorePermit;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt;

use crate::metrics::Metrics;

/// The timeouts of every connection.
#[derive(Debug, Clone, Copy)]
pub struct Timeouts {
    pub header_read: Duration,
    pub keep_alive: Duration,
}

/// How a connection ends when the server stops.
#[derive(Clone)]
pub struct Stopping {
    /// Stop taking requests: idle connections close at once (a half-sent head
    /// included), busy ones after their response.
    pub drain: CancellationToken,
    /// The drain deadline passed: close whatever is left.
    pub force: CancellationToken,
}

/// Serves `stream` until the client leaves, a timeout cuts it, or the server
/// stops. `slot` counts it against `max_connections` for as long as the socket
/// is open, upgraded or not.
pub async fn serve(
    stream: TcpStream,
    peer: SocketAddr,
    slot: OwnedSemaphorePermit,
    router: Router,
    timeouts: Timeouts,
    stopping: Stopping,
    metrics: Arc<Metrics>,
) {
    let activity = Arc::new(Activity::new());
    let io = Watched {
        stream,
        activity: activity.clone(),
        _open: Open::new(slot, metrics.clone()),
    };
    let service = hyper::service::service_fn({
        let activity = activity.clone();
        move |mut request: hyper::Request<Incoming>| {
            request.extensions_mut().insert(ConnectInfo(peer));
            let busy = activity.begin();
            let response = router.clone().oneshot(request);
            async move {
                let response = response.await;
                drop(busy);
                response
            }
        }
    });
    let connection = http1::Builder::new()
        .header_read_timeout(None)
        .serve_connection(TokioIo::new(io), service)
        .with_upgrades();
    tokio::pin!(connection);
    let mut draining = false;
    loop {
        let deadline = activity.deadline(timeouts);
        tokio::select! {
            finished = connection.as_mut() => {
                if let Err(e) = finished {
                    tracing::debug!(error = %e, %peer, "connection ended with an error");
                }
                return;
            }
            // Busy: nothing to time out; look again after the shortest timeout.
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(|| Instant::now() + timeouts.header_read)) => {
                if let Some(expired) = activity.expired(timeouts, Instant::now()) {
                    metrics.http_timeout(expired);
                    return;
                }
            }
            _ = stopping.drain.cancelled(), if !draining => {
                if activity.is_idle() {
                    return;
                }
                connection.as_mut().graceful_shutdown();
                draining = true;
            }
            _ = stopping.force.cancelled() => return,
        }
    }
}

/// What the watchdog knows of a connection.
struct Activity {
    state: Mutex<State>,
}

struct State {
    /// Requests handed to the router and not answered yet.
    in_flight: u32,
    /// Since when nothing has been in flight (the connection's start at first).
    idle_since: Instant,
    /// When the first byte of the next request head arrived, if one did.
    head_started: Option<Instant>,
    /// Whether a request was served: the first one gets `header_read` from the
    /// start, later ones `keep_alive` of idleness.
    served: bool,
}

impl Activity {
    fn new() -> Self {
        Self {
            state: Mutex::new(State {
                in_flight: 0,
                idle_since: Instant::now(),
                head_started: None,
                served: false,
            }),
        }
    }

    fn begin(self: &Arc<Self>) -> Busy {
        let mut state = self.state.lock();
        state.in_flight += 1;
        state.head_started = None;
        state.served = true;
        Busy(self.clone())
    }

    fn read_some(&self) {
        let mut state = self.state.lock();
        if state.in_flight == 0 && state.head_started.is_none() {
            state.head_started = Some(Instant::now());
        }
    }

    fn is_idle(&self) -> bool {
        self.state.lock().in_flight == 0
    }

    /// When the connection times out if nothing changes; `None` while busy.
    fn deadline(&self, timeouts: Timeouts) -> Option<Instant> {
        self.pending_timeout(timeouts).map(|(at, _)| at)
    }

    /// Which timeout has passed at `now`, if one has.
    fn expired(&self, timeouts: Timeouts, now: Instant) -> Option<&'static str> {
        self.pending_timeout(timeouts)
            .filter(|(at, _)| *at <= now)
            .map(|(_, which)| which)
    }

    fn pending_timeout(&self, timeouts: Timeouts) -> Option<(Instant, &'static str)> {
        let state = self.state.lock();
        if state.in_flight > 0 {
            return None;
        }
        Some(match state.head_started {
            Some(started) => (started + timeouts.header_read, "header"),
            None if state.served => (state.idle_since + timeouts.keep_alive, "keep_alive"),
            None => (state.idle_since + timeouts.header_read, "header"),
        })
    }
}

/// A request in flight; dropped when its response is ready (or it was abandoned).
struct Busy(Arc<Activity>);

impl Drop for Busy {
    fn drop(&mut self) {
        let mut state = self.0.state.lock();
        state.in_flight -= 1;
        if state.in_flight == 0 {
            state.idle_since = Instant::now();
        }
    }
}

/// The connection's place under `max_connections` and in the gauge, held for
/// as long as the socket is open.
struct Open {
    _slot: OwnedSemaphorePermit,
    metrics: Arc<Metrics>,
}

impl Open {
    fn new(slot: OwnedSemaphorePermit, metrics: Arc<Metrics>) -> Self {
        metrics.http_connections.inc();
        Self {
            _slot: slot,
            metrics,
        }
    }
}

impl Drop for Open {
    fn drop(&mut self) {
        self.metrics.http_connections.dec();
    }
}

/// The socket, telling the watchdog when bytes arrive. It goes along into an
/// upgraded WebSocket, and with it the connection's slot.
struct Watched {
    stream: TcpStream,
    activity: Arc<Activity>,
    _open: Open,
}

impl AsyncRead for Watched {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut self.stream).poll_read(cx, buf);
        if matches!(polled, Poll::Ready(Ok(()))) && buf.filled().len() > before {
            self.activity.read_some();
        }
        polled
    }
}

impl AsyncWrite for Watched {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.stream).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TIMEOUTS: Timeouts = Timeouts {
        header_read: Duration::from_secs(10),
        keep_alive: Duration::from_secs(60),
    };

    #[tokio::test(start_paused = true)]
    async fn the_watchdog_picks_the_timeout_for_what_the_connection_is_doing() {
        let activity = Arc::new(Activity::new());
        let opened = Instant::now();
        // Nothing sent yet: the first head is due within header_read.
        assert_eq!(
            activity.deadline(TIMEOUTS),
            Some(opened + TIMEOUTS.header_read)
        );
        let busy = activity.begin();
        assert_eq!(
            activity.deadline(TIMEOUTS),
            None,
            "a request in flight is never cut"
        );
        tokio::time::advance(Duration::from_secs(100)).await;
        drop(busy);
        let answered = Instant::now();
        // Idle between requests: keep-alive.
        assert_eq!(
            activity.deadline(TIMEOUTS),
            Some(answered + TIMEOUTS.keep_alive)
        );
        tokio::time::advance(Duration::from_secs(5)).await;
        activity.read_some();
        let started = Instant::now();
        // Part of the next head: header_read from its first byte.
        assert_eq!(
            activity.deadline(TIMEOUTS),
            Some(started + TIMEOUTS.header_read)
        );
        assert_eq!(activity.expired(TIMEOUTS, started), None);
        assert_eq!(
            activity.expired(TIMEOUTS, started + TIMEOUTS.header_read),
            Some("header")
        );
    }
}
