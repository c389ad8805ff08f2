//! What a write costs on disk, seen through the API: a notification to many
//! users stores its content once, however many recipients it has.

use herald_testkit::{TestServer, TestUser};
use serde_json::json;

/// The database file and its write-ahead log, in bytes.
fn stored_bytes(server: &TestServer) -> u64 {
    let dir = &server.state().config.data_dir;
    ["herald.db", "herald.db-wal"]
        .iter()
        .map(|name| std::fs::metadata(dir.join(name)).map_or(0, |m| m.len()))
        .sum()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_to_199_users_stores_its_content_once() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let mut names = Vec::new();
    for n in 0..199 {
        let name = format!("tester{n:03}");
        let created = admin
            .post(
                "/api/v1/users",
                json!({"username": name, "password": "long-enough"}),
            )
            .await;
        assert_eq!(created.status, 201, "{}", created.body);
        names.push(name);
    }
    let token = admin.post("/api/v1/tokens", json!({"name": "ci"})).await;
    assert_eq!(token.status, 201, "{}", token.body);
    let ci: TestUser = admin.with_token(token.body["token"].as_str().expect("token"));

    let content = "0123456789".repeat(1_000);
    let before = stored_bytes(&server);
    let sent = ci
        .post(
            "/api/v1/notifications",
            json!({"to": names, "title": "nightly run", "content": content}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.body["recipients"], 199);
    let grown = stored_bytes(&server) - before;
    eprintln!("one notification of 10,000 characters to 199 users: {grown} bytes stored");
    // A copy per recipient would be 199 × 10,000 bytes (about 2 MB).
    assert!(
        grown < 512 * 1024,
        "one notification to 199 users grew the database by {grown} bytes"
    );

    // Each recipient still gets the whole notification in their stream.
    let tester = server.login("tester198", "long-enough", "laptop").await;
    let page = tester.get("/api/v1/events?since=0").await;
    assert_eq!(page.status, 200, "{}", page.body);
    let event = &page.body["events"][0]["event"];
    assert_eq!(event["type"], "notification.created");
    assert_eq!(event["notification"]["content"], content.as_str());
}
