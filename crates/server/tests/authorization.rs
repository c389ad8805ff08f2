//! The authorization matrix: every id in a request is checked against the caller,
//! every protected route wants a valid token of the right kind, and a refused
//! request changes nothing.

use futures_util::StreamExt;
use herald_protocol::{ClientFrame, Counts, Event, ServerFrame};
use herald_server::service::accounts;
use herald_testkit::{password_of, TestResponse, TestServer, TestUser, WsClient};
use serde_json::{json, Value};
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Everything a user can observe about their notifications: each one with its
/// read flag, the counts, and how long their event stream is.
#[derive(Debug, PartialEq)]
struct Inbox {
    items: Vec<(i64, bool)>,
    counts: Counts,
    events: usize,
}

async fn inbox(user: &TestUser) -> Inbox {
    let page = user.get("/api/v1/notifications?status=all&limit=200").await;
    assert_eq!(page.status, 200, "list: {}", page.body);
    let items = page.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|n| {
            (
                n["id"].as_i64().expect("id"),
                n["read"].as_bool().expect("read"),
            )
        })
        .collect();
    let stream = user.get("/api/v1/events?since=0&limit=200").await;
    assert_eq!(stream.status, 200, "events: {}", stream.body);
    Inbox {
        items,
        counts: user.counts().await,
        events: stream.body["events"].as_array().expect("events").len(),
    }
}

/// Whether a login as `username` is accepted now.
async fn login_status(server: &TestServer, username: &str) -> TestResponse {
    server
        .anonymous()
        .post(
            "/api/v1/auth/login",
            json!({"username": username, "password": password_of(username)}),
        )
        .await
}

/// Creates a send-only token for `user` and returns a client that uses it.
async fn send_token(user: &TestUser, name: &str) -> TestUser {
    let created = user.post("/api/v1/tokens", json!({ "name": name })).await;
    assert_eq!(created.status, 201, "create token: {}", created.body);
    user.with_token(created.body["token"].as_str().expect("token"))
}

/// The HTTP status a WebSocket upgrade with `token` in the header is refused with.
async fn refused_upgrade(server: &TestServer, token: &str) -> u16 {
    let url = format!("ws://{}/api/v1/ws", server.addr);
    let mut request = url.into_client_request().expect("ws url");
    request.headers_mut().insert(
        "authorization",
        format!("Bearer {token}").parse().expect("header"),
    );
    match tokio_tungstenite::connect_async(request).await {
        Ok(_) => panic!("the upgrade was accepted"),
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => response.status().as_u16(),
        Err(other) => panic!("expected an HTTP refusal, got {other}"),
    }
}

/// Every route that needs a token, aimed at `victim`'s data where it takes an id.
fn protected_routes(victim: &TestUser, note: i64) -> Vec<(&'static str, String, Value)> {
    let user = format!("/api/v1/users/{}", victim.id);
    vec![
        ("POST", "/api/v1/auth/logout".into(), json!({})),
        ("GET", "/api/v1/me".into(), json!({})),
        ("GET", "/api/v1/users".into(), json!({})),
        (
            "POST",
            "/api/v1/users".into(),
            json!({"username": "mallory", "password": "password-mallory"}),
        ),
        ("PATCH", user.clone(), json!({"disabled": true})),
        ("DELETE", user, json!({})),
        ("GET", "/api/v1/tokens".into(), json!({})),
        ("POST", "/api/v1/tokens".into(), json!({"name": "ci"})),
        ("DELETE", "/api/v1/tokens/1".into(), json!({})),
        ("GET", "/api/v1/notifications".into(), json!({})),
        (
            "POST",
            "/api/v1/notifications".into(),
            json!({"to": [victim.username], "title": "spoofed"}),
        ),
        ("GET", "/api/v1/notifications/counts".into(), json!({})),
        (
            "POST",
            "/api/v1/notifications/read".into(),
            json!({"all": true}),
        ),
        (
            "POST",
            "/api/v1/notifications/unread".into(),
            json!({"ids": [note]}),
        ),
        (
            "POST",
            "/api/v1/notifications/delete".into(),
            json!({"ids": [note]}),
        ),
        ("DELETE", format!("/api/v1/notifications/{note}"), json!({})),
        ("GET", "/api/v1/events?since=0".into(), json!({})),
    ]
}

/// A user's two notifications: one they have read, one still new.
#[derive(Clone, Copy)]
struct Notes {
    read: i64,
    unread: i64,
}

async fn notes_for(sender: &TestUser, user: &TestUser) -> Notes {
    let read = sender.notify(&[&user.username], "already seen").await;
    let unread = sender.notify(&[&user.username], "still new").await;
    let marked = user
        .post("/api/v1/notifications/read", json!({ "ids": [read] }))
        .await;
    assert_eq!(marked.status, 200, "mark read: {}", marked.body);
    Notes { read, unread }
}

/// Alice and Bob on one server, each with a read and an unread notification.
struct Neighbours {
    _server: TestServer,
    alice: TestUser,
    bob: TestUser,
    alice_notes: Notes,
    bob_notes: Notes,
}

async fn neighbours() -> Neighbours {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let alice_notes = notes_for(&admin, &alice).await;
    let bob_notes = notes_for(&admin, &bob).await;
    Neighbours {
        _server: server,
        alice,
        bob,
        alice_notes,
        bob_notes,
    }
}

/// The routes that act on notification ids.
#[derive(Clone, Copy, Debug)]
enum IdRoute {
    Read,
    Unread,
    DeleteMany,
    DeleteOne,
}

impl IdRoute {
    async fn call(self, user: &TestUser, ids: &[i64]) -> TestResponse {
        let body = json!({ "ids": ids });
        match self {
            IdRoute::Read => user.post("/api/v1/notifications/read", body).await,
            IdRoute::Unread => user.post("/api/v1/notifications/unread", body).await,
            IdRoute::DeleteMany => user.post("/api/v1/notifications/delete", body).await,
            IdRoute::DeleteOne => {
                let [id] = ids else {
                    panic!("DELETE /notifications/{{id}} takes one id")
                };
                user.delete(&format!("/api/v1/notifications/{id}")).await
            }
        }
    }

    /// The notification this route would change: an unread one to mark read, a
    /// read one to mark unread, any one to delete.
    fn target(self, notes: Notes) -> i64 {
        match self {
            IdRoute::Unread => notes.read,
            IdRoute::Read | IdRoute::DeleteMany | IdRoute::DeleteOne => notes.unread,
        }
    }
}

/// Bob aims `route` at Alice's notification: 404, and neither inbox moves.
async fn bob_is_refused_alice_notification(route: IdRoute) {
    let n = neighbours().await;
    let alice_before = inbox(&n.alice).await;
    let bob_before = inbox(&n.bob).await;

    let response = route.call(&n.bob, &[route.target(n.alice_notes)]).await;

    response.assert_refused(404, "not_found");
    assert_eq!(
        inbox(&n.alice).await,
        alice_before,
        "{route:?} changed alice"
    );
    assert_eq!(inbox(&n.bob).await, bob_before, "{route:?} changed bob");
}

#[tokio::test]
async fn bob_cannot_mark_alice_notification_read() {
    bob_is_refused_alice_notification(IdRoute::Read).await;
}

#[tokio::test]
async fn bob_cannot_mark_alice_notification_unread() {
    bob_is_refused_alice_notification(IdRoute::Unread).await;
}

#[tokio::test]
async fn bob_cannot_batch_delete_alice_notification() {
    bob_is_refused_alice_notification(IdRoute::DeleteMany).await;
}

#[tokio::test]
async fn bob_cannot_delete_alice_notification_by_id() {
    bob_is_refused_alice_notification(IdRoute::DeleteOne).await;
}

#[tokio::test]
async fn a_list_with_alice_id_changes_none_of_bobs_own() {
    let n = neighbours().await;
    for route in [IdRoute::Read, IdRoute::Unread, IdRoute::DeleteMany] {
        let alice_before = inbox(&n.alice).await;
        let bob_before = inbox(&n.bob).await;

        let ids = [route.target(n.bob_notes), route.target(n.alice_notes)];
        let response = route.call(&n.bob, &ids).await;

        response.assert_refused(404, "not_found");
        assert_eq!(
            inbox(&n.bob).await,
            bob_before,
            "{route:?} changed bob's own"
        );
        assert_eq!(
            inbox(&n.alice).await,
            alice_before,
            "{route:?} changed alice"
        );
    }
}

#[tokio::test]
async fn broadcast_deleted_by_alice_still_exists_for_bob() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let id = admin.broadcast("maintenance tonight").await;

    let deleted = alice.delete(&format!("/api/v1/notifications/{id}")).await;

    assert_eq!(deleted.status, 204, "delete: {}", deleted.body);
    assert!(alice.ids("kind=broadcast").await.is_empty());
    assert_eq!(bob.ids("kind=broadcast").await, vec![id]);
    assert_eq!(bob.ids("status=unread").await, vec![id]);
    assert_eq!(bob.counts().await.broadcast, 1);
}

#[tokio::test]
async fn broadcast_read_by_alice_stays_unread_for_bob() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let first = admin.broadcast("maintenance tonight").await;
    let second = admin.broadcast("maintenance done").await;

    let by_id = alice
        .post("/api/v1/notifications/read", json!({ "ids": [first] }))
        .await;
    let all = alice
        .post(
            "/api/v1/notifications/read",
            json!({"all": true, "kind": "broadcast"}),
        )
        .await;

    assert_eq!(by_id.status, 200, "read: {}", by_id.body);
    assert_eq!(all.status, 200, "read all: {}", all.body);
    assert!(alice.ids("status=unread").await.is_empty());
    assert_eq!(bob.ids("status=unread").await, vec![second, first]);
    assert_eq!(bob.counts().await.broadcast, 2);
}

#[tokio::test]
async fn bob_cannot_revoke_alice_tokens() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let ci = send_token(&alice, "ci").await;
    let tokens = alice.get("/api/v1/tokens").await;
    assert_eq!(tokens.status, 200, "tokens: {}", tokens.body);
    let ids: Vec<i64> = tokens
        .body
        .as_array()
        .expect("token list")
        .iter()
        .map(|t| t["id"].as_i64().expect("token id"))
        .collect();
    assert_eq!(ids.len(), 2, "a session and a send token: {}", tokens.body);

    for id in &ids {
        let response = bob.delete(&format!("/api/v1/tokens/{id}")).await;
        response.assert_refused(404, "not_found");
    }

    assert_eq!(alice.get("/api/v1/me").await.status, 200);
    assert_eq!(alice.get("/api/v1/tokens").await.body, tokens.body);
    ci.notify(&["bob"], "the send token still works").await;
}

#[tokio::test]
async fn non_admins_cannot_change_or_delete_users() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let attempts = [
        alice
            .patch(
                &format!("/api/v1/users/{}", bob.id),
                json!({"disabled": true}),
            )
            .await,
        alice
            .patch(
                &format!("/api/v1/users/{}", alice.id),
                json!({"role": "admin"}),
            )
            .await,
        alice.delete(&format!("/api/v1/users/{}", bob.id)).await,
    ];

    for response in &attempts {
        response.assert_refused(403, "forbidden");
    }
    let me = alice.get("/api/v1/me").await;
    assert_eq!(
        me.body["role"], "user",
        "alice promoted herself: {}",
        me.body
    );
    let bob_me = bob.get("/api/v1/me").await;
    assert_eq!(bob_me.status, 200, "bob's session ended: {}", bob_me.body);
    assert_eq!(bob_me.body["disabled"], false);
}

#[tokio::test]
async fn non_admins_cannot_create_users() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;

    let response = alice
        .post(
            "/api/v1/users",
            json!({"username": "mallory", "password": "password-mallory", "role": "admin"}),
        )
        .await;

    response.assert_refused(403, "forbidden");
    let found = admin.get("/api/v1/users?q=mallory").await;
    assert_eq!(found.body, json!([]), "mallory exists: {}", found.body);
    login_status(&server, "mallory")
        .await
        .assert_refused(401, "unauthorized");
}

#[tokio::test]
async fn admin_changing_an_unknown_user_gets_not_found() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    server.user("alice").await;
    let users_before = admin.get("/api/v1/users").await.body;

    let patched = admin
        .patch("/api/v1/users/9999", json!({"display_name": "Ghost"}))
        .await;
    let deleted = admin.delete("/api/v1/users/9999").await;

    patched.assert_refused(404, "not_found");
    deleted.assert_refused(404, "not_found");
    assert_eq!(admin.get("/api/v1/users").await.body, users_before);
}

#[tokio::test]
async fn non_admins_cannot_broadcast() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let ci = send_token(&alice, "ci").await;

    for sender in [&alice, &ci] {
        let response = sender
            .post(
                "/api/v1/notifications",
                json!({"broadcast": true, "title": "free pizza"}),
            )
            .await;
        response.assert_refused(403, "forbidden");
    }

    for user in [&admin, &alice, &bob] {
        assert!(user.ids("kind=broadcast").await.is_empty());
        assert_eq!(user.counts().await, Counts::default());
    }
}

#[tokio::test]
async fn send_tokens_may_only_publish() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    let ci = send_token(&alice, "ci").await;

    let sent = ci
        .post(
            "/api/v1/notifications",
            json!({"to": ["alice", "bob"], "title": "plan #42 finished"}),
        )
        .await;
    assert_eq!(sent.status, 201, "send: {}", sent.body);
    let alice_before = inbox(&alice).await;

    let reads = [
        ("GET", "/api/v1/notifications", json!({})),
        ("GET", "/api/v1/notifications/counts", json!({})),
        ("GET", "/api/v1/me", json!({})),
        ("GET", "/api/v1/events?since=0", json!({})),
        ("POST", "/api/v1/notifications/read", json!({"all": true})),
        ("GET", "/api/v1/users", json!({})),
        ("GET", "/api/v1/tokens", json!({})),
        ("POST", "/api/v1/tokens", json!({"name": "another"})),
    ];
    for (method, path, body) in &reads {
        let response = ci.call(method, path, body).await;
        assert_eq!(response.status, 403, "{method} {path}: {}", response.body);
        assert_eq!(response.error_code(), "forbidden", "{method} {path}");
    }

    assert_eq!(inbox(&alice).await, alice_before);
    assert_eq!(alice.counts().await.personal, 1);
}

#[tokio::test]
async fn send_tokens_cannot_open_the_websocket() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let ci = send_token(&alice, "ci").await;

    assert_eq!(refused_upgrade(&server, &ci.token).await, 403);

    let mut ws = WsClient::connect(&server.url(), None).await;
    ws.send(&ClientFrame::Auth {
        token: ci.token.clone(),
    })
    .await;
    match ws.next().await {
        ServerFrame::Error(detail) => assert_eq!(detail.code, "unauthorized"),
        other => panic!("expected an error frame, got {other:?}"),
    }
    assert_eq!(ws.closed().await, Some(1008));
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthorized() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let note = admin.notify(&["alice"], "deploy finished").await;
    let alice_before = inbox(&alice).await;
    let tokens_before = alice.get("/api/v1/tokens").await.body;
    let strangers = [
        server.anonymous(),
        server.anonymous().with_token("garbage"),
        server.anonymous().with_token(&format!("{}x", alice.token)),
    ];

    for stranger in &strangers {
        for (method, path, body) in protected_routes(&alice, note) {
            let response = stranger.call(method, &path, &body).await;
            assert_eq!(response.status, 401, "{method} {path}: {}", response.body);
            assert_eq!(response.error_code(), "unauthorized", "{method} {path}");
        }
    }
    assert_eq!(refused_upgrade(&server, "garbage").await, 401);

    assert_eq!(inbox(&alice).await, alice_before);
    assert_eq!(alice.get("/api/v1/tokens").await.body, tokens_before);
    let found = admin.get("/api/v1/users?q=mallory").await;
    assert_eq!(found.body, json!([]), "mallory exists: {}", found.body);
}

#[tokio::test]
async fn logout_ends_only_that_session() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let laptop = server.device(&alice, "laptop").await;

    let logout = laptop.post("/api/v1/auth/logout", json!({})).await;

    assert_eq!(logout.status, 204, "logout: {}", logout.body);
    laptop
        .get("/api/v1/me")
        .await
        .assert_refused(401, "unauthorized");
    laptop
        .post("/api/v1/auth/logout", json!({}))
        .await
        .assert_refused(401, "unauthorized");
    assert_eq!(alice.get("/api/v1/me").await.status, 200);
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions_and_refuses_login() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let laptop = server.device(&alice, "laptop").await;
    let ci = send_token(&alice, "ci").await;
    // Each token was just accepted, so the server may hold it in memory.
    for session in [&alice, &laptop] {
        assert_eq!(session.get("/api/v1/me").await.status, 200);
    }
    ci.notify(&["alice"], "before").await;

    let disabled = admin
        .patch(
            &format!("/api/v1/users/{}", alice.id),
            json!({"disabled": true}),
        )
        .await;

    assert_eq!(disabled.status, 200, "disable: {}", disabled.body);
    for session in [&alice, &laptop] {
        session
            .get("/api/v1/me")
            .await
            .assert_refused(401, "unauthorized");
    }
    let sent = ci
        .post(
            "/api/v1/notifications",
            json!({"to": ["admin"], "title": "hi"}),
        )
        .await;
    sent.assert_refused(401, "unauthorized");
    login_status(&server, "alice")
        .await
        .assert_refused(403, "forbidden");
    assert_eq!(admin.counts().await, Counts::default());
}

#[tokio::test]
async fn a_deleted_token_is_refused_on_its_very_next_request() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let ci = send_token(&alice, "ci").await;
    ci.notify(&["alice"], "accepted while the token exists")
        .await;
    let tokens = alice.get("/api/v1/tokens").await;
    let id = tokens
        .body
        .as_array()
        .expect("token list")
        .iter()
        .find(|t| t["name"] == "ci")
        .and_then(|t| t["id"].as_i64())
        .expect("the ci token");

    let deleted = alice.delete(&format!("/api/v1/tokens/{id}")).await;

    assert_eq!(deleted.status, 204, "delete token: {}", deleted.body);
    ci.post(
        "/api/v1/notifications",
        json!({"to": ["alice"], "title": "after"}),
    )
    .await
    .assert_refused(401, "unauthorized");
}

#[tokio::test]
async fn a_role_or_name_change_applies_to_the_very_next_request() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let create = |name: &str| json!({"username": name, "password": password_of(name)});
    alice
        .post("/api/v1/users", create("carol"))
        .await
        .assert_refused(403, "forbidden");
    let path = format!("/api/v1/users/{}", alice.id);

    let promoted = admin.patch(&path, json!({"role": "admin"})).await;
    assert_eq!(promoted.status, 200, "promote: {}", promoted.body);
    assert_eq!(
        alice.post("/api/v1/users", create("carol")).await.status,
        201
    );

    let demoted = admin
        .patch(&path, json!({"role": "user", "display_name": "Alice A."}))
        .await;
    assert_eq!(demoted.status, 200, "demote: {}", demoted.body);
    alice
        .post("/api/v1/users", create("dave"))
        .await
        .assert_refused(403, "forbidden");
    assert_eq!(
        alice.get("/api/v1/me").await.body["display_name"],
        "Alice A."
    );
}

/// A connection authenticates, then registers with the hub. A session ended in
/// between cannot close a connection the hub does not know yet, so the gateway
/// checks again after registering; this drives those steps in that order.
#[tokio::test]
async fn a_session_ended_between_authentication_and_registering_is_caught() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let laptop = server.device(&alice, "laptop").await;
    let bob = server.user("bob").await;
    let state = server.state();

    let (ended, epoch) = accounts::authenticate_at(state, &laptop.token)
        .await
        .expect("the laptop's session is valid");
    let logout = laptop.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(logout.status, 204, "logout: {}", logout.body);
    let _registered = state.hub.register(ended.user.id, ended.token.id);
    assert!(!accounts::still_valid(state, &ended, epoch).await.unwrap());

    // Someone else's logout in between is no reason to close the connection.
    let (live, epoch) = accounts::authenticate_at(state, &alice.token)
        .await
        .expect("alice's desktop session is valid");
    let logout = bob.post("/api/v1/auth/logout", json!({})).await;
    assert_eq!(logout.status, 204, "logout: {}", logout.body);
    let _registered = state.hub.register(live.user.id, live.token.id);
    assert!(accounts::still_valid(state, &live, epoch).await.unwrap());
}

#[tokio::test]
async fn websocket_first_frame_with_a_bad_token_is_refused_with_1008() {
    let server = TestServer::spawn().await;

    let mut ws = WsClient::connect(&server.url(), None).await;
    ws.send_text(r#"{"type":"auth","token":"bad"}"#).await;

    match ws.next().await {
        ServerFrame::Error(detail) => assert_eq!(detail.code, "unauthorized"),
        other => panic!("expected an error frame, got {other:?}"),
    }
    assert_eq!(ws.closed().await, Some(1008));
}

#[tokio::test]
async fn websocket_first_frame_other_than_auth_is_refused_with_1008() {
    let server = TestServer::spawn().await;

    let mut ws = WsClient::connect(&server.url(), None).await;
    ws.send_text(r#"{"type":"ping","id":1}"#).await;

    match ws.next().await {
        ServerFrame::Error(detail) => assert_eq!(detail.code, "unauthorized"),
        other => panic!("expected an error frame, got {other:?}"),
    }
    assert_eq!(ws.closed().await, Some(1008));
}

#[tokio::test]
async fn websocket_first_frame_with_a_valid_token_says_hello() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;

    let mut ws = WsClient::connect(&server.url(), None).await;
    ws.send(&ClientFrame::Auth {
        token: alice.token.clone(),
    })
    .await;

    match ws.next().await {
        ServerFrame::Hello { user, .. } => assert_eq!(user.username, "alice"),
        other => panic!("expected hello, got {other:?}"),
    }
    match ws.next().await {
        ServerFrame::Counts(counts) => assert_eq!(counts, Counts::default()),
        other => panic!("expected counts, got {other:?}"),
    }
    ws.send_text(r#"{"type":"ping","id":7}"#).await;
    match ws.next().await {
        ServerFrame::Reply { id, ok, .. } => assert!(id == 7 && ok, "reply {id} ok={ok}"),
        other => panic!("expected the ping's reply, got {other:?}"),
    }
}

#[tokio::test]
async fn bob_cannot_mark_alice_notification_read_over_the_websocket() {
    let n = neighbours().await;
    let alice_before = inbox(&n.alice).await;
    let bob_before = inbox(&n.bob).await;
    let mut ws = n.bob.ws().await;
    ws.hello().await;

    ws.send(&ClientFrame::MarkRead {
        id: 5,
        ids: Some(vec![n.bob_notes.unread, n.alice_notes.unread]),
        all: false,
        kind: None,
    })
    .await;

    match ws.next().await {
        ServerFrame::Reply { id, ok, error, .. } => {
            assert_eq!((id, ok), (5, false));
            assert_eq!(error.expect("error detail").code, "not_found");
        }
        other => panic!("expected the mark's reply, got {other:?}"),
    }
    assert_eq!(inbox(&n.alice).await, alice_before);
    assert_eq!(inbox(&n.bob).await, bob_before);
}

/// Frames the server sends before it closes the socket, and the close code.
async fn until_closed(ws: &mut WsClient) -> (Vec<String>, Option<u16>) {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(10);
    let mut frames = Vec::new();
    loop {
        match tokio::time::timeout_at(deadline, ws.stream.next()).await {
            Err(_) => panic!("socket still open; it got {frames:?}"),
            Ok(None) | Ok(Some(Err(_))) => return (frames, None),
            Ok(Some(Ok(Message::Close(frame)))) => {
                return (frames, frame.map(|f| u16::from(f.code)))
            }
            Ok(Some(Ok(Message::Text(text)))) => frames.push(text.to_string()),
            Ok(Some(Ok(_))) => {}
        }
    }
}

/// A socket that is past `hello`.
async fn connected(user: &TestUser) -> WsClient {
    let mut ws = user.ws().await;
    ws.hello().await;
    ws
}

/// Which of Alice's sessions a change ends.
#[derive(PartialEq)]
enum Ends {
    TheLaptopOnly,
    EveryDevice,
}

/// While Alice is online on her laptop and her desktop, `end(admin, alice,
/// laptop)` ends sessions, then the admin broadcasts: every ended session's
/// socket closes with 1008 having heard nothing more; a surviving one gets the
/// broadcast.
async fn ending_sessions_closes_their_websockets(
    end: impl AsyncFnOnce(&TestUser, &TestUser, &TestUser),
    ends: Ends,
) {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let laptop = server.device(&alice, "laptop").await;
    let mut laptop_ws = connected(&laptop).await;
    let mut desktop_ws = connected(&alice).await;

    end(&admin, &alice, &laptop).await;
    let broadcast = admin.broadcast("for active sessions only").await;

    assert_eq!(until_closed(&mut laptop_ws).await, (vec![], Some(1008)));
    if ends == Ends::EveryDevice {
        assert_eq!(until_closed(&mut desktop_ws).await, (vec![], Some(1008)));
    } else {
        match desktop_ws.next_event().await.1 {
            Event::NotificationCreated { notification } => {
                assert_eq!(notification.id, broadcast)
            }
            other => panic!("expected the broadcast, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn logout_closes_only_that_devices_websocket() {
    let end = async |_: &TestUser, _: &TestUser, laptop: &TestUser| {
        let logout = laptop.post("/api/v1/auth/logout", json!({})).await;
        assert_eq!(logout.status, 204, "logout: {}", logout.body);
    };
    ending_sessions_closes_their_websockets(end, Ends::TheLaptopOnly).await;
}

#[tokio::test]
async fn revoking_a_device_closes_its_websocket() {
    let end = async |_: &TestUser, alice: &TestUser, _: &TestUser| {
        let tokens = alice.get("/api/v1/tokens").await;
        let laptop = tokens
            .body
            .as_array()
            .expect("token list")
            .iter()
            .find(|t| t["name"] == "laptop")
            .and_then(|t| t["id"].as_i64())
            .expect("the laptop's session");
        let revoked = alice.delete(&format!("/api/v1/tokens/{laptop}")).await;
        assert_eq!(revoked.status, 204, "revoke: {}", revoked.body);
    };
    ending_sessions_closes_their_websockets(end, Ends::TheLaptopOnly).await;
}

#[tokio::test]
async fn disabling_a_user_closes_their_open_websockets() {
    let end = async |admin: &TestUser, alice: &TestUser, _: &TestUser| {
        let path = format!("/api/v1/users/{}", alice.id);
        let disabled = admin.patch(&path, json!({"disabled": true})).await;
        assert_eq!(disabled.status, 200, "disable: {}", disabled.body);
    };
    ending_sessions_closes_their_websockets(end, Ends::EveryDevice).await;
}

#[tokio::test]
async fn deleting_a_user_closes_their_open_websockets() {
    let end = async |admin: &TestUser, alice: &TestUser, _: &TestUser| {
        let deleted = admin.delete(&format!("/api/v1/users/{}", alice.id)).await;
        assert_eq!(deleted.status, 204, "delete: {}", deleted.body);
    };
    ending_sessions_closes_their_websockets(end, Ends::EveryDevice).await;
}

#[tokio::test]
async fn a_new_password_closes_the_users_open_websockets() {
    let end = async |admin: &TestUser, alice: &TestUser, _: &TestUser| {
        let path = format!("/api/v1/users/{}", alice.id);
        let changed = admin
            .patch(&path, json!({"password": "a-brand-new-password"}))
            .await;
        assert_eq!(changed.status, 200, "new password: {}", changed.body);
    };
    ending_sessions_closes_their_websockets(end, Ends::EveryDevice).await;
}

#[tokio::test]
async fn an_admin_may_not_disable_demote_or_delete_itself() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let me = format!("/api/v1/users/{}", admin.id);
    for change in [json!({"disabled": true}), json!({"role": "user"})] {
        admin
            .patch(&me, change)
            .await
            .assert_refused(403, "forbidden");
    }
    admin.delete(&me).await.assert_refused(403, "forbidden");
    assert_eq!(admin.get("/api/v1/me").await.body["role"], "admin");
}
