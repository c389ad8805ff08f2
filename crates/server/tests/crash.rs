//! A 201 means durable: kill -9 the real binary while sends are in flight, start
//! it again on the same data directory, and every acknowledged notification is
//! there, in the list and in the event stream.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};
use tokio::time::Instant;

const ADMIN_PASSWORD: &str = "crash-test-admin-password";
const ALICE_PASSWORD: &str = "password-alice";
/// Concurrent senders, so several group commits are in flight at the kill.
const SENDERS: usize = 8;
/// The kill comes after this many acknowledged sends…
const KILL_AFTER_ACKS: usize = 1_000;
/// …or after this long, whichever is first.
const KILL_AFTER: Duration = Duration::from_secs(2);
/// Bounds each sender even if the kill never came.
const MAX_SENDS_PER_SENDER: usize = 2_000;
/// Bounds waiting for a start; a debug build on a busy machine can be slow.
const START_LIMIT: Duration = Duration::from_secs(60);
/// Bounds each request, so a wedged connection fails the test instead of hanging it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// A running `herald-server`; dropped, it is killed so a failing test leaves
/// nothing behind.
struct ServerProcess {
    child: Child,
    url: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts the binary on `data_dir` and a free loopback port; returns once
    /// `/healthz` answers.
    async fn start(data_dir: &Path, log: PathBuf) -> Self {
        let port = free_port();
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald-server"));
        // Only what this test sets may configure the server.
        for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("HERALD_")) {
            command.env_remove(key);
        }
        let child = command
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).expect("server log file"))
            .spawn()
            .expect("herald-server starts");
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("herald-server exited with {status}:\n{}", self.log_text());
            }
            let health = http.get(format!("{}/healthz", self.url)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "herald-server not healthy in {START_LIMIT:?}:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL herald-server");
        self.child.wait().expect("reap herald-server");
    }

    fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A port nothing listens on right now.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}

/// A client with (or, to log in, without) a token.
#[derive(Clone)]
struct Api {
    http: reqwest::Client,
    base: String,
    token: Option<String>,
}

impl Api {
    fn new(server: &ServerProcess) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .build()
            .expect("http client");
        Self {
            http,
            base: server.url.clone(),
            token: None,
        }
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> reqwest::Result<(u16, Value)> {
        let request = match &self.token {
            Some(token) => request.bearer_auth(token),
            None => request,
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Result<(u16, Value)> {
        let url = format!("{}{path}", self.base);
        self.call(self.http.post(url).json(&body)).await
    }

    /// A GET that must succeed.
    async fn get(&self, path: &str) -> Value {
        let url = format!("{}{path}", self.base);
        let (status, body) = self.call(self.http.get(url)).await.expect("GET answered");
        assert_eq!(status, 200, "GET {path}: {body}");
        body
    }

    async fn login(&self, username: &str, password: &str) -> Api {
        let credentials =
            json!({"username": username, "password": password, "device": "crash-test"});
        let (status, body) = self
            .post("/api/v1/auth/login", credentials)
            .await
            .expect("login answered");
        assert_eq!(status, 200, "login {username}: {body}");
        Api {
            token: Some(body["token"].as_str().expect("token").to_owned()),
            ..self.clone()
        }
    }
}

/// Acknowledged sends: id → title.
type Acked = Arc<Mutex<BTreeMap<i64, String>>>;

/// Sends to Alice until the server stops answering; records every 201. Returns
/// whether the server went away under it (rather than the bound running out).
async fn send_until_killed(api: Api, sender: usize, acked: Acked, acks: Arc<AtomicUsize>) -> bool {
    for n in 0..MAX_SENDS_PER_SENDER {
        let title = format!("run {sender}-{n}");
        let body = json!({"to": ["alice"], "title": title, "category": "crash"});
        match api.post("/api/v1/notifications", body).await {
            Ok((201, body)) => {
                let id = body["id"].as_i64().expect("id in a 201");
                acked.lock().expect("acked lock").insert(id, title);
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Ok((status, body)) => panic!("send answered {status}: {body}"),
            Err(_) => return true,
        }
    }
    false
}

/// Every notification Alice can list: id → title.
async fn listed(alice: &Api) -> BTreeMap<i64, String> {
    let mut found = BTreeMap::new();
    let mut path = "/api/v1/notifications?limit=200".to_owned();
    loop {
        let page = alice.get(&path).await;
        for item in page["items"].as_array().expect("items") {
            let id = item["id"].as_i64().expect("id");
            let title = item["title"].as_str().expect("title").to_owned();
            assert!(found.insert(id, title).is_none(), "{id} listed twice");
        }
        match page["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/notifications?limit=200&cursor={cursor}"),
            None => return found,
        }
    }
}

/// Ids of every `notification.created` event in Alice's stream from the start.
async fn created_events(alice: &Api) -> HashSet<i64> {
    let mut created = HashSet::new();
    let mut since = 0;
    loop {
        let page = alice
            .get(&format!("/api/v1/events?since={since}&limit=200"))
            .await;
        assert_eq!(page["resync_required"], false, "stream from 0: {page}");
        let events = page["events"].as_array().expect("events");
        if events.is_empty() {
            return created;
        }
        for envelope in events {
            let event = &envelope["event"];
            if event["type"] == "notification.created" {
                created.insert(event["notification"]["id"].as_i64().expect("id"));
            }
        }
        since = page["cursor"].as_i64().expect("cursor");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_notifications_survive_kill_9() {
    let dir = tempfile::tempdir().expect("temp dir");
    let data_dir = dir.path().join("data");

    let mut server = ServerProcess::start(&data_dir, dir.path().join("first.log")).await;
    let admin = Api::new(&server).login("admin", ADMIN_PASSWORD).await;
    let (status, body) = admin
        .post(
            "/api/v1/users",
            json!({"username": "alice", "password": ALICE_PASSWORD}),
        )
        .await
        .expect("create alice answered");
    assert_eq!(status, 201, "create alice: {body}");

    let acked: Acked = Arc::default();
    let acks = Arc::new(AtomicUsize::new(0));
    let senders: Vec<_> = (0..SENDERS)
        .map(|sender| {
            let task = send_until_killed(admin.clone(), sender, acked.clone(), acks.clone());
            tokio::spawn(task)
        })
        .collect();
    let started = Instant::now();
    while acks.load(Ordering::Relaxed) < KILL_AFTER_ACKS && started.elapsed() < KILL_AFTER {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    server.kill_9();
    let mut cut_off = 0;
    for sender in senders {
        cut_off += usize::from(sender.await.expect("sender task"));
    }
    assert_eq!(cut_off, SENDERS, "every sender was mid-stream at the kill");
    let acked = acked.lock().expect("acked lock").clone();
    assert!(
        !acked.is_empty(),
        "no send was acknowledged before the kill"
    );

    let server = ServerProcess::start(&data_dir, dir.path().join("second.log")).await;
    let alice = Api::new(&server).login("alice", ALICE_PASSWORD).await;

    let listed = listed(&alice).await;
    eprintln!(
        "{} sends acknowledged before the kill; {} listed after the restart",
        acked.len(),
        listed.len()
    );
    let lost: Vec<_> = acked
        .iter()
        .filter(|(id, title)| listed.get(id) != Some(title))
        .collect();
    assert!(
        lost.is_empty(),
        "{} of {} acknowledged notifications lost or changed: {lost:?}",
        lost.len(),
        acked.len()
    );
    let created = created_events(&alice).await;
    let unannounced: Vec<_> = acked.keys().filter(|id| !created.contains(id)).collect();
    assert!(
        unannounced.is_empty(),
        "{} of {} acknowledged notifications have no notification.created event: {unannounced:?}",
        unannounced.len(),
        acked.len()
    );
}
