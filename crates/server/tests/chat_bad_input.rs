//! The chat bad-input matrix: every malformed, oversized or impossible chat
//! request gets a clear 4xx with an error code and changes nothing.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it
// only inside them).
#![allow(clippy::unwrap_used)]

use herald_protocol::{ClientFrame, Message, ServerFrame, MAX_MESSAGE_CHARS};
use herald_testkit::{client_id, TestServer, TestUser, WsClient};
use serde_json::{json, Value};

const SEND: &str = "/api/v1/messages";

/// Everything Alice and Bob can observe about their chats.
#[derive(Debug, PartialEq)]
struct World {
    views: Vec<Value>,
}

/// Alice and Bob have a direct conversation and a room; Carol is disabled.
struct Scene {
    alice: TestUser,
    bob: TestUser,
    message: Message,
    room: i64,
    _server: TestServer,
}

async fn scene() -> Scene {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let message = bob.chat("alice", "hello").await;
    let room = alice.create_room("team", &["bob"]).await.id;
    alice.add_contact("bob").await;
    let disabled = admin
        .patch(
            &format!("/api/v1/users/{}", carol.id),
            json!({"disabled": true}),
        )
        .await;
    assert_eq!(disabled.status, 200, "disable carol: {}", disabled.body);
    Scene {
        alice,
        bob,
        message,
        room,
        _server: server,
    }
}

impl Scene {
    async fn world(&self) -> World {
        let mut views = Vec::new();
        for user in [&self.alice, &self.bob] {
            for path in [
                "/api/v1/conversations?limit=200",
                "/api/v1/events?since=0&limit=200",
                "/api/v1/rooms",
                "/api/v1/contacts",
                "/api/v1/notifications/counts",
            ] {
                let response = user.get(path).await;
                assert_eq!(response.status, 200, "{path}: {}", response.body);
                views.push(response.body);
            }
        }
        World { views }
    }

    /// Alice's request is refused with `status` and `code`, and nothing changed.
    async fn refuses(
        &self,
        what: &str,
        method: &str,
        path: &str,
        body: Value,
        status: u16,
        code: &str,
    ) {
        let before = self.world().await;
        let response = self.alice.call(method, path, &body).await;
        // Shown with the failure, to name the request.
        eprintln!("{what}: {method} {path} {body}");
        response.assert_refused(status, code);
        assert_eq!(self.world().await, before, "{what} changed something");
    }

    /// A send to Bob with `changes` merged in (a `null` removes a field).
    async fn refuses_send(&self, what: &str, changes: Value, status: u16, code: &str) {
        let mut body = json!({"to": "bob", "content": "hi", "client_id": client_id()});
        for (key, value) in changes.as_object().expect("object") {
            match value {
                Value::Null => {
                    body.as_object_mut().unwrap().remove(key);
                }
                value => body[key] = value.clone(),
            }
        }
        self.refuses(what, "POST", SEND, body, status, code).await;
    }
}

#[tokio::test]
async fn sends_with_bad_content_or_client_id_are_invalid_input() {
    let s = scene().await;
    let too_long = "x".repeat(MAX_MESSAGE_CHARS + 1);
    let cases = [
        ("empty content", json!({"content": ""})),
        ("blank content", json!({"content": " \n\t "})),
        ("10001-char content", json!({ "content": too_long })),
        ("no content", json!({"content": null})),
        ("no client_id", json!({"client_id": null})),
        ("empty client_id", json!({"client_id": ""})),
        ("65-char client_id", json!({"client_id": "k".repeat(65)})),
        ("control char in client_id", json!({"client_id": "a\u{0}b"})),
        ("numeric client_id", json!({"client_id": 42})),
        ("numeric content", json!({"content": 42})),
        ("unknown field", json!({"priority": 5})),
    ];
    for (what, changes) in cases {
        s.refuses_send(what, changes, 400, "invalid_input").await;
    }
    // The limit counts characters, not bytes: 10,000 two-byte characters fit.
    let fits =
        json!({"to": "bob", "content": "é".repeat(MAX_MESSAGE_CHARS), "client_id": client_id()});
    assert_eq!(s.alice.post(SEND, fits).await.status, 201);
}

#[tokio::test]
async fn sends_must_name_exactly_one_valid_recipient() {
    let s = scene().await;
    let invalid = [
        ("to and room", json!({ "room": s.room })),
        ("neither to nor room", json!({"to": null})),
        ("invalid username", json!({"to": "Bob Smith"})),
        ("to a list", json!({"to": ["bob"]})),
        ("room zero", json!({"to": null, "room": 0})),
        ("room as text", json!({"to": null, "room": "team"})),
    ];
    for (what, changes) in invalid {
        s.refuses_send(what, changes, 400, "invalid_input").await;
    }
    s.refuses_send("to yourself", json!({"to": "alice"}), 403, "forbidden")
        .await;
    for stranger in ["nobody", "carol"] {
        let what = format!("to {stranger}");
        s.refuses_send(&what, json!({ "to": stranger }), 422, "unknown_users")
            .await;
    }
    s.refuses_send(
        "unknown room",
        json!({"to": null, "room": 9999}),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_history_and_list_queries_are_refused() {
    let s = scene().await;
    let history = format!(
        "/api/v1/conversations/{}/messages",
        s.message.conversation_id
    );
    for query in [
        "limit=0",
        "limit=201",
        "before=abc",
        "before=0",
        "after=-1",
        "since=3",
    ] {
        let path = format!("{history}?{query}");
        s.refuses(query, "GET", &path, json!({}), 400, "invalid_input")
            .await;
    }
    let lists = [
        "/api/v1/conversations?cursor=abc",
        "/api/v1/conversations?cursor=12",
        "/api/v1/conversations?limit=201",
        "/api/v1/conversations?peer=Bob%20Smith",
        "/api/v1/conversations?peer=bob&cursor=abc",
        "/api/v1/messages/sent?cursor=0",
        "/api/v1/messages/received?limit=0",
        "/api/v1/conversations/abc/messages",
    ];
    for path in lists {
        s.refuses(path, "GET", path, json!({}), 400, "invalid_input")
            .await;
    }
    // `peer` names one conversation, a whole page: a cursor changes nothing.
    let one = s
        .alice
        .get("/api/v1/conversations?peer=bob&cursor=1-1")
        .await;
    assert_eq!(one.status, 200, "{}", one.body);
    assert_eq!(one.body["items"].as_array().map(Vec::len), Some(1));
    let unknown_peer = "/api/v1/conversations?peer=nobody";
    s.refuses(
        "unknown peer",
        "GET",
        unknown_peer,
        json!({}),
        422,
        "unknown_users",
    )
    .await;
}

#[tokio::test]
async fn read_marks_need_a_message_of_the_conversation() {
    let s = scene().await;
    let read = format!("/api/v1/conversations/{}/read", s.message.conversation_id);
    let invalid = [
        ("no up_to", json!({})),
        ("up_to zero", json!({"up_to": 0})),
        ("up_to as text", json!({"up_to": "latest"})),
        ("extra field", json!({"up_to": s.message.id, "all": true})),
    ];
    for (what, body) in invalid {
        s.refuses(what, "POST", &read, body, 400, "invalid_input")
            .await;
    }
    // A message of another conversation, or none at all.
    let in_room = s.alice.chat_room(s.room, "in the room").await;
    for up_to in [in_room.id, 9999] {
        let what = format!("up_to {up_to}");
        s.refuses(
            &what,
            "POST",
            &read,
            json!({ "up_to": up_to }),
            404,
            "not_found",
        )
        .await;
    }
}

#[tokio::test]
async fn bad_deletes_are_refused() {
    let s = scene().await;
    let id = s.message.id;
    let too_many: Vec<i64> = std::iter::repeat_n(id, 1001).collect();
    let bodies = [
        ("no ids", json!({"ids": []})),
        ("1001 ids", json!({ "ids": too_many })),
        ("ids as text", json!({"ids": ["1"]})),
        (
            "for_everyone as text",
            json!({"ids": [id], "for_everyone": "yes"}),
        ),
        ("unknown field", json!({"ids": [id], "all": true})),
    ];
    for (what, body) in bodies {
        s.refuses(
            what,
            "POST",
            "/api/v1/messages/delete",
            body,
            400,
            "invalid_input",
        )
        .await;
    }
    for path in [
        "/api/v1/messages/abc".to_owned(),
        format!("/api/v1/messages/{id}?for_everyone=maybe"),
        format!("/api/v1/messages/{id}?everyone=true"),
    ] {
        s.refuses(&path, "DELETE", &path, json!({}), 400, "invalid_input")
            .await;
    }
}

#[tokio::test]
async fn bad_rooms_and_members_are_refused() {
    let s = scene().await;
    let invalid_rooms = [
        ("empty name", json!({"name": "", "members": ["bob"]})),
        ("blank name", json!({"name": "   ", "members": []})),
        (
            "65-char name",
            json!({"name": "n".repeat(65), "members": []}),
        ),
        (
            "invalid member",
            json!({"name": "x", "members": ["Bob Smith"]}),
        ),
        ("members as text", json!({"name": "x", "members": "bob"})),
        ("no name", json!({"members": ["bob"]})),
    ];
    for (what, body) in invalid_rooms {
        s.refuses(what, "POST", "/api/v1/rooms", body, 400, "invalid_input")
            .await;
    }
    for stranger in ["nobody", "carol"] {
        let body = json!({"name": "x", "members": ["bob", stranger]});
        s.refuses(
            stranger,
            "POST",
            "/api/v1/rooms",
            body,
            422,
            "unknown_users",
        )
        .await;
    }
    let members = format!("/api/v1/rooms/{}/members", s.room);
    s.refuses(
        "add nobody",
        "POST",
        &members,
        json!({"username": "nobody"}),
        422,
        "unknown_users",
    )
    .await;
    s.refuses(
        "add invalid",
        "POST",
        &members,
        json!({"username": "Bob"}),
        400,
        "invalid_input",
    )
    .await;
    let not_member = format!("{members}/nobody");
    s.refuses(
        "remove a non-member",
        "DELETE",
        &not_member,
        json!({}),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_contacts_are_refused() {
    let s = scene().await;
    let add = "/api/v1/contacts";
    s.refuses(
        "add yourself",
        "POST",
        add,
        json!({"username": "alice"}),
        403,
        "forbidden",
    )
    .await;
    s.refuses(
        "add invalid",
        "POST",
        add,
        json!({"username": "Bob Smith"}),
        400,
        "invalid_input",
    )
    .await;
    s.refuses("no username", "POST", add, json!({}), 400, "invalid_input")
        .await;
    for stranger in ["nobody", "carol"] {
        let body = json!({ "username": stranger });
        s.refuses(stranger, "POST", add, body, 422, "unknown_users")
            .await;
    }
    let not_contact = "/api/v1/contacts/admin";
    s.refuses(
        "remove a non-contact",
        "DELETE",
        not_contact,
        json!({}),
        404,
        "not_found",
    )
    .await;
}

#[tokio::test]
async fn bad_chat_frames_get_an_error_and_the_connection_stays_open() {
    let s = scene().await;
    let before = s.world().await;
    let mut ws: WsClient = s.alice.ws_ready().await;

    // Unreadable: no client_id.
    ws.send_text(r#"{"type":"send_message","id":1,"to":"bob","content":"hi"}"#)
        .await;
    match ws.next().await {
        ServerFrame::Error(detail) => assert_eq!(detail.code, "bad_frame"),
        other => panic!("expected an error frame, got {other:?}"),
    }
    // Readable but invalid: a reply with the error.
    let empty = ClientFrame::SendMessage {
        id: 2,
        to: Some("bob".into()),
        room: None,
        content: String::new(),
        client_id: client_id(),
    };
    ws.send(&empty).await;
    assert_eq!(
        ws.reply(2).await.expect_err("refused").code,
        "invalid_input"
    );
    let paging = ClientFrame::GetMessages {
        id: 3,
        conversation_id: s.message.conversation_id,
        before: None,
        after: None,
        limit: Some(500),
    };
    ws.send(&paging).await;
    assert_eq!(
        ws.reply(3).await.expect_err("refused").code,
        "invalid_input"
    );

    assert_eq!(s.world().await, before);
    ws.send_text(r#"{"type":"ping","id":4}"#).await;
    assert!(ws.reply(4).await.is_ok(), "the connection still answers");
}
