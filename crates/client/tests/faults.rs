//! Network faults between client and server, made by a TCP proxy in the middle:
//! a blackhole (sockets stay open, nothing gets through, as when a NAT forgets
//! the connection or a laptop sleeps) and a reset (every connection cut).

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it
// only inside them).
#![allow(clippy::unwrap_used)]

mod common;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::*;
use herald_client::{ConnectionState, SyncOptions};
use herald_protocol::{Event, EventsPage};
use herald_testkit::TestServer;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// One proxied connection: whether its bytes get through, and its task.
struct Link {
    forwarding: watch::Sender<bool>,
    task: JoinHandle<()>,
}

/// A TCP proxy to `upstream` whose links can be blackholed and reset.
struct Proxy {
    addr: SocketAddr,
    /// Whether connections made from now on forward their bytes.
    new_links_forward: Arc<AtomicBool>,
    links: Arc<Mutex<Vec<Link>>>,
    accept: JoinHandle<()>,
}

impl Proxy {
    async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let new_links_forward = Arc::new(AtomicBool::new(true));
        let links: Arc<Mutex<Vec<Link>>> = Arc::default();
        let accept = {
            let new_links_forward = new_links_forward.clone();
            let links = links.clone();
            tokio::spawn(async move {
                while let Ok((client, _)) = listener.accept().await {
                    let Ok(server) = TcpStream::connect(upstream).await else {
                        continue; // dropping the client closes it, like a refused connect
                    };
                    // Closing a link sends RST, so a reset is a reset.
                    let _ = client.set_zero_linger();
                    let _ = server.set_zero_linger();
                    let (forwarding, rx) = watch::channel(new_links_forward.load(Ordering::SeqCst));
                    let task = tokio::spawn(pipe(client, server, rx));
                    links.lock().unwrap().push(Link { forwarding, task });
                }
            })
        };
        Self {
            addr,
            new_links_forward,
            links,
            accept,
        }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Nothing gets through any more, on existing or new connections.
    fn blackhole(&self) {
        self.new_links_forward.store(false, Ordering::SeqCst);
        self.blackhole_existing();
    }

    /// Existing connections go silent; new ones work (a laptop waking up on
    /// another network).
    fn blackhole_existing(&self) {
        for link in self.links.lock().unwrap().iter() {
            link.forwarding.send_replace(false);
        }
    }

    fn heal(&self) {
        self.new_links_forward.store(true, Ordering::SeqCst);
        for link in self.links.lock().unwrap().iter() {
            link.forwarding.send_replace(true);
        }
    }

    /// Cuts every connection (RST to both ends).
    fn reset(&self) {
        for link in self.links.lock().unwrap().drain(..) {
            link.task.abort();
        }
    }
}

impl Drop for Proxy {
    fn drop(&mut self) {
        self.accept.abort();
        self.reset();
    }
}

async fn pipe(client: TcpStream, server: TcpStream, forwarding: watch::Receiver<bool>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::join!(
        copy(client_read, server_write, forwarding.clone()),
        copy(server_read, client_write, forwarding),
    );
}

/// Copies bytes while forwarding; drops them (keeping the socket open) while not.
async fn copy(
    mut from: impl AsyncReadExt + Unpin,
    mut to: impl AsyncWriteExt + Unpin,
    forwarding: watch::Receiver<bool>,
) {
    let mut buf = vec![0u8; 16 * 1024];
    loop {
        let n = match from.read(&mut buf).await {
            Ok(0) | Err(_) => {
                let _ = to.shutdown().await;
                return;
            }
            Ok(n) => n,
        };
        if *forwarding.borrow() && to.write_all(&buf[..n]).await.is_err() {
            return;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blackholed_link_is_declared_dead_and_the_client_recovers_with_its_outbox() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let proxy = Proxy::start(server.addr).await;
    let laptop = device_via(&proxy.url(), &alice, "laptop", fast_sync()).await;
    let first = bob.notify(&["alice"], "before the blackhole").await;
    converged(&laptop.client, &alice).await;
    let before = laptop.client.cursor().await.unwrap().expect("synced");
    let mut events = laptop.client.events();

    proxy.blackhole();
    let during = bob.notify(&["alice"], "sent into the blackhole").await;
    laptop.client.mark_read(&[first]).await.unwrap();
    let state = next_state(&mut events, "the dead link noticed", |s| {
        matches!(s, ConnectionState::Offline { .. })
    })
    .await;
    let ConnectionState::Offline { reason, .. } = state else {
        unreachable!()
    };
    assert!(reason.contains("no data from the server"), "{reason}");
    assert_eq!(laptop.client.pending_actions().await.unwrap(), 1);

    proxy.heal();
    next_state(&mut events, "a new connection", ConnectionState::is_online).await;
    settled(&laptop.client).await;
    assert_eq!(
        converged(&laptop.client, &alice).await,
        vec![(during, false), (first, true)]
    );
    assert_eq!(
        logged_cursors(&laptop.client, before).await,
        server_cursors(&alice, before).await
    );
    // The read went out once, even though its first attempt may have died in
    // the blackhole.
    let page: EventsPage = alice
        .get(&format!("/api/v1/events?since={before}"))
        .await
        .json();
    let reads = page
        .events
        .iter()
        .filter(|e| matches!(e.event, Event::NotificationsRead { .. }))
        .count();
    assert_eq!(reads, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reset_link_reconnects_and_resumes() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let proxy = Proxy::start(server.addr).await;
    let laptop = device_via(&proxy.url(), &alice, "laptop", fast_sync()).await;
    let before = laptop.client.cursor().await.unwrap().expect("synced");
    let mut events = laptop.client.events();

    for round in 0..3 {
        proxy.reset();
        next_state(&mut events, "the reset noticed", |s| {
            matches!(s, ConnectionState::Offline { .. })
        })
        .await;
        bob.notify(&["alice"], &format!("after reset {round}"))
            .await;
        next_state(&mut events, "a new connection", ConnectionState::is_online).await;
        settled(&laptop.client).await;
    }
    assert_eq!(converged(&laptop.client, &alice).await.len(), 3);
    assert_eq!(
        logged_cursors(&laptop.client, before).await,
        server_cursors(&alice, before).await
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reconnect_now_replaces_a_silently_dead_link_without_waiting_for_the_timeout() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let proxy = Proxy::start(server.addr).await;
    // Liveness as in production: a silent link is only declared dead after a
    // minute, longer than this test may wait.
    let sync = SyncOptions {
        backoff_initial: Duration::from_millis(50),
        ..SyncOptions::default()
    };
    assert!(sync.dead_after > WAIT);
    let laptop = device_via(&proxy.url(), &alice, "laptop", sync).await;
    let mut events = laptop.client.events();

    // The laptop slept; its connection is gone without a word.
    proxy.blackhole_existing();
    let missed = bob.notify(&["alice"], "while the lid was closed").await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(laptop.client.state().is_online(), "nothing noticed yet");

    // The OS says it resumed.
    laptop.client.reconnect_now();
    next_state(&mut events, "reconnecting", |s| {
        matches!(s, ConnectionState::Connecting)
    })
    .await;
    next_state(&mut events, "a new connection", ConnectionState::is_online).await;
    settled(&laptop.client).await;
    assert_eq!(
        converged(&laptop.client, &alice).await,
        vec![(missed, false)]
    );
}
