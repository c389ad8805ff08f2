//! Hostile text: control characters (terminal escapes, carriage returns, NUL)
//! and bidirectional overrides are refused in every text field, over REST and
//! the WebSocket, with `400 invalid_input` naming the field and the position,
//! and nothing is stored.

use std::future::Future;

use herald_protocol::{ClientFrame, MAX_TITLE_CHARS};
use herald_testkit::{client_id, TestResponse, TestServer, TestUser};
use serde_json::{json, Value};

/// What each field must refuse: ESC (the start of an OSC 52 clipboard write or
/// a screen clear), BEL, NUL, DEL, the one-byte CSI, CR, the line separator and
/// a right-to-left override.
const HOSTILE: &[char] = &[
    '\u{1b}', '\u{7}', '\0', '\u{7f}', '\u{9b}', '\r', '\u{2028}', '\u{202e}',
];

/// Everything a refused request could have changed.
#[derive(Debug, PartialEq)]
struct World {
    bob_notifications: Value,
    bob_events: Value,
    bob_conversations: Value,
    bob_rooms: Value,
    users: Value,
    admin_tokens: Value,
}

struct Scene {
    server: TestServer,
    admin: TestUser,
    bob: TestUser,
}

async fn scene() -> Scene {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let bob = server.user("bob").await;
    Scene { server, admin, bob }
}

impl Scene {
    async fn world(&self) -> World {
        let get = |user: &TestUser, path: &'static str| {
            let user = user.clone();
            async move {
                let response = user.get(path).await;
                assert_eq!(response.status, 200, "{path}: {}", response.body);
                response.body
            }
        };
        World {
            bob_notifications: get(&self.bob, "/api/v1/notifications?limit=200").await,
            bob_events: get(&self.bob, "/api/v1/events?since=0&limit=200").await,
            bob_conversations: get(&self.bob, "/api/v1/conversations").await,
            bob_rooms: get(&self.bob, "/api/v1/rooms").await,
            users: get(&self.admin, "/api/v1/users?limit=200").await,
            admin_tokens: get(&self.admin, "/api/v1/tokens").await,
        }
    }

    /// `request` is refused as `invalid_input`, its message names `field` and
    /// the character's position, and nothing changed.
    async fn refuses(
        &self,
        field: &str,
        position: usize,
        what: &str,
        request: impl Future<Output = TestResponse>,
    ) {
        let before = self.world().await;
        let response = request.await;
        response.assert_refused(400, "invalid_input");
        let message = response.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            message.starts_with(field) && message.contains(&format!("at character {position}")),
            "{what}: the message should name {field} and character {position}: {message}"
        );
        assert_eq!(self.world().await, before, "{what} changed something");
    }
}

/// `base` with `field` set to `value`.
fn with(base: &Value, field: &str, value: &str) -> Value {
    let mut body = base.clone();
    body[field] = json!(value);
    body
}

/// A query string value, percent-encoded byte by byte.
fn encoded(value: &str) -> String {
    value.bytes().map(|b| format!("%{b:02X}")).collect()
}

#[tokio::test]
async fn notification_fields_refuse_control_characters() {
    let s = scene().await;
    let send = json!({"to": ["bob"], "title": "plan #42 finished", "content": "3 failed"});
    for &c in HOSTILE {
        let bodies = [
            (
                "title",
                5,
                with(&send, "title", &format!("plan{c}")),
                "title",
            ),
            (
                "category",
                2,
                with(&send, "category", &format!("x{c}y")),
                "category",
            ),
            (
                "link",
                12,
                with(&send, "link", &format!("https://ci/{c}")),
                "link",
            ),
        ];
        for (field, position, body, what) in bodies {
            let what = format!("{what} with {c:?}");
            s.refuses(
                field,
                position,
                &what,
                s.admin.post("/api/v1/notifications", body),
            )
            .await;
        }
        // Content is multi-line: still no escapes or carriage returns.
        let content = with(&send, "content", &format!("ok\n\tline{c}"));
        let what = format!("content with {c:?}");
        s.refuses(
            "content",
            9,
            &what,
            s.admin.post("/api/v1/notifications", content),
        )
        .await;
        // Broadcasts and ephemeral pushes take the same path.
        let push =
            json!({"broadcast": true, "title": format!("{c}"), "desktop": true, "persist": false});
        let what = format!("ephemeral broadcast with {c:?}");
        s.refuses(
            "title",
            1,
            &what,
            s.admin.post("/api/v1/notifications", push),
        )
        .await;
        // The list filter is a field too.
        let path = format!(
            "/api/v1/notifications?category={}",
            encoded(&format!("a{c}"))
        );
        s.refuses(
            "category",
            2,
            &format!("filter with {c:?}"),
            s.bob.get(&path),
        )
        .await;
    }
}

#[tokio::test]
async fn tabs_and_newlines_are_fine_in_content_only() {
    let s = scene().await;
    let report = "3 of 120 failed:\n\tcheckout\n\tlogin\n";
    let sent = s
        .admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["bob"], "title": "plan #42", "content": report}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let items = s.bob.get("/api/v1/notifications").await.body["items"].clone();
    assert_eq!(items[0]["content"], report);

    let message = s.admin.chat("bob", "line 1\nline 2").await;
    assert_eq!(message.content, "line 1\nline 2");

    let tab_title = json!({"to": ["bob"], "title": "plan\t42"});
    let what = "a tab in a title";
    s.refuses(
        "title",
        5,
        what,
        s.admin.post("/api/v1/notifications", tab_title),
    )
    .await;
}

#[tokio::test]
async fn names_refuse_control_characters() {
    let s = scene().await;
    for &c in HOSTILE {
        let name = format!("Bob{c}");
        let what = |field: &str| format!("{field} with {c:?}");
        let create =
            json!({"username": "carol", "password": "password-carol", "display_name": name});
        s.refuses(
            "display_name",
            4,
            &what("new user's display_name"),
            s.admin.post("/api/v1/users", create),
        )
        .await;
        let rename = json!({"display_name": name});
        let path = format!("/api/v1/users/{}", s.bob.id);
        s.refuses(
            "display_name",
            4,
            &what("display_name"),
            s.admin.patch(&path, rename),
        )
        .await;
        let login = json!({"username": "bob", "password": "password-bob", "device": name});
        s.refuses(
            "device",
            4,
            &what("device"),
            s.server.anonymous().post("/api/v1/auth/login", login),
        )
        .await;
        let token = json!({"name": name});
        s.refuses(
            "name",
            4,
            &what("token name"),
            s.admin.post("/api/v1/tokens", token),
        )
        .await;
        let room = json!({"name": name, "members": ["bob"]});
        s.refuses(
            "name",
            4,
            &what("room name"),
            s.admin.post("/api/v1/rooms", room),
        )
        .await;
        let path = format!("/api/v1/users?q={}", encoded(&name));
        s.refuses("q", 4, &what("user search"), s.admin.get(&path))
            .await;
    }
}

#[tokio::test]
async fn registration_refuses_control_characters_in_display_names() {
    let server = TestServer::spawn_with(|config| {
        config.registration = herald_server::Registration::Open;
    })
    .await;
    let register =
        json!({"username": "carol", "password": "password-carol", "display_name": "\u{1b}[2J"});
    let response = server
        .anonymous()
        .post("/api/v1/auth/register", register)
        .await;
    response.assert_refused(400, "invalid_input");
    let admin = server.admin().await;
    let users = admin.get("/api/v1/users?q=carol").await;
    assert_eq!(users.body, json!([]), "nobody was registered");
}

#[tokio::test]
async fn chat_messages_refuse_control_characters_over_rest_and_websocket() {
    let s = scene().await;
    let mut ws = s.admin.ws_ready().await;
    let mut id = 0;
    for &c in HOSTILE {
        let content = format!("hi\n{c}");
        let body = json!({"to": "bob", "content": content, "client_id": client_id()});
        let what = format!("message with {c:?}");
        s.refuses("content", 4, &what, s.admin.post("/api/v1/messages", body))
            .await;
        let key = format!("k{c}");
        let body = json!({"to": "bob", "content": "hi", "client_id": key});
        let what = format!("client_id with {c:?}");
        s.refuses(
            "client_id",
            2,
            &what,
            s.admin.post("/api/v1/messages", body),
        )
        .await;

        for (field, position, frame_content, frame_key) in [
            ("content", 4, content.clone(), client_id()),
            ("client_id", 2, "hi".to_owned(), key),
        ] {
            id += 1;
            let before = s.world().await;
            ws.send(&ClientFrame::SendMessage {
                id,
                to: Some("bob".into()),
                room: None,
                content: frame_content,
                client_id: frame_key,
            })
            .await;
            let error = ws.reply(id).await.expect_err("refused");
            assert_eq!(error.code, "invalid_input", "{error:?}");
            assert!(
                error.message.starts_with(field)
                    && error.message.contains(&format!("at character {position}")),
                "{error:?}"
            );
            assert_eq!(
                s.world().await,
                before,
                "send_message with {c:?} stored something"
            );
        }
    }
}

#[tokio::test]
async fn lengths_are_counted_in_characters_before_trimming() {
    let s = scene().await;
    // Two-byte characters: bytes would be twice the count.
    let longest = "é".repeat(MAX_TITLE_CHARS);
    let sent = s
        .admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["bob"], "title": longest}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let padded = format!(" {longest}");
    let refused = s
        .admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["bob"], "title": padded}),
        )
        .await;
    refused.assert_refused(400, "invalid_input");
}
