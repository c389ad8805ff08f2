//! Shared arrangements for the sync tests: clients with short timings, a way to
//! wait for a condition with a failure bound, and the server's view to compare
//! against.

#![allow(dead_code)] // each test file uses its own subset

use std::future::Future;
use std::time::Duration;

use herald_client::{
    Client, ClientEvent, ClientOptions, ConnectionState, Credentials, EventStream,
    NotificationFilter, SyncOptions,
};
use herald_protocol::{Counts, Cursor, EventsPage, Notification, Page};
use herald_testkit::{password_of, TestServer, TestUser};

/// Failure bound for anything a test waits for. Never a performance claim: on a
/// healthy machine each wait ends in milliseconds.
pub const WAIT: Duration = Duration::from_secs(30);

/// Timings short enough that reconnects and dead links happen within a test.
pub fn fast_sync() -> SyncOptions {
    SyncOptions {
        backoff_initial: Duration::from_millis(50),
        backoff_max: Duration::from_millis(500),
        ping_after: Duration::from_millis(500),
        dead_after: Duration::from_millis(1500),
        connect_timeout: Duration::from_secs(2),
        ack_grace: Duration::from_secs(2),
    }
}

/// A device of a user: a client with its own cache file.
pub struct Device {
    pub client: Client,
    pub credentials: Credentials,
    /// Holds the cache file.
    pub dir: tempfile::TempDir,
}

impl Device {
    pub fn cache_path(&self) -> std::path::PathBuf {
        self.dir.path().join("cache.db")
    }

    /// The same cache opened by a new client, as after an app restart (not connected).
    pub async fn reopen(&self, sync: SyncOptions) -> Client {
        Client::open(ClientOptions::new(self.cache_path()).with_sync(sync))
            .await
            .expect("client reopens its cache")
    }
}

/// Logs `user` in on a new device (through `server_url`, which may be a proxy)
/// and waits until it has synced.
pub async fn device_via(
    server_url: &str,
    user: &TestUser,
    name: &str,
    sync: SyncOptions,
) -> Device {
    let dir = tempfile::tempdir().expect("temp dir");
    let client = Client::open(ClientOptions::new(dir.path().join("cache.db")).with_sync(sync))
        .await
        .expect("client opens");
    let credentials = client
        .login(
            server_url,
            &user.username,
            &password_of(&user.username),
            name,
        )
        .await
        .expect("login");
    settled(&client).await;
    Device {
        client,
        credentials,
        dir,
    }
}

pub async fn device(server: &TestServer, user: &TestUser, name: &str) -> Device {
    device_via(&server.url(), user, name, fast_sync()).await
}

pub async fn settled(client: &Client) {
    tokio::time::timeout(WAIT, client.settled())
        .await
        .expect("the client settles (online, caught up, outbox empty)");
}

/// Polls `check` until it returns `Some`, failing the test after [`WAIT`].
pub async fn eventually<T, F, Fut>(what: &str, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if tokio::time::Instant::now() > deadline {
            panic!("timed out waiting until {what}");
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// The next event matching `pick`, skipping others; fails after [`WAIT`].
pub async fn next_event<T>(
    events: &mut EventStream,
    what: &str,
    mut pick: impl FnMut(&ClientEvent) -> Option<T>,
) -> T {
    let wait = async {
        loop {
            let event = events.recv().await.expect("client alive");
            if std::env::var_os("HERALD_TEST_TRACE").is_some() {
                eprintln!("event: {event:?}");
            }
            if let Some(value) = pick(&event) {
                return value;
            }
        }
    };
    tokio::time::timeout(WAIT, wait)
        .await
        .unwrap_or_else(|_| panic!("no {what} within {WAIT:?}"))
}

pub async fn next_state(
    events: &mut EventStream,
    what: &str,
    mut pick: impl FnMut(&ConnectionState) -> bool,
) -> ConnectionState {
    next_event(events, what, |event| match event {
        ClientEvent::ConnectionChanged { state } if pick(state) => Some(state.clone()),
        _ => None,
    })
    .await
}

/// Everything the client shows, as `(id, read)`, newest first.
pub async fn shown(client: &Client) -> Vec<(i64, bool)> {
    client
        .list(NotificationFilter {
            limit: 100_000,
            ..NotificationFilter::default()
        })
        .await
        .expect("list from the cache")
        .iter()
        .map(|n| (n.id, n.read))
        .collect()
}

/// Everything the server lists for the user, as `(id, read)`, newest first.
pub async fn on_server(user: &TestUser) -> Vec<(i64, bool)> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let path = match &cursor {
            Some(c) => format!("/api/v1/notifications?limit=200&cursor={c}"),
            None => "/api/v1/notifications?limit=200".to_string(),
        };
        let response = user.get(&path).await;
        assert_eq!(response.status, 200, "{}", response.body);
        let page: Page<Notification> = response.json();
        let done = page.next_cursor.is_none() || page.items.is_empty();
        items.extend(page.items.iter().map(|n| (n.id, n.read)));
        if done {
            return items;
        }
        cursor = page.next_cursor;
    }
}

/// Waits until the client shows exactly what the server lists, with the same counts.
pub async fn converged(client: &Client, user: &TestUser) -> Vec<(i64, bool)> {
    eventually("the client shows what the server has", || async {
        let server = on_server(user).await;
        let local = shown(client).await;
        let counts: Counts = user.counts().await;
        let local_counts = client.counts().await.expect("counts");
        (server == local && counts == local_counts).then_some(server)
    })
    .await
}

/// The cursors of every event the server has for the user after `since`.
pub async fn server_cursors(user: &TestUser, since: Cursor) -> Vec<Cursor> {
    let mut cursors = Vec::new();
    let mut since = since;
    loop {
        let response = user
            .get(&format!("/api/v1/events?since={since}&limit=200"))
            .await;
        assert_eq!(response.status, 200, "{}", response.body);
        let page: EventsPage = response.json();
        assert!(!page.resync_required, "the stream is retained");
        if page.events.is_empty() {
            return cursors;
        }
        cursors.extend(page.events.iter().map(|e| e.cursor));
        since = page.cursor;
    }
}

/// The cursors in the client's event log after `since`.
pub async fn logged_cursors(client: &Client, since: Cursor) -> Vec<Cursor> {
    let mut cursors = Vec::new();
    let mut at = since;
    loop {
        let page = client.events_after(at, 500).await.expect("event log");
        assert!(!page.missed, "the log is complete after {at}");
        if page.events.is_empty() {
            return cursors;
        }
        at = page.events.last().map(|e| e.cursor).unwrap_or(at);
        cursors.extend(page.events.iter().map(|e| e.cursor));
    }
}
