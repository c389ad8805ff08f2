//! Send rates and WebSocket caps: a sender past its burst gets `429
//! rate_limited` with `Retry-After` and nothing is stored; a user or an address
//! past a connection cap is refused with a clear answer.

use futures_util::SinkExt;
use herald_protocol::{ClientFrame, ServerFrame};
use herald_server::Config;
use herald_testkit::{client_id, TestResponse, TestServer, WsClient};
use serde_json::json;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::{Data, OpCode};
use tokio_tungstenite::tungstenite::protocol::frame::Frame;
use tokio_tungstenite::tungstenite::Message;

async fn server(tweak: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::spawn_with(tweak).await
}

fn assert_rate_limited(response: &TestResponse) {
    response.assert_refused(429, "rate_limited");
}

/// The `Retry-After` of a refused REST call, which `TestResponse` does not keep.
async fn retry_after_of_send(server: &TestServer, token: &str, body: serde_json::Value) -> u64 {
    let response = reqwest::Client::new()
        .post(format!("{}/api/v1/notifications", server.url()))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await
        .expect("send reaches the server");
    assert_eq!(response.status(), 429);
    response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok())
        .expect("a whole number of seconds in Retry-After")
}

#[tokio::test]
async fn publishing_past_the_burst_is_refused_with_retry_after_and_stores_nothing() {
    let server = server(|config| {
        config.publish_per_s = 1;
        config.publish_burst = 3;
    })
    .await;
    let admin = server.admin().await;
    let bob = server.user("bob").await;
    for n in 0..3 {
        admin.notify(&["bob"], &format!("build {n}")).await;
    }
    let refused = admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["bob"], "title": "one too many"}),
        )
        .await;
    assert_rate_limited(&refused);
    let body = json!({"to": ["bob"], "title": "still too many"});
    assert!(retry_after_of_send(&server, &admin.token, body).await >= 1);
    assert_eq!(
        bob.ids("status=all").await.len(),
        3,
        "refused sends stored nothing"
    );
    // Each token has its own budget: a CI job's send token is not starved by
    // the admin's session.
    let token = admin.post("/api/v1/tokens", json!({"name": "ci"})).await;
    assert_eq!(token.status, 201, "{}", token.body);
    let ci = admin.with_token(token.body["token"].as_str().expect("token"));
    ci.notify(&["bob"], "from CI").await;
}

#[tokio::test]
async fn chat_past_the_burst_is_refused_over_rest_and_the_websocket() {
    let server = server(|config| {
        config.chat_per_s = 1;
        config.chat_burst = 2;
    })
    .await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    alice.chat("bob", "one").await;
    alice.chat("bob", "two").await;
    let refused = alice
        .post(
            "/api/v1/messages",
            json!({"to": "bob", "content": "three", "client_id": client_id()}),
        )
        .await;
    assert_rate_limited(&refused);

    let mut ws = alice.ws_ready().await;
    ws.send(&ClientFrame::SendMessage {
        id: 7,
        to: Some("bob".into()),
        room: None,
        content: "four".into(),
        client_id: client_id(),
    })
    .await;
    let error = ws.reply(7).await.expect_err("refused");
    assert_eq!(error.code, "rate_limited", "{error:?}");
    assert!(error.message.contains("try again in"), "{error:?}");

    let conversation = bob.conversation_with("alice").await;
    assert_eq!(bob.history(conversation.id, "limit=10").await.len(), 2);
}

/// Opens `/api/v1/ws` and returns the HTTP status of a refused upgrade.
async fn refused_upgrade(server: &TestServer, token: Option<&str>) -> (u16, Option<String>) {
    let url = format!("{}/api/v1/ws", server.url().replacen("http", "ws", 1));
    let mut request = url.into_client_request().expect("ws url");
    if let Some(token) = token {
        request.headers_mut().insert(
            "authorization",
            format!("Bearer {token}").parse().expect("header"),
        );
    }
    match tokio_tungstenite::connect_async(request).await {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => {
            let retry_after = response
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned);
            (response.status().as_u16(), retry_after)
        }
        Ok(_) => panic!("the upgrade was accepted"),
        Err(e) => panic!("the upgrade failed otherwise: {e}"),
    }
}

#[tokio::test]
async fn a_user_over_the_websocket_cap_is_refused_before_and_after_authenticating() {
    let server = server(|config| config.ws_per_user = 2).await;
    let alice = server.user("alice").await;
    let first = alice.ws_ready().await;
    let _second = alice.ws_ready().await;
    let (status, retry_after) = refused_upgrade(&server, Some(&alice.token)).await;
    assert_eq!(status, 429);
    assert!(retry_after.is_some());
    // A browser authenticates with its first frame: refused then, with 1013.
    let mut browser = WsClient::connect(&server.url(), None).await;
    browser
        .send(&ClientFrame::Auth {
            token: alice.token.clone(),
        })
        .await;
    assert_eq!(browser.closed().await, Some(1013));
    // Closing one makes room.
    drop(first);
    let mut third = None;
    for _ in 0..100 {
        if server.state().hub.connections_of(alice.id) < 2 {
            third = Some(alice.ws_ready().await);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    assert!(third.is_some(), "the closed connection never left the hub");
}

#[tokio::test]
async fn sockets_waiting_to_authenticate_are_capped_per_address() {
    let server = server(|config| config.ws_unauthenticated_per_ip = 2).await;
    let alice = server.user("alice").await;
    let mut waiting = WsClient::connect(&server.url(), None).await;
    let _also_waiting = WsClient::connect(&server.url(), None).await;
    let (status, _) = refused_upgrade(&server, None).await;
    assert_eq!(status, 429);
    // A socket with a token in its upgrade is not waiting to authenticate.
    let _with_header = alice.ws_ready().await;
    // One that authenticates gives its place back.
    waiting
        .send(&ClientFrame::Auth {
            token: alice.token.clone(),
        })
        .await;
    assert!(matches!(waiting.next().await, ServerFrame::Hello { .. }));
    let _another = WsClient::connect(&server.url(), None).await;
}

#[tokio::test]
async fn a_text_frame_that_is_not_utf8_closes_with_1007() {
    let server = server(|_| {}).await;
    let alice = server.user("alice").await;
    let mut ws = alice.ws_ready().await;
    let invalid = Frame::message(vec![b'{', 0xff, 0xfe, b'}'], OpCode::Data(Data::Text), true);
    ws.stream
        .send(Message::Frame(invalid))
        .await
        .expect("frame sent");
    assert_eq!(ws.closed().await, Some(1007));
}
