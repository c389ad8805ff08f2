//! Personal and broadcast notifications over the REST API.

use herald_protocol::{Notification, NotificationKind, Page};
use herald_testkit::TestServer;
use serde_json::json;

#[tokio::test]
async fn personal_notification_reaches_each_recipient_with_its_own_read_state() {
    let server = TestServer::spawn().await;
    let lead = server.user("lead").await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let sent = lead
        .post(
            "/api/v1/notifications",
            json!({
                "to": ["alice", "bob"],
                "title": "Test plan #42 finished",
                "content": "3 failed",
                "category": "test-run",
                "link": "https://ci.example/plans/42",
                "priority": 4
            }),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    assert_eq!(sent.body["recipients"], 2);
    let id = sent.body["id"].as_i64().unwrap();

    let page: Page<Notification> = alice.get("/api/v1/notifications").await.json();
    let n = &page.items[0];
    assert_eq!((n.id, n.kind), (id, NotificationKind::Personal));
    assert_eq!(n.title, "Test plan #42 finished");
    assert_eq!(n.content, "3 failed");
    assert_eq!(n.category.as_deref(), Some("test-run"));
    assert_eq!(n.link.as_deref(), Some("https://ci.example/plans/42"));
    assert_eq!(
        (n.priority, n.sender.as_deref(), n.read),
        (4, Some("lead"), false)
    );

    let read = alice
        .post("/api/v1/notifications/read", json!({"ids": [id]}))
        .await;
    assert_eq!(read.body["changed"], 1);
    assert_eq!(alice.counts().await.personal, 0);
    assert_eq!(bob.counts().await.personal, 1);
    assert!(
        lead.ids("").await.is_empty(),
        "the sender is not a recipient"
    );

    let unread = alice
        .post("/api/v1/notifications/unread", json!({"ids": [id]}))
        .await;
    assert_eq!(unread.body["changed"], 1);
    assert_eq!(alice.counts().await.unread_total, 1);
}

#[tokio::test]
async fn broadcast_read_by_alice_stays_unread_for_bob() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let id = admin.broadcast("Maintenance tonight").await;
    assert_eq!(alice.counts().await.broadcast, 1);
    assert_eq!(bob.counts().await.broadcast, 1);

    alice
        .post("/api/v1/notifications/read", json!({"ids": [id]}))
        .await;
    assert_eq!(alice.counts().await.broadcast, 0);
    assert_eq!(bob.counts().await.broadcast, 1);
    assert_eq!(alice.ids("status=read").await, vec![id]);
    assert_eq!(bob.ids("status=unread").await, vec![id]);
}

#[tokio::test]
async fn broadcast_deleted_by_alice_is_still_there_for_bob() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let id = admin.broadcast("Release 2.0 is out").await;

    let deleted = alice.delete(&format!("/api/v1/notifications/{id}")).await;
    assert_eq!(deleted.status, 204);
    assert!(alice.ids("").await.is_empty());
    assert_eq!(alice.counts().await.unread_total, 0);
    assert_eq!(bob.ids("").await, vec![id]);
    // Deleted stays deleted through mark-all operations.
    alice
        .post("/api/v1/notifications/unread", json!({"all": true}))
        .await;
    assert!(alice.ids("").await.is_empty());
    assert_eq!(alice.counts().await.unread_total, 0);
}

#[tokio::test]
async fn users_joining_later_do_not_inherit_old_broadcasts_as_unread() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let old = admin.broadcast("Before carol joined").await;
    let carol = server.user("carol").await;
    assert_eq!(carol.counts().await.broadcast, 0);
    assert_eq!(carol.ids("status=read").await, vec![old]);
    let new = admin.broadcast("After carol joined").await;
    assert_eq!(carol.ids("status=unread").await, vec![new]);
}

#[tokio::test]
async fn mark_all_read_by_kind_leaves_the_other_kind_alone() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    admin.notify(&["alice"], "personal 1").await;
    admin.notify(&["alice"], "personal 2").await;
    let b1 = admin.broadcast("broadcast 1").await;
    admin.broadcast("broadcast 2").await;
    // One broadcast read explicitly before mark-all: the change count must not
    // count it twice.
    alice
        .post("/api/v1/notifications/read", json!({"ids": [b1]}))
        .await;

    let counts = alice.counts().await;
    assert_eq!(
        (counts.personal, counts.broadcast, counts.unread_total),
        (2, 1, 3)
    );

    let changed = alice
        .post(
            "/api/v1/notifications/read",
            json!({"all": true, "kind": "broadcast"}),
        )
        .await;
    assert_eq!(changed.body["changed"], 1);
    let counts = alice.counts().await;
    assert_eq!((counts.personal, counts.broadcast), (2, 0));

    let changed = alice
        .post("/api/v1/notifications/read", json!({"all": true}))
        .await;
    assert_eq!(changed.body["changed"], 2);
    assert_eq!(alice.counts().await.unread_total, 0);

    // A broadcast after mark-all-read is unread again.
    let b3 = admin.broadcast("broadcast 3").await;
    assert_eq!(alice.ids("status=unread").await, vec![b3]);
    // Nothing to change: zero, and no event.
    let again = alice
        .post(
            "/api/v1/notifications/read",
            json!({"all": true, "kind": "personal"}),
        )
        .await;
    assert_eq!(again.body["changed"], 0);
}

#[tokio::test]
async fn mark_all_unread_then_one_read_is_exact() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let b1 = admin.broadcast("b1").await;
    let b2 = admin.broadcast("b2").await;
    alice
        .post("/api/v1/notifications/read", json!({"all": true}))
        .await;
    assert_eq!(alice.counts().await.broadcast, 0);
    let unread = alice
        .post("/api/v1/notifications/unread", json!({"all": true}))
        .await;
    assert_eq!(unread.body["changed"], 2);
    alice
        .post("/api/v1/notifications/read", json!({"ids": [b1]}))
        .await;
    assert_eq!(alice.ids("status=unread").await, vec![b2]);
    assert_eq!(alice.counts().await.broadcast, 1);
}

#[tokio::test]
async fn batch_delete_removes_only_for_the_caller() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let a = admin.notify(&["alice", "bob"], "one").await;
    let b = admin.notify(&["alice"], "two").await;
    let c = admin.notify(&["alice"], "three").await;

    let deleted = alice
        .post("/api/v1/notifications/delete", json!({"ids": [a, b, b]}))
        .await;
    assert_eq!(deleted.status, 200, "{}", deleted.body);
    assert_eq!(deleted.body["changed"], 2);
    assert_eq!(alice.ids("").await, vec![c]);
    assert_eq!(bob.ids("").await, vec![a]);
    // Deleting again: the ids are no longer the caller's.
    let again = alice
        .post("/api/v1/notifications/delete", json!({"ids": [a]}))
        .await;
    assert_eq!(again.status, 404);
}

#[tokio::test]
async fn list_filters_by_status_kind_and_category_and_pages_without_overlap() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let mut personal = Vec::new();
    for i in 0..7 {
        let category = if i % 2 == 0 { "test-run" } else { "task" };
        let sent = admin
            .post(
                "/api/v1/notifications",
                json!({"to": ["alice"], "title": format!("n{i}"), "category": category}),
            )
            .await;
        personal.push(sent.body["id"].as_i64().unwrap());
    }
    let broadcast = admin.broadcast("all hands").await;
    alice
        .post(
            "/api/v1/notifications/read",
            json!({"ids": [personal[0], personal[1]]}),
        )
        .await;

    let newest_first = |mut ids: Vec<i64>| {
        ids.sort_unstable_by(|a, b| b.cmp(a));
        ids
    };
    assert_eq!(alice.ids("kind=broadcast").await, vec![broadcast]);
    assert_eq!(
        alice.ids("kind=personal").await,
        newest_first(personal.clone())
    );
    assert_eq!(
        alice.ids("status=read").await,
        newest_first(vec![personal[0], personal[1]])
    );
    assert_eq!(alice.ids("status=unread&kind=all").await.len(), 6);
    let test_runs: Vec<i64> = personal.iter().step_by(2).copied().collect();
    assert_eq!(
        alice.ids("category=test-run").await,
        newest_first(test_runs)
    );

    // Page through everything, 3 at a time.
    let mut seen = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let query = match &cursor {
            Some(c) => format!("limit=3&cursor={c}"),
            None => "limit=3".to_owned(),
        };
        let page: Page<Notification> = alice
            .get(&format!("/api/v1/notifications?{query}"))
            .await
            .json();
        assert!(page.items.len() <= 3);
        seen.extend(page.items.iter().map(|n| n.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let mut all = personal.clone();
    all.push(broadcast);
    assert_eq!(seen, newest_first(all));
}

#[tokio::test]
async fn ephemeral_desktop_push_is_never_stored() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let sent = admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["alice"], "title": "Build is on fire", "desktop": true, "persist": false}),
        )
        .await;
    assert_eq!(sent.status, 201);
    assert!(sent.body["id"].is_null());
    assert!(alice.ids("").await.is_empty());
    assert_eq!(alice.counts().await.unread_total, 0);
}

#[tokio::test]
async fn openapi_document_covers_every_route() {
    let server = TestServer::spawn().await;
    let doc = server.anonymous().get("/api/openapi.json").await;
    assert_eq!(doc.status, 200);
    let paths = doc.body["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/auth/register",
        "/api/v1/auth/login",
        "/api/v1/auth/logout",
        "/api/v1/me",
        "/api/v1/users",
        "/api/v1/users/{id}",
        "/api/v1/tokens",
        "/api/v1/tokens/{id}",
        "/api/v1/notifications",
        "/api/v1/notifications/counts",
        "/api/v1/notifications/read",
        "/api/v1/notifications/unread",
        "/api/v1/notifications/delete",
        "/api/v1/notifications/{id}",
        "/api/v1/events",
        "/api/v1/ws",
        "/healthz",
        "/metrics",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn registration_follows_the_policy() {
    let closed = TestServer::spawn().await;
    let refused = closed
        .anonymous()
        .post(
            "/api/v1/auth/register",
            json!({"username": "eve", "password": "long-enough"}),
        )
        .await;
    assert_eq!((refused.status, refused.error_code()), (403, "forbidden"));

    let open = TestServer::spawn_with(|c| c.registration = herald_server::Registration::Open).await;
    let created = open
        .anonymous()
        .post(
            "/api/v1/auth/register",
            json!({"username": "eve", "password": "long-enough", "display_name": "Eve"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["role"], "user");
    let eve = open.login("eve", "long-enough", "laptop").await;
    assert_eq!(eve.get("/api/v1/me").await.body["display_name"], "Eve");
}

#[tokio::test]
async fn metrics_and_health_answer_at_the_root_and_under_the_api() {
    let server = TestServer::spawn().await;
    let anon = server.anonymous();
    for path in ["/healthz", "/api/v1/healthz"] {
        let health = anon.get(path).await;
        assert_eq!(health.status, 200, "{}", health.body);
        assert_eq!(
            health.body,
            json!({"status": "ok", "reads": true, "writes": true, "writer_running": true,
                   "last_write_error": null})
        );
    }
    let admin = server.admin().await;
    admin.notify(&["admin"], "count me").await;
    let _ws = admin.ws().await;
    let metrics = anon.get("/metrics").await;
    let text = metrics.body.as_str().expect("text");
    assert!(text.contains("herald_events_total 1"), "{text}");
    assert!(
        text.contains("herald_http_request_duration_seconds"),
        "{text}"
    );
    assert!(text.contains("herald_ws_connections"), "{text}");
}
