//! A full disk stops writes only while it is full: the real binary, its
//! database and its log on a small tmpfs. While the disk is full, writes are
//! refused with 507 and `/healthz` answers 503; once space is freed, writes go
//! through again, and every write that was acknowledged is there.
//!
//! Mounting a tmpfs needs root; elsewhere the test says so and passes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use herald_testkit::process::ServerProcess;
use herald_testkit::TestUser;
use serde_json::{json, Value};

const ADMIN_PASSWORD: &str = "disk-full-admin-password";
/// Small, so filling it is quick; large enough for the server to start.
const DISK: &str = "size=24m";
/// Bounds the sends that try to hit the full disk.
const MAX_SENDS: usize = 200;

/// A tmpfs mounted for the test, unmounted when it ends.
struct Tmpfs(PathBuf);

impl Tmpfs {
    fn mount(at: &Path) -> Option<Self> {
        std::fs::create_dir_all(at).ok()?;
        let mounted = Command::new("mount")
            .args(["-t", "tmpfs", "-o", DISK, "tmpfs"])
            .arg(at)
            .status()
            .is_ok_and(|status| status.success());
        mounted.then(|| Tmpfs(at.to_path_buf()))
    }
}

impl Drop for Tmpfs {
    fn drop(&mut self) {
        // Lazily: the server may still hold files here if the test failed.
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

/// Takes every free byte of the filesystem under `dir` with one file.
fn fill(dir: &Path) -> PathBuf {
    let path = dir.join("filler");
    let mut file = std::fs::File::create(&path).expect("filler file");
    for chunk in [1 << 20, 4096, 1] {
        let bytes = vec![0u8; chunk];
        while file.write_all(&bytes).is_ok() {}
    }
    path
}

fn content(n: usize) -> String {
    format!("{n} ").repeat(2_000)
}

/// Sends a notification to the admin; the status and, on 201, the id.
async fn send(admin: &TestUser, title: &str, n: usize) -> (u16, Value) {
    let body = json!({"to": ["admin"], "title": title, "content": content(n)});
    let response = admin.post("/api/v1/notifications", body).await;
    (response.status, response.body)
}

/// Every notification the admin can list: id → title.
async fn listed(admin: &TestUser) -> BTreeMap<i64, String> {
    let mut found = BTreeMap::new();
    let mut path = "/api/v1/notifications?limit=200".to_owned();
    loop {
        let page = admin.get(&path).await;
        assert_eq!(page.status, 200, "{}", page.body);
        for item in page.body["items"].as_array().expect("items") {
            let id = item["id"].as_i64().expect("id");
            found.insert(id, item["title"].as_str().expect("title").to_owned());
        }
        match page.body["next_cursor"].as_str() {
            Some(cursor) => path = format!("/api/v1/notifications?limit=200&cursor={cursor}"),
            None => return found,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn writes_fail_with_507_while_the_disk_is_full_and_resume_when_space_is_freed() {
    let dir = tempfile::tempdir().expect("temp dir");
    let Some(disk) = Tmpfs::mount(&dir.path().join("disk")) else {
        eprintln!("skipped: mounting a tmpfs needs root");
        return;
    };
    let binary = Path::new(env!("CARGO_BIN_EXE_herald-server"));
    let args = [
        "--data-dir".to_owned(),
        disk.0.join("data").display().to_string(),
    ];
    let envs = [("HERALD_ADMIN_PASSWORD", ADMIN_PASSWORD)];
    // The log shares the full disk, as it does on a small server.
    let server = ServerProcess::start(binary, &args, &envs, disk.0.join("server.log")).await;
    let admin = TestUser::login_at(&server.url, "admin", ADMIN_PASSWORD, "disk-full").await;

    let mut acked = BTreeMap::new();
    let (status, body) = send(&admin, "before", 0).await;
    assert_eq!(status, 201, "{body}");
    acked.insert(body["id"].as_i64().expect("id"), "before".to_owned());

    let filler = fill(&disk.0);
    let mut refused = Vec::new();
    for n in 1..=MAX_SENDS {
        let title = format!("while full {n}");
        match send(&admin, &title, n).await {
            (201, body) => {
                acked.insert(body["id"].as_i64().expect("id"), title);
            }
            (507, body) => {
                assert_eq!(body["error"]["code"], "insufficient_storage", "{body}");
                let message = body["error"]["message"].as_str().expect("message");
                assert!(message.contains("nothing was stored"), "{message}");
                refused.push(title);
                break;
            }
            (status, body) => panic!("send {n} while full: {status} {body}"),
        }
    }
    assert!(!refused.is_empty(), "no write failed on the full disk");

    let health = admin.get("/healthz").await;
    assert_eq!(health.status, 503, "{}", health.body);
    assert_eq!(health.body["writes"], false, "{}", health.body);
    assert_eq!(health.body["writer_running"], true, "{}", health.body);
    assert_eq!(
        health.body["last_write_error"]["code"], "storage_full",
        "{}",
        health.body
    );
    // Reads go on while writes cannot.
    assert_eq!(admin.get("/api/v1/notifications?limit=1").await.status, 200);

    std::fs::remove_file(filler).expect("free the disk");
    let health = admin.get("/healthz").await;
    assert_eq!(health.status, 200, "{}", health.body);
    assert_eq!(health.body["writes"], true, "{}", health.body);
    for n in 1..=3 {
        let title = format!("after {n}");
        let (status, body) = send(&admin, &title, n).await;
        assert_eq!(status, 201, "a write once space is back: {body}");
        acked.insert(body["id"].as_i64().expect("id"), title);
    }

    let listed = listed(&admin).await;
    assert_eq!(listed, acked, "every acknowledged write, and only those");
    drop(server);
}
