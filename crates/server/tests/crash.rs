//! A 201 means durable: kill -9 the real binary while sends are in flight, start
//! it again on the same data directory, and every acknowledged notification is
//! there, in the list and in the event stream.

use std::collections::{BTreeMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use herald_testkit::process::ServerProcess;
use herald_testkit::TestUser;
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

/// Starts the real binary on `data_dir`.
async fn start(data_dir: &Path, log: &str) -> ServerProcess {
    let binary = Path::new(env!("CARGO_BIN_EXE_herald-server"));
    let args = ["--data-dir".to_owned(), data_dir.display().to_string()];
    let envs = [("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)];
    ServerProcess::start(binary, &args, &envs, data_dir.with_file_name(log)).await
}

/// Acknowledged sends: id → title.
type Acked = Arc<Mutex<BTreeMap<i64, String>>>;

/// Sends to Alice until the server stops answering; records every 201. Returns
/// whether the server went away under it (rather than the bound running out).
async fn send_until_killed(
    api: TestUser,
    sender: usize,
    acked: Acked,
    acks: Arc<AtomicUsize>,
) -> bool {
    for n in 0..MAX_SENDS_PER_SENDER {
        let title = format!("run {sender}-{n}");
        let body = json!({"to": ["alice"], "title": title, "category": "crash"});
        match api.try_post("/api/v1/notifications", body).await {
            Ok(response) if response.status == 201 => {
                let id = response.body["id"].as_i64().expect("id in a 201");
                acked.lock().expect("acked lock").insert(id, title);
                acks.fetch_add(1, Ordering::Relaxed);
            }
            Ok(response) => panic!("send answered {}: {}", response.status, response.body),
            Err(_) => return true,
        }
    }
    false
}

/// A GET that must succeed.
async fn get(user: &TestUser, path: &str) -> Value {
    let response = user.get(path).await;
    assert_eq!(response.status, 200, "GET {path}: {}", response.body);
    response.body
}

/// Every notification Alice can list: id → title.
async fn listed(alice: &TestUser) -> BTreeMap<i64, String> {
    let mut found = BTreeMap::new();
    let mut path = "/api/v1/notifications?limit=200".to_owned();
    loop {
        let page = get(alice, &path).await;
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
async fn created_events(alice: &TestUser) -> HashSet<i64> {
    let mut created = HashSet::new();
    let mut since = 0;
    loop {
        let page = get(alice, &format!("/api/v1/events?since={since}&limit=200")).await;
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

    let mut server = start(&data_dir, "first.log").await;
    let admin = TestUser::login_at(&server.url, "admin", ADMIN_PASSWORD, "crash-test").await;
    let created = admin
        .post(
            "/api/v1/users",
            json!({"username": "alice", "password": ALICE_PASSWORD}),
        )
        .await;
    assert_eq!(created.status, 201, "create alice: {}", created.body);

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

    let server = start(&data_dir, "second.log").await;
    let alice = TestUser::login_at(&server.url, "alice", ALICE_PASSWORD, "crash-test").await;

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
