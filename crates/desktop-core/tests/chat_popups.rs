//! Chat popups are titled with who wrote (and where, in a room), from the cache
//! when it knows the conversation and from the server when it does not yet.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it
// only inside them).
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use herald_client::{Client, ClientOptions};
use herald_desktop_core::popup_content::chat_popup;
use herald_desktop_core::popups::ClickTarget;
use herald_testkit::{password_of, TestServer, TestUser};
use serde_json::json;

async fn user_named(server: &TestServer, username: &str, display_name: &str) -> TestUser {
    let created = server
        .admin()
        .await
        .post(
            "/api/v1/users",
            json!({"username": username, "password": password_of(username), "display_name": display_name}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    server
        .login(username, &password_of(username), "test-device")
        .await
}

async fn signed_in(server: &TestServer, username: &str) -> Client {
    let client = Client::open(ClientOptions::in_memory()).await.unwrap();
    client
        .login(&server.url(), username, &password_of(username), "desktop")
        .await
        .expect("login");
    client
}

/// Waits until the cache knows conversation `id`.
async fn cached(client: &Client, id: i64) {
    let wait = async {
        while client.conversation(id).await.unwrap().is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(30), wait)
        .await
        .expect("the conversation reaches the cache");
}

#[tokio::test]
async fn a_direct_message_is_titled_with_the_senders_display_name() {
    let server = TestServer::spawn().await;
    user_named(&server, "alice", "Alice Tester").await;
    let bob = user_named(&server, "bob", "Bob Builder").await;
    let alice = signed_in(&server, "alice").await;
    let message = bob.chat("alice", "hi").await;
    cached(&alice, message.conversation_id).await;

    let popup = chat_popup(&alice, message.conversation_id, "bob", "hi".into()).await;
    assert_eq!(popup.title, "Bob Builder");
    assert_eq!(popup.body, "hi");
    assert_eq!(
        popup.target,
        ClickTarget::Conversation(message.conversation_id)
    );
}

#[tokio::test]
async fn a_room_message_names_the_sender_and_the_room() {
    let server = TestServer::spawn().await;
    user_named(&server, "alice", "Alice Tester").await;
    let bob = user_named(&server, "bob", "Bob Builder").await;
    let alice = signed_in(&server, "alice").await;
    let room = bob.create_room("Release crew", &["alice"]).await;
    bob.chat_room(room.id, "shipping at 5").await;
    cached(&alice, room.id).await;

    let popup = chat_popup(&alice, room.id, "bob", "shipping at 5".into()).await;
    assert_eq!(popup.title, "bob in Release crew");
}

#[tokio::test]
async fn a_conversation_the_cache_does_not_know_yet_asks_the_server_for_the_name() {
    let server = TestServer::spawn().await;
    user_named(&server, "alice", "Alice Tester").await;
    user_named(&server, "carol", "Carol Ops").await;
    let alice = signed_in(&server, "alice").await;
    let unknown_conversation = 9_999;

    let popup = chat_popup(&alice, unknown_conversation, "carol", "up".into()).await;
    assert_eq!(popup.title, "Carol Ops");
    // Someone the directory does not know keeps their username.
    let popup = chat_popup(&alice, unknown_conversation, "ghost", "boo".into()).await;
    assert_eq!(popup.title, "ghost");
}
