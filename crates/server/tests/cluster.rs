//! Several real `herald-server` processes sharing one PostgreSQL database and
//! one Redis: users on different nodes hear each other, a client whose node is
//! killed resumes exactly on another, and a Redis restart loses nothing.
//!
//! Needs PostgreSQL (`HERALD_TEST_POSTGRES`, default the local server) and
//! Redis at 127.0.0.1:6379; each test has its own database and channel.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it
// only inside them).
#![allow(clippy::unwrap_used)]

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_protocol::{ClientFrame, Cursor, Event, ServerFrame};
use herald_testkit::postgres::TestDatabase;
use herald_testkit::process::{free_port, ServerProcess};
use herald_testkit::{password_of, services, TestUser, WsClient, ADMIN_PASSWORD};
use serde_json::json;
use tokio::time::Instant;

const REDIS: &str = "redis://127.0.0.1:6379";
/// Bounds every wait for something to arrive from another node.
const PATIENCE: Duration = Duration::from_secs(20);

struct Cluster {
    nodes: Vec<Option<ServerProcess>>,
    /// Base URLs by node index (kept after a node is killed, for messages).
    urls: Vec<String>,
    _db: TestDatabase,
    _dir: tempfile::TempDir,
}

impl Cluster {
    /// Starts `n` nodes at once on a fresh database (so their migrations and
    /// first-admin creation race) linked through `fanout_url`.
    async fn start(n: usize, fanout_url: &str) -> Self {
        let db = TestDatabase::create().await;
        let dir = tempfile::tempdir().expect("temp dir");
        let channel = format!("herald-test:{}", rand_suffix());
        let starts = (0..n).map(|i| {
            let data_dir = dir.path().join(format!("node{i}"));
            let args = [
                "--data-dir".to_owned(),
                data_dir.display().to_string(),
                "--database-url".to_owned(),
                db.url.clone(),
                "--fanout-url".to_owned(),
                fanout_url.to_owned(),
            ];
            let log = dir.path().join(format!("node{i}.log"));
            let channel = channel.clone();
            async move {
                let envs = [
                    ("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD),
                    ("HERALD_FANOUT_CHANNEL", channel.as_str()),
                    ("HERALD_PRESENCE_DEBOUNCE_MS", "200"),
                ];
                ServerProcess::start(&binary(), &args, &envs, log).await
            }
        });
        let nodes = futures_util::future::join_all(starts).await;
        Self {
            urls: nodes.iter().map(|n| n.url.clone()).collect(),
            nodes: nodes.into_iter().map(Some).collect(),
            _db: db,
            _dir: dir,
        }
    }

    fn url(&self, node: usize) -> &str {
        &self.urls[node]
    }

    /// Asserts that no running node's Redis link broke: in these tests Redis
    /// stays up, so a relink would mean the link itself is faulty.
    async fn assert_links_held(&self) {
        for (node, process) in self.nodes.iter().enumerate() {
            if process.is_none() {
                continue;
            }
            let metrics = reqwest::get(format!("{}/metrics", self.url(node)))
                .await
                .expect("metrics")
                .text()
                .await
                .expect("metrics body");
            assert!(
                metrics.contains("herald_fanout_relinks_total 0"),
                "node {node} relinked:\n{metrics}"
            );
        }
    }

    fn kill_9(&mut self, node: usize) {
        self.nodes[node].take().expect("node running").kill_9();
    }

    async fn admin(&self) -> TestUser {
        TestUser::login_at(self.url(0), "admin", ADMIN_PASSWORD, "admin").await
    }

    /// Creates `name` through node 0 and logs them in on `node`.
    async fn user(&self, name: &str, node: usize) -> TestUser {
        let created = self
            .admin()
            .await
            .post(
                "/api/v1/users",
                json!({"username": name, "password": password_of(name)}),
            )
            .await;
        assert_eq!(created.status, 201, "create {name}: {}", created.body);
        TestUser::login_at(self.url(node), name, &password_of(name), "first").await
    }
}

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_herald-server"))
}

fn rand_suffix() -> String {
    format!("{}-{}", std::process::id(), rand::random::<u32>())
}

/// Connects to `base` and resumes the stream after `since`.
async fn resume(base: &str, token: &str, since: Cursor) -> WsClient {
    let mut ws = WsClient::connect(base, Some(token)).await;
    ws.hello().await;
    ws.send(&ClientFrame::Subscribe { id: None, since }).await;
    ws
}

/// The next event within [`PATIENCE`], skipping other frames.
async fn next_event(ws: &mut WsClient) -> (Cursor, Event) {
    tokio::time::timeout(PATIENCE, ws.next_event())
        .await
        .expect("an event from another node in time")
}

fn created_id(event: &Event) -> Option<i64> {
    match event {
        Event::NotificationCreated { notification } => Some(notification.id),
        _ => None,
    }
}

/// Every cursor in the user's stream, from the start.
async fn stream_cursors(user: &TestUser) -> Vec<Cursor> {
    let mut cursors = Vec::new();
    let mut since = 0;
    loop {
        let page = user
            .get(&format!("/api/v1/events?since={since}&limit=200"))
            .await;
        assert_eq!(page.status, 200, "{}", page.body);
        let events = page.body["events"].as_array().expect("events").clone();
        if events.is_empty() {
            return cursors;
        }
        cursors.extend(events.iter().map(|e| e["cursor"].as_i64().expect("cursor")));
        since = page.body["cursor"].as_i64().expect("cursor");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn users_on_different_nodes_hear_each_other() {
    let cluster = Cluster::start(3, services::redis(REDIS)).await;
    let alice = cluster.user("alice", 1).await;
    let bob = cluster.user("bob", 2).await;
    let alice_desktop =
        TestUser::login_at(cluster.url(0), "alice", &password_of("alice"), "desktop").await;
    let (mut laptop, start) = WsClient::connect_ready(cluster.url(1), &alice.token).await;
    let (mut desktop, _) = WsClient::connect_ready(cluster.url(0), &alice_desktop.token).await;
    let (mut bobs, _) = WsClient::connect_ready(cluster.url(2), &bob.token).await;

    // A notification sent on node 2 reaches Alice's devices on nodes 1 and 0.
    let id = bob.notify(&["alice"], "build #7 failed").await;
    for ws in [&mut laptop, &mut desktop] {
        let (_, event) = next_event(ws).await;
        assert_eq!(created_id(&event), Some(id));
    }

    // A broadcast from node 0 reaches Bob on node 2.
    let broadcast = cluster
        .admin()
        .await
        .broadcast("maintenance at 18:00")
        .await;
    let (_, event) = next_event(&mut bobs).await;
    assert_eq!(created_id(&event), Some(broadcast));

    // A chat message from node 2 reaches Alice on node 1.
    let message = bob.chat("alice", "lunch?").await;
    let (_, event) = loop {
        let (cursor, event) = next_event(&mut laptop).await;
        if matches!(event, Event::MessageCreated { .. }) {
            break (cursor, event);
        }
    };
    match event {
        Event::MessageCreated { message: got } => assert_eq!(got.id, message.id),
        other => panic!("expected the message, got {other:?}"),
    }

    // Reading on the desktop (node 0) reaches the laptop (node 1).
    let read = alice_desktop
        .post("/api/v1/notifications/read", json!({"ids": [id]}))
        .await;
    assert_eq!(read.status, 200, "{}", read.body);
    loop {
        match next_event(&mut laptop).await.1 {
            Event::NotificationsRead { ids } => {
                assert_eq!(ids, vec![id]);
                break;
            }
            _ => continue,
        }
    }
    assert_eq!(alice.counts().await.personal, 0);

    // Everything the laptop saw is exactly Alice's stream, as every node tells it.
    let mut seen = Vec::new();
    let mut replay = resume(cluster.url(2), &alice.token, start).await;
    let expected = stream_cursors(&alice.on(cluster.url(2))).await;
    while seen.len() < expected.iter().filter(|c| **c > start).count() {
        seen.push(next_event(&mut replay).await.0);
    }
    let after_start: Vec<Cursor> = expected.into_iter().filter(|c| *c > start).collect();
    assert_eq!(seen, after_start);
    cluster.assert_links_held().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ending_a_session_on_one_node_closes_its_connections_on_others() {
    let cluster = Cluster::start(2, services::redis(REDIS)).await;
    let alice = cluster.user("alice", 0).await;
    let (mut elsewhere, _) = WsClient::connect_ready(cluster.url(1), &alice.token).await;
    let logout = alice.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(logout.status, 204, "{}", logout.body);
    let deadline = Instant::now() + PATIENCE;
    loop {
        match elsewhere.try_next(deadline - Instant::now()).await {
            None => break,
            Some(_) if Instant::now() < deadline => continue,
            Some(frame) => panic!("still open after logout elsewhere: {frame:?}"),
        }
    }
    assert!(
        Instant::now() < deadline,
        "the connection on node 1 stayed open"
    );
    let refused = alice.on(cluster.url(1)).get("/api/v1/me").await;
    refused.assert_refused(401, "unauthorized");
}

/// Sets `user`'s role through `admin` (on whichever node `admin` talks to).
async fn set_role(admin: &TestUser, user: &TestUser, role: &str) {
    let changed = admin
        .patch(&format!("/api/v1/users/{}", user.id), json!({"role": role}))
        .await;
    assert_eq!(changed.status, 200, "{}", changed.body);
}

/// Broadcasts as `user` until the answer is `status`, for at most [`PATIENCE`].
async fn broadcast_answers(user: &TestUser, status: u16, why: &str) {
    let deadline = Instant::now() + PATIENCE;
    loop {
        let sent = user
            .post(
                "/api/v1/notifications",
                json!({"broadcast": true, "title": "role check"}),
            )
            .await;
        if sent.status == status {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{why}: {} {}",
            sent.status,
            sent.body
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_role_change_on_one_node_applies_on_the_others() {
    let cluster = Cluster::start(2, services::redis(REDIS)).await;
    let admin = cluster.admin().await;
    let alice = cluster.user("alice", 1).await;
    set_role(&admin, &alice, "admin").await;
    // Node 1 caches Alice as an admin…
    broadcast_answers(&alice, 201, "node 1 never saw the promotion").await;
    // …until node 0 demotes her: well before the cache would expire on its own.
    set_role(&admin, &alice, "user").await;
    broadcast_answers(&alice, 403, "node 1 still trusts the old role").await;
    cluster.assert_links_held().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn presence_spans_nodes() {
    let cluster = Cluster::start(2, services::redis(REDIS)).await;
    let alice = cluster.user("alice", 0).await;
    let bob = cluster.user("bob", 1).await;
    alice.add_contact("bob").await;
    let (mut alices, _) = WsClient::connect_ready(cluster.url(0), &alice.token).await;
    let (mut bobs, _) = WsClient::connect_ready(cluster.url(1), &bob.token).await;
    let online = wait_for_presence(&mut alices, "bob").await;
    assert!(online, "Bob came online on node 1");
    assert_eq!(
        alice.get("/api/v1/contacts").await.body[0]["online"],
        true,
        "node 0 lists Bob online"
    );
    // An ephemeral broadcast through node 0 reaches, and counts, Bob on node 1.
    let pushed = cluster
        .admin()
        .await
        .post(
            "/api/v1/notifications",
            json!({"broadcast": true, "title": "Lunch is here", "desktop": true, "persist": false}),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    assert_eq!(pushed.body["recipients"], 2, "Alice here and Bob on node 1");
    loop {
        if let ServerFrame::Desktop { title, .. } = bobs.next().await {
            assert_eq!(title, "Lunch is here");
            break;
        }
    }
    drop(bobs);
    assert!(!wait_for_presence(&mut alices, "bob").await, "Bob left");
    cluster.assert_links_held().await;
}

async fn wait_for_presence(ws: &mut WsClient, who: &str) -> bool {
    let deadline = Instant::now() + PATIENCE;
    while let Some(frame) = ws.try_next(deadline - Instant::now()).await {
        if let ServerFrame::Presence { user, online } = frame {
            if user == who {
                return online;
            }
        }
    }
    panic!("no presence frame for {who} within {PATIENCE:?}");
}

/// Acknowledged notifications for Alice, by id.
type Acked = Arc<Mutex<HashSet<i64>>>;

/// Sends `count` notifications to Alice through `sender`, recording each 201.
async fn send_load(sender: TestUser, count: usize, acked: Acked) {
    for n in 0..count {
        let id = sender.notify(&["alice"], &format!("load {n}")).await;
        acked.lock().unwrap().insert(id);
        if n % 10 == 0 {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    }
}

/// Reads Alice's events until every acknowledged id arrived, checking on the way
/// that cursors only grow; returns the cursors and created ids seen.
async fn drain_until(
    ws: &mut WsClient,
    acked: &HashSet<i64>,
    seen: &mut BTreeMap<Cursor, Option<i64>>,
) {
    while !acked
        .iter()
        .all(|id| seen.values().any(|s| *s == Some(*id)))
    {
        let (cursor, event) = next_event(ws).await;
        if let Some((last, _)) = seen.last_key_value() {
            assert!(cursor > *last, "cursor {cursor} after {last}");
        }
        seen.insert(cursor, created_id(&event));
    }
}

/// Sends to Alice through a node that is about to be killed, until it stops
/// answering; only what it acknowledged with a 201 is recorded.
async fn send_until_gone(sender: TestUser, acked: Acked) {
    for n in 0.. {
        let body = json!({"to": ["alice"], "title": format!("doomed {n}")});
        match sender.try_post("/api/v1/notifications", body).await {
            Ok(response) if response.status == 201 => {
                let id = response.body["id"].as_i64().expect("id");
                acked.lock().unwrap().insert(id);
            }
            _ => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_whose_node_is_killed_resumes_exactly_on_another() {
    let mut cluster = Cluster::start(3, services::redis(REDIS)).await;
    let alice = cluster.user("alice", 1).await;
    let bob = cluster.user("bob", 0).await;
    let carol = cluster.user("carol", 2).await;
    let (mut ws, _) = WsClient::connect_ready(cluster.url(1), &alice.token).await;

    let acked: Acked = Arc::default();
    let doomed: Acked = Arc::default();
    let doomed_sender = tokio::spawn(send_until_gone(bob.on(cluster.url(1)), doomed.clone()));
    let load = [
        tokio::spawn(send_load(bob, 150, acked.clone())),
        tokio::spawn(send_load(carol, 150, acked.clone())),
    ];
    let mut seen = BTreeMap::new();
    while seen.len() < 40 {
        let (cursor, event) = next_event(&mut ws).await;
        seen.insert(cursor, created_id(&event));
    }
    cluster.kill_9(1);
    let last = *seen.last_key_value().expect("events before the kill").0;
    let mut ws = resume(cluster.url(2), &alice.token, last).await;
    for sender in load {
        sender.await.expect("sender finished");
    }
    doomed_sender.await.expect("sender through the killed node");
    let mut acked = acked.lock().unwrap().clone();
    assert_eq!(acked.len(), 300);
    let doomed = doomed.lock().unwrap().clone();
    assert!(!doomed.is_empty(), "the killed node acknowledged nothing");
    // What the killed node acknowledged was committed: it arrives too.
    acked.extend(doomed);
    drain_until(&mut ws, &acked, &mut seen).await;

    let stream = stream_cursors(&alice.on(cluster.url(2))).await;
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        stream,
        "what the client saw across the kill is exactly the stream"
    );
}

/// A private `redis-server` that a test may stop and start again on its port.
struct RedisServer {
    port: u16,
    child: Option<Child>,
    dir: PathBuf,
}

impl RedisServer {
    fn start(dir: &Path) -> Self {
        let port = free_port();
        let mut server = Self {
            port,
            child: None,
            dir: dir.to_path_buf(),
        };
        server.restart();
        server
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .args(["--port", &self.port.to_string()])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server starts (apt-get install redis-server)");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + PATIENCE;
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not listen"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_recover_when_redis_restarts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut redis = RedisServer::start(dir.path());
    let cluster = Cluster::start(2, &redis.url()).await;
    let alice = cluster.user("alice", 1).await;
    let bob = cluster.user("bob", 0).await;
    let (mut ws, _) = WsClient::connect_ready(cluster.url(1), &alice.token).await;
    let mut seen = BTreeMap::new();
    let mut acked = HashSet::new();

    acked.insert(bob.notify(&["alice"], "before").await);
    drain_until(&mut ws, &acked, &mut seen).await;

    // Redis is gone: what is committed still arrives, read from the store.
    redis.stop();
    acked.insert(bob.notify(&["alice"], "while Redis is down").await);
    drain_until(&mut ws, &acked, &mut seen).await;

    // Back: the nodes relink and live delivery resumes.
    redis.restart();
    for n in 0..5 {
        acked.insert(bob.notify(&["alice"], &format!("after {n}")).await);
    }
    drain_until(&mut ws, &acked, &mut seen).await;
    assert_eq!(
        seen.keys().copied().collect::<Vec<_>>(),
        stream_cursors(&alice).await
    );
}
