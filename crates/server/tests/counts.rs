//! The `counts` a connection is sent always equal `GET /notifications/counts`,
//! whether the gateway worked them out from the event (new notifications,
//! broadcasts, chat messages) or had to ask the store (read, unread, delete).

use herald_protocol::{ClientFrame, Counts, ServerFrame};
use herald_testkit::{TestServer, TestUser, WsClient};
use serde_json::json;

/// The `counts` frame that ends the batch carrying the next event.
async fn counts_after_next_event(ws: &mut WsClient) -> Counts {
    let mut saw_event = false;
    loop {
        match ws.next().await {
            ServerFrame::Event { .. } => saw_event = true,
            ServerFrame::Counts(counts) if saw_event => return counts,
            _ => {}
        }
    }
}

/// After a change that gives each of the user's devices one event: every
/// device's new counts equal what REST says (asked once the event is there, so
/// the change has committed), and that is `expected`.
async fn devices_agree(user: &TestUser, devices: &mut [&mut WsClient], expected: Counts) {
    let mut seen = Vec::new();
    for ws in devices.iter_mut() {
        seen.push(counts_after_next_event(ws).await);
    }
    assert_eq!(user.counts().await, expected, "GET /counts");
    assert!(seen.iter().all(|c| *c == expected), "devices: {seen:?}");
}

fn counts(personal: i64, broadcast: i64, chats: i64) -> Counts {
    Counts::new(personal, broadcast, chats)
}

#[tokio::test]
async fn counts_frames_on_two_devices_always_equal_rest() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let laptop = server.user("alice").await;
    let desktop = server.device(&laptop, "desktop").await;
    let bob = server.user("bob").await;
    let (mut on_laptop, _) = WsClient::connect_ready(&server.url(), &laptop.token).await;
    let (mut on_desktop, _) = WsClient::connect_ready(&server.url(), &desktop.token).await;
    let mut both = [&mut on_laptop, &mut on_desktop];

    let first = admin.notify(&["alice"], "first").await;
    devices_agree(&laptop, &mut both, counts(1, 0, 0)).await;
    let second = admin.notify(&["alice", "bob"], "second").await;
    devices_agree(&laptop, &mut both, counts(2, 0, 0)).await;
    let broadcast = admin.broadcast("everyone").await;
    devices_agree(&laptop, &mut both, counts(2, 1, 0)).await;

    laptop
        .post(
            "/api/v1/notifications/read",
            json!({"ids": [first, broadcast]}),
        )
        .await;
    devices_agree(&laptop, &mut both, counts(1, 0, 0)).await;
    desktop
        .post("/api/v1/notifications/unread", json!({"ids": [broadcast]}))
        .await;
    devices_agree(&laptop, &mut both, counts(1, 1, 0)).await;
    desktop
        .delete(&format!("/api/v1/notifications/{second}"))
        .await;
    devices_agree(&laptop, &mut both, counts(0, 1, 0)).await;
    laptop
        .post("/api/v1/notifications/read", json!({"all": true}))
        .await;
    devices_agree(&laptop, &mut both, counts(0, 0, 0)).await;
    laptop
        .post(
            "/api/v1/notifications/unread",
            json!({"all": true, "kind": "personal"}),
        )
        .await;
    devices_agree(&laptop, &mut both, counts(1, 0, 0)).await;

    // Over the WebSocket: the laptop marks read; both devices follow.
    both[0]
        .send(&ClientFrame::MarkRead {
            id: 1,
            ids: Some(vec![first]),
            all: false,
            kind: None,
        })
        .await;
    devices_agree(&laptop, &mut both, counts(0, 0, 0)).await;

    // Chat: a message from Bob is unread for Alice; her own reply is not.
    bob.chat("alice", "hi").await;
    devices_agree(&laptop, &mut both, counts(0, 0, 1)).await;
    laptop.chat("bob", "hello").await;
    devices_agree(&laptop, &mut both, counts(0, 0, 1)).await;

    admin.broadcast("again").await;
    devices_agree(&laptop, &mut both, counts(0, 1, 1)).await;
    assert_eq!(bob.counts().await, counts(1, 2, 1));
}

#[tokio::test]
async fn a_broadcast_to_many_sessions_leaves_each_with_its_own_exact_counts() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let old = admin.broadcast("old news").await;
    alice
        .post("/api/v1/notifications/read", json!({"ids": [old]}))
        .await;
    admin.notify(&["bob"], "for bob").await;
    let mut alice_ws = alice.ws_ready().await;
    let mut bob_ws = bob.ws_ready().await;

    for n in 0..3 {
        admin.broadcast(&format!("broadcast {n}")).await;
        devices_agree(&alice, &mut [&mut alice_ws], counts(0, n + 1, 0)).await;
        devices_agree(&bob, &mut [&mut bob_ws], counts(1, n + 2, 0)).await;
    }
}
