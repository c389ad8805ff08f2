//! `herald chat` and `herald contacts` against a real in-process server: what a
//! person types and what they see.

use herald_protocol::{Contact, Message};
use herald_testkit::TestServer;

mod herald_cli;
use herald_cli::herald;

#[tokio::test]
async fn chat_send_then_history_shows_the_conversation_oldest_first() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;

    let sent = herald(
        &server,
        &bob,
        &["chat", "send", "alice", "build 42 is green"],
    )
    .await
    .ok();
    alice.chat("bob", "thanks!").await;

    assert!(sent.starts_with("Sent message #"), "{sent}");
    let shown = herald(&server, &bob, &["chat", "history", "alice"])
        .await
        .ok();
    let lines: Vec<&str> = shown.lines().collect();
    assert_eq!(lines.len(), 2, "{shown}");
    assert!(lines[0].ends_with("bob: build 42 is green"), "{shown}");
    assert!(lines[1].ends_with("alice: thanks!"), "{shown}");

    let newest = herald(
        &server,
        &bob,
        &["chat", "history", "alice", "-n", "1", "--json"],
    )
    .await
    .ok();
    let message: Message = serde_json::from_str(newest.trim()).expect("one JSON message");
    assert_eq!(message.content, "thanks!");
    let listed = herald(&server, &bob, &["chat", "ls"]).await.ok();
    assert!(
        listed.contains("alice") && listed.contains("alice: thanks!"),
        "{listed}"
    );
}

#[tokio::test]
async fn chat_send_with_the_same_client_id_sends_once() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let args = [
        "chat",
        "send",
        "alice",
        "deploy done",
        "--client-id",
        "ci-run-7",
        "--json",
    ];

    let first = herald(&server, &bob, &args).await.ok();
    let again = herald(&server, &bob, &args).await.ok();

    assert_eq!(first, again, "the retry returns the same message");
    let conversation = alice.conversation_with("bob").await;
    assert_eq!(alice.history(conversation.id, "").await.len(), 1);
}

#[tokio::test]
async fn chat_errors_are_one_line_with_a_fitting_exit_code() {
    let server = TestServer::spawn().await;
    let bob = server.user("bob").await;

    let unknown = herald(&server, &bob, &["chat", "send", "nobody", "hi"]).await;
    let empty = herald(&server, &bob, &["chat", "send", "alice", "  "]).await;
    let none = herald(&server, &bob, &["chat", "history", "admin"]).await;

    assert_eq!(unknown.code, 1, "{unknown:?}");
    assert!(unknown.stderr.contains("nobody"), "{unknown:?}");
    assert_eq!(empty.code, 1, "{empty:?}");
    assert_eq!(empty.stderr.trim().lines().count(), 1, "{empty:?}");
    assert_eq!(none.ok().trim(), "No messages with admin.");
}

#[tokio::test]
async fn contacts_add_ls_and_rm() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    server.user("bob").await;

    let added = herald(&server, &alice, &["contacts", "add", "bob"])
        .await
        .ok();
    let listed = herald(&server, &alice, &["contacts", "ls"]).await.ok();
    let json = herald(&server, &alice, &["contacts", "ls", "--json"])
        .await
        .ok();
    let removed = herald(&server, &alice, &["contacts", "rm", "bob"])
        .await
        .ok();
    let again = herald(&server, &alice, &["contacts", "rm", "bob"]).await;

    assert!(added.contains("bob"), "{added}");
    assert!(
        listed.contains("bob") && listed.contains("offline"),
        "{listed}"
    );
    let contact: Contact = serde_json::from_str(json.trim()).expect("one JSON contact");
    assert_eq!(contact.user.username, "bob");
    assert!(removed.contains("Removed bob"), "{removed}");
    assert_eq!(again.code, 4, "not a contact any more: {again:?}");
    let empty = herald(&server, &alice, &["contacts", "ls"]).await.ok();
    assert!(empty.starts_with("No contacts."), "{empty}");
}
