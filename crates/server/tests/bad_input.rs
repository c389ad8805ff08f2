//! The bad-input matrix: each malformed, mistyped, oversized or out-of-range
//! request gets a clear 4xx with an error code, and changes nothing.

use std::future::Future;

use futures_util::SinkExt;
use herald_protocol::{ClientFrame, Counts, ServerFrame};
use herald_testkit::{password_of, TestResponse, TestServer, TestUser, WsClient};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::Message;

const SEND: &str = "/api/v1/notifications";
const USERS: &str = "/api/v1/users";

/// Everything a user can observe about their notifications.
#[derive(Debug, PartialEq)]
struct Inbox {
    items: Value,
    counts: Counts,
    events: Value,
}

async fn inbox(user: &TestUser) -> Inbox {
    let page = user.get("/api/v1/notifications?status=all&limit=200").await;
    assert_eq!(page.status, 200, "list: {}", page.body);
    let stream = user.get("/api/v1/events?since=0&limit=200").await;
    assert_eq!(stream.status, 200, "events: {}", stream.body);
    Inbox {
        items: page.body["items"].clone(),
        counts: user.counts().await,
        events: stream.body["events"].clone(),
    }
}

/// What a refused request must leave as it was: Bob's inbox (every test sends
/// to him), the user list and the admin's tokens.
#[derive(Debug, PartialEq)]
struct World {
    bob: Inbox,
    users: Value,
    tokens: Value,
}

/// An admin who sends, and Bob who receives; Bob has one read and one unread
/// notification so marks and deletes would show.
struct Scene {
    server: TestServer,
    admin: TestUser,
    bob: TestUser,
    bob_read: i64,
    bob_unread: i64,
}

async fn scene() -> Scene {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let bob = server.user("bob").await;
    let bob_read = admin.notify(&["bob"], "already seen").await;
    let bob_unread = admin.notify(&["bob"], "still new").await;
    let marked = bob
        .post("/api/v1/notifications/read", json!({ "ids": [bob_read] }))
        .await;
    assert_eq!(marked.status, 200, "mark read: {}", marked.body);
    Scene {
        server,
        admin,
        bob,
        bob_read,
        bob_unread,
    }
}

impl Scene {
    async fn world(&self) -> World {
        let users = self.admin.get("/api/v1/users?limit=200").await;
        assert_eq!(users.status, 200, "users: {}", users.body);
        let tokens = self.admin.get("/api/v1/tokens").await;
        assert_eq!(tokens.status, 200, "tokens: {}", tokens.body);
        World {
            bob: inbox(&self.bob).await,
            users: users.body,
            tokens: tokens.body,
        }
    }

    /// Runs `request` and asserts it was refused with `status` and `code` and
    /// that nothing anyone can observe changed.
    async fn refuses(
        &self,
        what: &str,
        request: impl Future<Output = TestResponse>,
        status: u16,
        code: &str,
    ) {
        let before = self.world().await;
        let response = request.await;
        assert_eq!(response.status, status, "{what}: {}", response.body);
        assert_eq!(response.error_code(), code, "{what}: {}", response.body);
        let message = response.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty(),
            "{what}: no message in {}",
            response.body
        );
        assert_eq!(self.world().await, before, "{what} changed something");
    }

    /// A send to Bob with `extra` merged in, refused as `invalid_input`.
    async fn refuses_send(&self, what: &str, extra: Value) {
        let mut body = json!({"to": ["bob"], "title": "plan #42 finished"});
        for (key, value) in extra.as_object().expect("object") {
            body[key] = value.clone();
        }
        self.refuses(what, self.admin.post(SEND, body), 400, "invalid_input")
            .await;
    }

    /// POSTs `body` with the given Content-Type (none when `None`).
    async fn post_typed(&self, path: &str, content_type: Option<&str>, body: &str) -> TestResponse {
        let mut request = reqwest::Client::new()
            .post(format!("{}{path}", self.server.url()))
            .bearer_auth(&self.admin.token)
            .body(body.to_owned());
        if let Some(content_type) = content_type {
            request = request.header("content-type", content_type);
        }
        let response = request.send().await.expect("request reaches the server");
        let status = response.status().as_u16();
        let body = response.json().await.expect("a JSON error body");
        TestResponse { status, body }
    }
}

#[tokio::test]
async fn malformed_json_is_refused_as_malformed_json() {
    let s = scene().await;
    // Broken before any field name, so every route sees a syntax error first.
    let anywhere = ["", "not json", "{", "{,}", "{\"unterminated", "nul"];
    let routes = [
        SEND,
        "/api/v1/notifications/read",
        "/api/v1/notifications/delete",
        USERS,
        "/api/v1/tokens",
        "/api/v1/auth/login",
    ];
    for route in routes {
        for body in anywhere {
            let what = format!("POST {route} {body:?}");
            s.refuses(&what, s.admin.post_raw(route, body), 400, "malformed_json")
                .await;
        }
    }
    let broken_sends = [
        r#"{"to":["bob"],"title":"#,
        r#"{"to":["bob"] "title":"x"}"#,
        r#"{"to":["bob"],"title":"x",}"#,
        r#"{"to":["bob"],"title":"x"} trailing"#,
        r#"{"to":["bob"],"title":"x"}{"to":["bob"],"title":"y"}"#,
    ];
    for body in broken_sends {
        let what = format!("send {body:?}");
        s.refuses(&what, s.admin.post_raw(SEND, body), 400, "malformed_json")
            .await;
    }
}

#[tokio::test]
async fn mistyped_fields_are_invalid_input() {
    let s = scene().await;
    let sends = [
        json!({"to": "bob", "title": "x"}),
        json!({"to": ["bob"], "title": 42}),
        json!({"to": ["bob"]}),
        json!({"to": ["bob"], "title": "x", "priority": "high"}),
        json!({"to": ["bob"], "title": "x", "priority": 256}),
        json!({"to": ["bob"], "title": "x", "desktop": "yes"}),
        json!({"broadcast": "true", "title": "x"}),
        json!(["bob", "x"]),
    ];
    for body in sends {
        let what = format!("send {body}");
        s.refuses(&what, s.admin.post(SEND, body), 400, "invalid_input")
            .await;
    }
    let ids = [
        json!({"ids": ["1"]}),
        json!({"ids": [1.5]}),
        json!({"ids": 1}),
    ];
    for body in ids {
        let what = format!("read {body}");
        let request = s.bob.post("/api/v1/notifications/read", body);
        s.refuses(&what, request, 400, "invalid_input").await;
    }
}

#[tokio::test]
async fn unknown_fields_are_refused() {
    let s = scene().await;
    s.refuses_send("send with colour", json!({"colour": "red"}))
        .await;
    let read = s.bob.post(
        "/api/v1/notifications/read",
        json!({"ids": [s.bob_unread], "everyone": true}),
    );
    s.refuses("read with everyone", read, 400, "invalid_input")
        .await;
    let create = s.admin.post(
        USERS,
        json!({"username": "carol", "password": "password-carol", "is_admin": true}),
    );
    s.refuses("create with is_admin", create, 400, "invalid_input")
        .await;
    let bob_path = format!("{USERS}/{}", s.bob.id);
    let patch = s
        .admin
        .patch(&bob_path, json!({"display_name": "Bob", "superuser": true}));
    s.refuses("patch with superuser", patch, 400, "invalid_input")
        .await;
}

#[tokio::test]
async fn a_body_that_is_not_declared_json_is_refused_with_415() {
    let s = scene().await;
    let body = r#"{"to":["bob"],"title":"plan #42 finished"}"#;
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let what = format!("content type {content_type:?}");
        let request = s.post_typed(SEND, content_type, body);
        s.refuses(&what, request, 415, "unsupported_media_type")
            .await;
    }
}

#[tokio::test]
async fn a_body_over_256_kib_is_refused_with_413() {
    let s = scene().await;
    let body = json!({"to": ["bob"], "title": "huge", "content": "x".repeat(300 * 1024)});
    let request = s.admin.post_raw(SEND, body.to_string());
    s.refuses("300 KiB body", request, 413, "payload_too_large")
        .await;
}

#[tokio::test]
async fn blank_or_overlong_text_is_refused() {
    let s = scene().await;
    s.refuses_send("empty title", json!({"title": ""})).await;
    s.refuses_send("blank title", json!({"title": "   "})).await;
    s.refuses_send("whitespace title", json!({"title": "\n\t "}))
        .await;
    s.refuses_send("201-char title", json!({"title": "x".repeat(201)}))
        .await;
    s.refuses_send("201-char accented title", json!({"title": "é".repeat(201)}))
        .await;
    s.refuses_send("10001-char content", json!({"content": "x".repeat(10_001)}))
        .await;
    s.refuses_send("65-char category", json!({"category": "c".repeat(65)}))
        .await;

    // The limit counts characters, not bytes: 200 two-byte characters fit.
    let fits = s
        .admin
        .post(SEND, json!({"to": ["bob"], "title": "é".repeat(200)}))
        .await;
    assert_eq!(fits.status, 201, "200-char title: {}", fits.body);
}

#[tokio::test]
async fn priority_outside_1_to_5_is_refused() {
    let s = scene().await;
    for priority in [0, 6, -1] {
        let what = format!("priority {priority}");
        s.refuses_send(&what, json!({ "priority": priority })).await;
    }
}

#[tokio::test]
async fn links_other_than_http_are_refused() {
    let s = scene().await;
    let links = [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "file:///etc/passwd",
        "ftp://example.com/report",
        "example.com/report",
        "https://example.com/a report",
    ];
    for link in links {
        s.refuses_send(&format!("link {link:?}"), json!({ "link": link }))
            .await;
    }
}

#[tokio::test]
async fn audience_must_be_either_named_users_or_broadcast() {
    let s = scene().await;
    s.refuses_send("to and broadcast", json!({"broadcast": true}))
        .await;
    s.refuses_send("empty to", json!({"to": []})).await;
    let neither = s.admin.post(SEND, json!({"title": "to nobody"}));
    s.refuses("neither to nor broadcast", neither, 400, "invalid_input")
        .await;
}

#[tokio::test]
async fn invalid_usernames_in_to_are_refused() {
    let s = scene().await;
    for name in ["Bob Smith", "", &"a".repeat(33), "Bob", "bob\u{0}"] {
        let what = format!("to {name:?}");
        s.refuses_send(&what, json!({"to": ["bob", name]})).await;
    }
}

#[tokio::test]
async fn an_unknown_recipient_fails_the_whole_send() {
    let s = scene().await;
    let carol = s.server.user("carol").await;
    let disabled = s
        .admin
        .patch(&format!("{USERS}/{}", carol.id), json!({"disabled": true}))
        .await;
    assert_eq!(disabled.status, 200, "disable carol: {}", disabled.body);

    for stranger in ["nobody", "carol"] {
        let body = json!({"to": ["bob", stranger], "title": "plan #42 finished"});
        let request = s.admin.post(SEND, body);
        s.refuses(
            &format!("to bob and {stranger}"),
            request,
            422,
            "unknown_users",
        )
        .await;
    }
    let response = s
        .admin
        .post(SEND, json!({"to": ["nobody", "bob"], "title": "x"}))
        .await;
    let message = response.body["error"]["message"].as_str().unwrap_or("");
    assert!(message.contains("nobody"), "names the stranger: {message}");
    assert!(!message.contains("bob"), "blames bob: {message}");
}

#[tokio::test]
async fn an_ephemeral_push_must_be_a_desktop_push() {
    let s = scene().await;
    s.refuses_send("persist false, no desktop", json!({"persist": false}))
        .await;
    s.refuses_send(
        "persist false, desktop false",
        json!({"persist": false, "desktop": false}),
    )
    .await;
}

#[tokio::test]
async fn bad_list_queries_are_refused() {
    let s = scene().await;
    let queries = [
        "status=bogus",
        "kind=everything",
        "limit=0",
        "limit=201",
        "limit=-1",
        "limit=ten",
        "cursor=abc",
        "cursor=0",
        "cursor=-5",
        "days=0",
        "sort=oldest",
    ];
    for query in queries {
        let path = format!("/api/v1/notifications?{query}");
        let request = s.bob.get(&path);
        s.refuses(query, request, 400, "invalid_input").await;
    }
}

#[tokio::test]
async fn bad_event_stream_queries_are_refused() {
    let s = scene().await;
    for query in [
        "since=abc",
        "since=1.5",
        "limit=0",
        "limit=201",
        "wait=soon",
        "from=0",
    ] {
        let path = format!("/api/v1/events?{query}");
        let request = s.bob.get(&path);
        s.refuses(query, request, 400, "invalid_input").await;
    }
}

#[tokio::test]
async fn id_lists_must_name_between_1_and_1000_ids_or_all() {
    let s = scene().await;
    let both = [s.bob_unread, s.bob_read];
    let too_many: Vec<i64> = both.iter().copied().cycle().take(1001).collect();
    for route in ["read", "unread", "delete"] {
        let path = format!("/api/v1/notifications/{route}");
        let bodies = [
            ("no ids", json!({"ids": []})),
            ("1001 ids", json!({ "ids": too_many })),
            ("ids and all", json!({"ids": both, "all": true})),
            ("ids and kind", json!({"ids": both, "kind": "personal"})),
            ("nothing", json!({})),
            ("all false", json!({"all": false})),
        ];
        for (what, body) in bodies {
            let what = format!("{route} with {what}");
            s.refuses(&what, s.bob.post(&path, body), 400, "invalid_input")
                .await;
        }
    }
}

#[tokio::test]
async fn ids_in_paths_must_be_numbers() {
    let s = scene().await;
    let paths = [
        "/api/v1/notifications/abc".to_owned(),
        "/api/v1/notifications/1.5".to_owned(),
        "/api/v1/notifications/99999999999999999999".to_owned(),
        "/api/v1/tokens/abc".to_owned(),
        format!("{USERS}/bob"),
    ];
    for path in &paths {
        s.refuses(
            &format!("DELETE {path}"),
            s.admin.delete(path),
            400,
            "invalid_input",
        )
        .await;
    }
    let patch = s.admin.patch(&paths[4], json!({"disabled": true}));
    s.refuses("PATCH /users/bob", patch, 400, "invalid_input")
        .await;
    assert_eq!(s.bob.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn new_users_need_a_valid_username() {
    let s = scene().await;
    let long = "a".repeat(33);
    for name in [
        "Bob Smith",
        "",
        long.as_str(),
        "Carol",
        "car ol",
        "émile",
        "../admin",
    ] {
        let body = json!({"username": name, "password": "long-enough-password"});
        let request = s.admin.post(USERS, body);
        s.refuses(&format!("username {name:?}"), request, 400, "invalid_input")
            .await;
    }
}

#[tokio::test]
async fn a_taken_username_conflicts() {
    let s = scene().await;
    for name in ["bob", "admin"] {
        let body = json!({"username": name, "password": "a-new-password"});
        let request = s.admin.post(USERS, body);
        s.refuses(&format!("username {name}"), request, 409, "conflict")
            .await;
    }
    let login = s
        .server
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"username": "bob", "password": password_of("bob")}),
        )
        .await;
    assert_eq!(login.status, 200, "bob's password changed: {}", login.body);
}

#[tokio::test]
async fn new_users_need_a_password_of_8_characters() {
    let s = scene().await;
    for password in ["", "short", "1234567"] {
        let body = json!({"username": "carol", "password": password});
        let request = s.admin.post(USERS, body);
        let what = format!("password of {} chars", password.len());
        s.refuses(&what, request, 400, "invalid_input").await;
    }
}

/// Alice on a WebSocket, past `hello` and the first `counts`.
async fn connected() -> (TestServer, WsClient) {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let mut ws = alice.ws().await;
    ws.hello().await;
    (server, ws)
}

async fn expect_error_frame(ws: &mut WsClient, code: &str) {
    match ws.next().await {
        ServerFrame::Error(detail) => assert_eq!(detail.code, code, "{}", detail.message),
        other => panic!("expected an error frame, got {other:?}"),
    }
}

/// The connection is still open and answering.
async fn still_answers_ping(ws: &mut WsClient) {
    ws.send_text(r#"{"type":"ping","id":7}"#).await;
    match ws.next().await {
        ServerFrame::Reply { id, ok, .. } => assert!(id == 7 && ok, "reply {id} ok={ok}"),
        other => panic!("expected the ping's reply, got {other:?}"),
    }
}

#[tokio::test]
async fn ws_text_that_is_not_json_gets_bad_frame_and_the_connection_stays_open() {
    let (_server, mut ws) = connected().await;
    for text in ["hello there", "{", "[]", "42"] {
        ws.send_text(text).await;
        expect_error_frame(&mut ws, "bad_frame").await;
    }
    still_answers_ping(&mut ws).await;
}

#[tokio::test]
async fn ws_frame_of_unknown_type_gets_an_error_frame() {
    let (_server, mut ws) = connected().await;
    for text in [
        r#"{"type":"dance","id":1}"#,
        r#"{"id":1}"#,
        r#"{"type":"ping","id":"seven"}"#,
        r#"{"type":"ping","id":1,"extra":true}"#,
    ] {
        ws.send_text(text).await;
        expect_error_frame(&mut ws, "bad_frame").await;
    }
    still_answers_ping(&mut ws).await;
}

#[tokio::test]
async fn ws_binary_frame_gets_an_error_frame() {
    let (_server, mut ws) = connected().await;
    let ping = br#"{"type":"ping","id":1}"#.to_vec();
    ws.stream
        .send(Message::Binary(ping.into()))
        .await
        .expect("ws send");
    expect_error_frame(&mut ws, "bad_frame").await;
    still_answers_ping(&mut ws).await;
}

#[tokio::test]
async fn ws_frame_over_64_kib_closes_with_1009() {
    let (_server, mut ws) = connected().await;
    let padding = "x".repeat(65 * 1024);
    ws.send_text(&format!(r#"{{"type":"ping","id":1,"pad":"{padding}"}}"#))
        .await;
    assert_eq!(ws.closed().await, Some(1009));
}

#[tokio::test]
async fn ws_subscribe_beyond_the_head_gets_resync_required() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let mut ws = alice.ws().await;
    let head = ws.hello().await;

    ws.send(&ClientFrame::Subscribe {
        id: Some(3),
        since: head + 1000,
    })
    .await;

    match ws.next().await {
        ServerFrame::ResyncRequired { cursor } => assert_eq!(cursor, head),
        other => panic!("expected resync_required, got {other:?}"),
    }
    match ws.next().await {
        ServerFrame::Reply { id, ok, .. } => assert!(id == 3 && ok, "reply {id} ok={ok}"),
        other => panic!("expected the subscribe's reply, got {other:?}"),
    }
    still_answers_ping(&mut ws).await;
}

#[tokio::test]
async fn bodies_must_be_json_objects() {
    let s = scene().await;
    // serde alone would fill a struct from an array.
    let not_objects = [
        json!([["bob"], false, "plan #42"]),
        json!([null, null]),
        json!("plan #42"),
        json!(42),
    ];
    let bob = format!("/api/v1/users/{}", s.bob.id);
    for body in not_objects {
        let what = format!("send {body}");
        s.refuses(
            &what,
            s.admin.post(SEND, body.clone()),
            400,
            "invalid_input",
        )
        .await;
        let what = format!("change bob with {body}");
        s.refuses(&what, s.admin.patch(&bob, body), 400, "invalid_input")
            .await;
    }
}

#[tokio::test]
async fn whole_numbers_written_with_a_fraction_are_integers() {
    let s = scene().await;
    // JSON (and the OpenAPI document) do not tell 4 from 4.0.
    let sent = s
        .admin
        .post(
            SEND,
            json!({"to": ["bob"], "title": "four", "priority": 4.0}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let newest = &s.bob.get("/api/v1/notifications?limit=1").await.body["items"][0];
    assert_eq!(newest["priority"], 4);
    let marked = s
        .bob
        .post(
            "/api/v1/notifications/read",
            json!({"ids": [s.bob_unread as f64]}),
        )
        .await;
    assert_eq!(marked.body, json!({"changed": 1}));
    // Read exactly up to 2^53, not as the nearest float a fast parse finds
    // (…762.5 here, then a type error): an id that is not Bob's, so not found.
    let far = json!({"ids": [4_093_461_148_374_762.0_f64]});
    let far = s.bob.post("/api/v1/notifications/read", far).await;
    assert_eq!(far.status, 404, "{}", far.body);
    assert_eq!(far.error_code(), "not_found", "{}", far.body);
    let half = json!({"to": ["bob"], "title": "x", "priority": 4.5});
    s.refuses(
        "priority 4.5",
        s.admin.post(SEND, half),
        400,
        "invalid_input",
    )
    .await;
}
