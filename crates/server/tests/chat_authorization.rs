//! The chat authorization matrix. A conversation, message or room the caller is
//! not a member of is `404 not_found` (its existence is not revealed); one they
//! can see but may not change (another's message for everyone, a room they do
//! not own) is `403 forbidden`. A refused request changes nothing.

use herald_protocol::{ClientFrame, Message, Room};
use herald_testkit::{client_id, TestServer, TestUser, WsClient};
use serde_json::{json, Value};

/// Everything a user can observe about their chats.
#[derive(Debug, PartialEq)]
struct Chats {
    conversations: Value,
    rooms: Value,
    contacts: Value,
    events: Value,
    counts: herald_protocol::Counts,
}

async fn chats(user: &TestUser) -> Chats {
    let conversations = user.get("/api/v1/conversations?limit=200").await;
    assert_eq!(conversations.status, 200, "{}", conversations.body);
    let events = user.get("/api/v1/events?since=0&limit=200").await;
    assert_eq!(events.status, 200, "{}", events.body);
    Chats {
        conversations: conversations.body["items"].clone(),
        rooms: user.get("/api/v1/rooms").await.body,
        contacts: user.get("/api/v1/contacts").await.body,
        events: events.body["events"].clone(),
        counts: user.counts().await,
    }
}

/// Alice and Bob talk directly and in Alice's room; Carol talks only to Alice.
struct Scene {
    server: TestServer,
    alice: TestUser,
    bob: TestUser,
    carol: TestUser,
    /// Alice's message to Bob.
    from_alice: Message,
    /// Bob's message to Alice.
    from_bob: Message,
    room: Room,
    /// Alice's message in the room.
    in_room: Message,
    /// Carol's message to Alice.
    from_carol: Message,
}

async fn scene() -> Scene {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let from_alice = alice.chat("bob", "hi bob").await;
    let from_bob = bob.chat("alice", "hi alice").await;
    let room = alice.create_room("leads", &["bob"]).await;
    let in_room = alice.chat_room(room.id, "standup at ten").await;
    let from_carol = carol.chat("alice", "hi from carol").await;
    Scene {
        server,
        alice,
        bob,
        carol,
        from_alice,
        from_bob,
        room,
        in_room,
        from_carol,
    }
}

impl Scene {
    async fn everyone(&self) -> Vec<Chats> {
        let mut all = Vec::new();
        for user in [&self.alice, &self.bob, &self.carol] {
            all.push(chats(user).await);
        }
        all
    }

    /// Runs `method path body` as `user`: refused with `status` and `code`, and
    /// nobody's chats changed.
    async fn refuses(
        &self,
        user: &TestUser,
        (method, path, body): (&str, String, Value),
        status: u16,
        code: &str,
    ) {
        let before = self.everyone().await;
        let response = user.call(method, &path, &body).await;
        // Shown with the failure, to name the request.
        eprintln!("{method} {path} as {:?}", user.username);
        response.assert_refused(status, code);
        assert_eq!(
            self.everyone().await,
            before,
            "{method} {path} changed something"
        );
    }

    /// Every chat route aimed at Alice and Bob's conversations, with bodies the
    /// route would accept from them.
    fn their_routes(&self) -> Vec<(&'static str, String, Value)> {
        let direct = self.from_alice.conversation_id;
        let room = self.room.id;
        vec![
            (
                "GET",
                format!("/api/v1/conversations/{direct}/messages"),
                json!({}),
            ),
            (
                "GET",
                format!("/api/v1/conversations/{room}/messages"),
                json!({}),
            ),
            (
                "POST",
                format!("/api/v1/conversations/{direct}/read"),
                json!({"up_to": self.from_bob.id}),
            ),
            (
                "POST",
                format!("/api/v1/conversations/{room}/read"),
                json!({"up_to": self.in_room.id}),
            ),
            (
                "POST",
                "/api/v1/messages".into(),
                json!({"room": room, "content": "let me in", "client_id": client_id()}),
            ),
            (
                "DELETE",
                format!("/api/v1/messages/{}", self.from_alice.id),
                json!({}),
            ),
            (
                "DELETE",
                format!("/api/v1/messages/{}?for_everyone=false", self.in_room.id),
                json!({}),
            ),
            (
                "POST",
                "/api/v1/messages/delete".into(),
                json!({"ids": [self.from_bob.id]}),
            ),
            (
                "POST",
                format!("/api/v1/rooms/{room}/members"),
                json!({"username": "carol"}),
            ),
            (
                "DELETE",
                format!("/api/v1/rooms/{room}/members/bob"),
                json!({}),
            ),
            (
                "DELETE",
                format!("/api/v1/rooms/{room}/members/alice"),
                json!({}),
            ),
        ]
    }
}

#[tokio::test]
async fn an_outsider_gets_not_found_for_every_route_into_others_chats() {
    let s = scene().await;
    for route in s.their_routes() {
        s.refuses(&s.carol, route, 404, "not_found").await;
    }
}

#[tokio::test]
async fn ids_that_do_not_exist_are_not_found_like_others_ids() {
    let s = scene().await;
    let routes = [
        (
            "GET",
            "/api/v1/conversations/9999/messages".to_owned(),
            json!({}),
        ),
        (
            "POST",
            "/api/v1/conversations/9999/read".into(),
            json!({"up_to": 1}),
        ),
        ("DELETE", "/api/v1/messages/9999".into(), json!({})),
        (
            "POST",
            "/api/v1/messages".into(),
            json!({"room": 9999, "content": "hello?", "client_id": client_id()}),
        ),
        (
            "POST",
            "/api/v1/rooms/9999/members".into(),
            json!({"username": "bob"}),
        ),
        // A direct conversation is not a room.
        (
            "POST",
            format!("/api/v1/rooms/{}/members", s.from_alice.conversation_id),
            json!({"username": "carol"}),
        ),
    ];
    for route in routes {
        s.refuses(&s.alice, route, 404, "not_found").await;
    }
}

#[tokio::test]
async fn a_list_naming_one_unseen_message_deletes_none_of_the_callers_own() {
    let s = scene().await;
    for for_everyone in [json!(null), json!(true), json!(false)] {
        let body = json!({
            "ids": [s.from_carol.id, s.from_alice.id],
            "for_everyone": for_everyone,
        });
        let route = ("POST", "/api/v1/messages/delete".into(), body);
        s.refuses(&s.carol, route, 404, "not_found").await;
    }
}

#[tokio::test]
async fn nobody_deletes_anothers_message_for_everyone() {
    let s = scene().await;
    let theirs = [s.from_alice.id, s.in_room.id];
    for id in theirs {
        let route = (
            "DELETE",
            format!("/api/v1/messages/{id}?for_everyone=true"),
            json!({}),
        );
        s.refuses(&s.bob, route, 403, "forbidden").await;
    }
    // Bob's own message in the same list is not deleted either.
    let mixed = json!({"ids": [s.from_bob.id, s.from_alice.id], "for_everyone": true});
    let route = ("POST", "/api/v1/messages/delete".into(), mixed);
    s.refuses(&s.bob, route, 403, "forbidden").await;
}

#[tokio::test]
async fn only_the_owner_adds_or_removes_other_members() {
    let s = scene().await;
    let room = s.room.id;
    let routes = [
        (
            "POST",
            format!("/api/v1/rooms/{room}/members"),
            json!({"username": "carol"}),
        ),
        (
            "DELETE",
            format!("/api/v1/rooms/{room}/members/alice"),
            json!({}),
        ),
    ];
    for route in routes {
        s.refuses(&s.bob, route, 403, "forbidden").await;
    }
}

/// The reply to a WebSocket request: its error code, or `ok`.
async fn ws_outcome(ws: &mut WsClient, frame: ClientFrame, id: u64) -> String {
    ws.send(&frame).await;
    match ws.reply(id).await {
        Ok(_) => "ok".into(),
        Err(error) => error.code,
    }
}

#[tokio::test]
async fn websocket_requests_follow_the_same_rules() {
    let s = scene().await;
    let before = s.everyone().await;
    let mut carol_ws = s.carol.ws_ready().await;
    let mut bob_ws = s.bob.ws_ready().await;

    let history = ClientFrame::GetMessages {
        id: 1,
        conversation_id: s.from_alice.conversation_id,
        before: None,
        after: None,
        limit: None,
    };
    let post = ClientFrame::SendMessage {
        id: 2,
        to: None,
        room: Some(s.room.id),
        content: "let me in".into(),
        client_id: client_id(),
    };
    let delete = ClientFrame::DeleteMessage {
        id: 3,
        message_id: s.from_alice.id,
        for_everyone: None,
    };
    assert_eq!(ws_outcome(&mut carol_ws, history, 1).await, "not_found");
    assert_eq!(ws_outcome(&mut carol_ws, post, 2).await, "not_found");
    assert_eq!(ws_outcome(&mut carol_ws, delete, 3).await, "not_found");
    let for_everyone = ClientFrame::DeleteMessage {
        id: 4,
        message_id: s.from_alice.id,
        for_everyone: Some(true),
    };
    assert_eq!(ws_outcome(&mut bob_ws, for_everyone, 4).await, "forbidden");

    assert_eq!(s.everyone().await, before);
}

#[tokio::test]
async fn others_conversations_never_show_in_lists() {
    let s = scene().await;
    let theirs = [s.from_alice.conversation_id, s.room.id];
    let listed = chats(&s.carol).await.conversations;
    let ids: Vec<i64> = listed
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![s.from_carol.conversation_id]);
    assert!(!theirs.contains(&ids[0]));
    let peer = s.carol.get("/api/v1/conversations?peer=bob").await;
    assert_eq!(peer.body["items"], json!([]), "{}", peer.body);
    for view in ["sent", "received"] {
        let page = s.carol.get(&format!("/api/v1/messages/{view}")).await;
        let ids: Vec<i64> = page.body["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["id"].as_i64().unwrap())
            .collect();
        let expected = if view == "sent" {
            vec![s.from_carol.id]
        } else {
            vec![]
        };
        assert_eq!(ids, expected, "carol's {view} messages");
    }
}

#[tokio::test]
async fn send_tokens_and_strangers_cannot_chat() {
    let s = scene().await;
    let created = s.alice.post("/api/v1/tokens", json!({"name": "ci"})).await;
    let ci = s
        .alice
        .with_token(created.body["token"].as_str().expect("token"));
    let strangers = [
        (ci, 403, "forbidden"),
        (s.server.anonymous(), 401, "unauthorized"),
        (
            s.server.anonymous().with_token("garbage"),
            401,
            "unauthorized",
        ),
    ];
    let mut routes = s.their_routes();
    routes.extend([
        ("GET", "/api/v1/conversations".into(), json!({})),
        (
            "POST",
            "/api/v1/messages".into(),
            json!({"to": "bob", "content": "from ci", "client_id": client_id()}),
        ),
        ("GET", "/api/v1/messages/sent".into(), json!({})),
        ("GET", "/api/v1/messages/received".into(), json!({})),
        ("GET", "/api/v1/rooms".into(), json!({})),
        (
            "POST",
            "/api/v1/rooms".into(),
            json!({"name": "ci room", "members": []}),
        ),
        ("GET", "/api/v1/contacts".into(), json!({})),
        (
            "POST",
            "/api/v1/contacts".into(),
            json!({"username": "bob"}),
        ),
        ("DELETE", "/api/v1/contacts/bob".into(), json!({})),
    ]);
    for (stranger, status, code) in &strangers {
        for route in routes.clone() {
            s.refuses(stranger, route, *status, code).await;
        }
    }
}
