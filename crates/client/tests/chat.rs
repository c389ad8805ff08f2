//! Chat through the client core: messages, read marks and deletes reach every
//! device; messages written offline are delivered once; the cache holds recent
//! history and searches it.

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it
// only inside them).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use herald_client::{ChatMessage, ClientEvent, MessageState, Recipient};
use herald_protocol::{Conversation, Message, Page, Room};
use herald_testkit::{TestServer, TestUser};
use serde_json::json;

/// Each conversation on the server as `(id, unread, last message id)`.
async fn server_conversations(user: &TestUser) -> Vec<(i64, i64, Option<i64>)> {
    let page: Page<Conversation> = user.get("/api/v1/conversations?limit=200").await.json();
    page.items
        .iter()
        .map(|c| (c.id, c.unread_count, c.last_message.as_ref().map(|m| m.id)))
        .collect()
}

async fn cached_conversations(device: &Device) -> Vec<(i64, i64, Option<i64>)> {
    device
        .client
        .conversations()
        .await
        .unwrap()
        .iter()
        .map(|c| {
            (
                c.id,
                c.unread_count,
                c.last_message.as_ref().and_then(|m| m.id),
            )
        })
        .collect()
}

/// Waits until the device lists the user's conversations as the server does.
async fn chats_converged(device: &Device, user: &TestUser) {
    eventually("the conversation list matches the server", || async {
        (server_conversations(user).await == cached_conversations(device).await).then_some(())
    })
    .await
}

async fn server_history(user: &TestUser, conversation: i64) -> Vec<Message> {
    let page: Page<Message> = user
        .get(&format!(
            "/api/v1/conversations/{conversation}/messages?limit=200"
        ))
        .await
        .json();
    page.items
}

fn contents(messages: &[ChatMessage]) -> Vec<(&str, MessageState)> {
    messages
        .iter()
        .map(|m| (m.content.as_str(), m.state))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_reaches_the_peer_and_the_read_mark_comes_back_as_a_receipt() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let on_alice = device(&server, &alice, "laptop").await;
    let on_bob = device(&server, &bob, "desktop").await;
    let mut bob_events = on_bob.client.events();

    let sent = on_alice
        .client
        .send_message(Recipient::User("bob".into()), "the nightly run is red")
        .await
        .unwrap();
    assert_eq!(sent.state, MessageState::Pending);
    let received = next_event(
        &mut bob_events,
        "the message on bob's desktop",
        |e| match e {
            ClientEvent::MessageAdded {
                message,
                live: true,
            } => Some(message.clone()),
            _ => None,
        },
    )
    .await;
    assert_eq!(received.content, "the nightly run is red");
    assert_eq!(received.sender.as_deref(), Some("alice"));
    settled(&on_alice.client).await;
    chats_converged(&on_bob, &bob).await;
    assert_eq!(on_bob.client.counts().await.unwrap().chats, 1);
    let conversation = received.conversation_id.expect("delivered");

    // Alice sees her message delivered, in place of the pending one.
    let history = on_alice
        .client
        .history(conversation, None, 50)
        .await
        .unwrap();
    assert_eq!(
        contents(&history),
        vec![("the nightly run is red", MessageState::Sent)]
    );
    assert_eq!(history[0].local_id, sent.local_id);

    on_bob
        .client
        .mark_conversation_read(conversation)
        .await
        .unwrap();
    assert_eq!(on_bob.client.counts().await.unwrap().chats, 0, "at once");
    settled(&on_bob.client).await;
    chats_converged(&on_bob, &bob).await;
    let receipt = eventually("alice sees bob's read receipt", || async {
        let c = on_alice.client.conversation(conversation).await.unwrap()?;
        c.peer_read_up_to
            .filter(|&up_to| Some(up_to) == received.id)
    })
    .await;
    assert_eq!(Some(receipt), received.id);
    let bob_view = on_bob
        .client
        .conversation(conversation)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(bob_view.title, "alice");
    assert_eq!(bob_view.peer.map(|p| p.username).as_deref(), Some("alice"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_written_offline_are_delivered_once_in_order() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.user("carol").await;
    bob.chat("alice", "are you there?").await;
    let laptop = device(&server, &alice, "laptop").await;
    let with_bob = alice.conversation_with("bob").await.id;
    laptop.client.disconnect().await;

    let c = &laptop.client;
    c.send_message(Recipient::Conversation(with_bob), "yes")
        .await
        .unwrap();
    c.send_message(Recipient::Conversation(with_bob), "on a train")
        .await
        .unwrap();
    // A first message to carol: no conversation exists yet.
    let to_carol = c
        .send_message(Recipient::User("carol".into()), "lunch?")
        .await
        .unwrap();
    assert_eq!(to_carol.conversation_id, None);
    assert_eq!(c.pending_actions().await.unwrap(), 3);
    let shown = c.history(with_bob, None, 10).await.unwrap();
    assert_eq!(
        contents(&shown),
        vec![
            ("on a train", MessageState::Pending),
            ("yes", MessageState::Pending),
            ("are you there?", MessageState::Sent)
        ]
    );

    c.connect(laptop.credentials.clone()).await.unwrap();
    settled(c).await;
    chats_converged(&laptop, &alice).await;
    let on_server: Vec<String> = server_history(&alice, with_bob)
        .await
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(on_server, vec!["on a train", "yes", "are you there?"]);
    let shown = c.history(with_bob, None, 10).await.unwrap();
    assert_eq!(
        contents(&shown),
        vec![
            ("on a train", MessageState::Sent),
            ("yes", MessageState::Sent),
            ("are you there?", MessageState::Sent)
        ]
    );
    let with_carol = alice.conversation_with("carol").await.id;
    let shown = c.history(with_carol, None, 10).await.unwrap();
    assert_eq!(contents(&shown), vec![("lunch?", MessageState::Sent)]);
    assert_eq!(shown[0].local_id, to_carol.local_id);
    let listed = c.conversation(with_carol).await.unwrap().unwrap();
    eventually("carol's conversation has its details", || async {
        let c = c.conversation(with_carol).await.unwrap()?;
        (c.title == "carol").then_some(())
    })
    .await;
    assert_eq!(listed.unread_count, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deletes_reach_everyone_or_only_the_deleter_as_the_design_says() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let on_alice = device(&server, &alice, "laptop").await;
    let on_bob = device(&server, &bob, "desktop").await;
    let mine = bob.chat("alice", "wrong channel, sorry").await;
    let theirs = alice.chat("bob", "no worries").await;
    let kept = bob.chat("alice", "see you at 3").await;
    chats_converged(&on_alice, &alice).await;
    chats_converged(&on_bob, &bob).await;
    let conversation = mine.conversation_id;

    // Bob deletes his own message: gone for both. He hides alice's: gone for him only.
    on_bob
        .client
        .delete_messages(&[mine.id], None)
        .await
        .unwrap();
    on_bob
        .client
        .delete_messages(&[theirs.id], None)
        .await
        .unwrap();
    let bob_sees = on_bob.client.history(conversation, None, 10).await.unwrap();
    assert_eq!(
        bob_sees.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![Some(kept.id)],
        "at once"
    );
    settled(&on_bob.client).await;
    let alice_sees = eventually("bob's delete reaches alice", || async {
        let shown = on_alice
            .client
            .history(conversation, None, 10)
            .await
            .unwrap();
        (shown.len() == 2).then_some(shown)
    })
    .await;
    assert_eq!(
        alice_sees.iter().map(|m| m.id).collect::<Vec<_>>(),
        vec![Some(kept.id), Some(theirs.id)]
    );
    chats_converged(&on_alice, &alice).await;
    chats_converged(&on_bob, &bob).await;
    let on_server: Vec<i64> = server_history(&bob, conversation)
        .await
        .iter()
        .map(|m| m.id)
        .collect();
    assert_eq!(on_server, vec![kept.id]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_first_login_caches_recent_history_rooms_and_contacts_for_offline_use() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    server.user("carol").await;
    alice.add_contact("bob").await;
    let room = alice.create_room("release-crew", &["bob", "carol"]).await;
    bob.chat_room(room.id, "the release branch is cut").await;
    for i in 0..30 {
        bob.chat("alice", &format!("checklist item {i}")).await;
    }

    let laptop = device(&server, &alice, "laptop").await;
    chats_converged(&laptop, &alice).await;
    assert_eq!(laptop.client.counts().await.unwrap().chats, 31);
    let contacts = laptop.client.contacts().await.unwrap();
    assert_eq!(contacts.len(), 1);
    assert_eq!(contacts[0].user.username, "bob");
    let rooms: Vec<_> = laptop
        .client
        .conversations()
        .await
        .unwrap()
        .into_iter()
        .filter(|c| c.room.is_some())
        .collect();
    assert_eq!(rooms.len(), 1);
    assert_eq!(rooms[0].title, "release-crew");

    laptop.client.disconnect().await;
    let with_bob = alice.conversation_with("bob").await.id;
    let page = laptop.client.history(with_bob, None, 20).await.unwrap();
    assert_eq!(page.len(), 20);
    assert_eq!(page[0].content, "checklist item 29");
    let hits = laptop
        .client
        .search_messages("release bran", 10)
        .await
        .unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].message.content, "the release branch is cut");

    // Leaving the room removes it from the list on the next sync.
    let r = alice
        .delete(&format!("/api/v1/rooms/{}/members/alice", room.id))
        .await;
    assert!(r.status < 300, "{}", r.body);
    laptop
        .client
        .connect(laptop.credentials.clone())
        .await
        .unwrap();
    settled(&laptop.client).await;
    chats_converged(&laptop, &alice).await;
    assert!(laptop.client.conversation(room.id).await.unwrap().is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_search_finds_people_by_prefix_and_says_who_is_already_a_contact() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    server.user("bobby").await;
    server.user("carol").await;
    alice.add_contact("bobby").await;
    let laptop = device(&server, &alice, "laptop").await;

    let found = laptop.client.search_users("  bo ", 10).await.unwrap();
    let names: Vec<(&str, bool)> = found
        .iter()
        .map(|f| (f.user.username.as_str(), f.is_contact))
        .collect();
    assert_eq!(names, [("bob", false), ("bobby", true)]);
    assert!(laptop
        .client
        .search_users("zed", 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn searches_refuse_empty_oversized_and_unbounded_queries_with_a_reason() {
    let client = herald_client::Client::open(herald_client::ClientOptions::in_memory())
        .await
        .unwrap();
    let long = "x".repeat(herald_client::client::MAX_SEARCH_CHARS + 1);
    for (query, limit, expected) in [
        ("   ", 10, "type something to search for"),
        (long.as_str(), 10, "a search is at most 100 characters"),
        ("deploy", 0, "a search returns between 1 and 200 results"),
    ] {
        let notifications = client.search(query, limit).await.unwrap_err();
        assert_eq!(notifications.to_string(), expected);
        let messages = client.search_messages(query, limit).await.unwrap_err();
        assert_eq!(messages.to_string(), expected);
        let users = client.search_users(query, limit).await.unwrap_err();
        assert_eq!(users.to_string(), expected);
    }
    // Valid, but not signed in: the directory is on the server.
    assert!(matches!(
        client.search_users("bo", 10).await,
        Err(herald_client::Error::NotLoggedIn)
    ));
}

/// Sends `content` to `to`, whom the server does not know (or no longer takes
/// messages for), and waits until the message is marked failed.
async fn refused_send(
    device: &Device,
    events: &mut herald_client::EventStream,
    to: &str,
    content: &str,
) -> ChatMessage {
    let written = device
        .client
        .send_message(Recipient::User(to.into()), content)
        .await
        .unwrap();
    next_event(events, "the message marked failed", |e| match e {
        ClientEvent::MessageChanged { message }
            if message.local_id == written.local_id && message.state == MessageState::Failed =>
        {
            Some(message.clone())
        }
        _ => None,
    })
    .await
}

/// Waits until the message written as `local_id` is gone from the cache.
async fn removed(events: &mut herald_client::EventStream, local_id: i64) {
    next_event(events, "the failed message removed", |e| match e {
        ClientEvent::MessageRemoved { local_id: gone, .. } if *gone == local_id => Some(()),
        _ => None,
    })
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_can_be_sent_again_once_the_server_would_take_it() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let laptop = device(&server, &alice, "laptop").await;
    let mut events = laptop.client.events();

    // No one is called carol yet: the server refuses the message.
    let failed = refused_send(&laptop, &mut events, "carol", "lunch?").await;
    let carol = server.user("carol").await;
    let again = laptop.client.retry_failed(failed.local_id).await.unwrap();
    assert_eq!(again.state, MessageState::Pending);
    assert_eq!(
        (again.content.as_str(), again.peer.as_deref()),
        ("lunch?", Some("carol"))
    );
    removed(&mut events, failed.local_id).await;
    settled(&laptop.client).await;
    let with_alice = carol.conversation_with("alice").await.id;
    let received: Vec<String> = server_history(&carol, with_alice)
        .await
        .into_iter()
        .map(|m| m.content)
        .collect();
    assert_eq!(received, vec!["lunch?"]);

    // Only a failed message can be retried: this one is sent now.
    assert!(laptop.client.retry_failed(again.local_id).await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_message_can_be_discarded() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let laptop = device(&server, &alice, "laptop").await;
    let mut events = laptop.client.events();

    let failed = refused_send(&laptop, &mut events, "nobody", "hello?").await;
    assert!(laptop.client.discard_failed(failed.local_id).await.unwrap());
    removed(&mut events, failed.local_id).await;
    assert!(!laptop.client.discard_failed(failed.local_id).await.unwrap());
    assert!(laptop.client.retry_failed(failed.local_id).await.is_err());
}

/// The room as `device` has it cached: `(owner, members)`, or `None` when the
/// room is not in its list.
async fn cached_room(device: &Device, room: i64) -> Option<(Option<String>, Vec<String>)> {
    let conversation = device.client.conversation(room).await.unwrap()?;
    let room = conversation.room.expect("a room's details");
    Some((room.owner, room.members))
}

/// Waits until each device shows the room as `expected` (`None`: not at all).
async fn rooms_converged(
    devices: &[&Device],
    room: i64,
    expected: Option<(Option<&str>, &[&str])>,
) {
    let expected = expected.map(|(owner, members)| {
        let members = members.iter().map(|m| m.to_string()).collect::<Vec<_>>();
        (owner.map(str::to_owned), members)
    });
    for device in devices {
        eventually("the device shows the room's members", || async {
            (cached_room(device, room).await == expected).then_some(())
        })
        .await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_device_follows_a_rooms_members_as_they_come_and_go() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    server.user("dave").await;
    let room = alice.create_room("standup", &["bob"]).await.id;
    let members = format!("/api/v1/rooms/{room}/members");
    let laptop = device(&server, &alice, "laptop").await;
    let phone = device(&server, &alice, "phone").await;
    let bobs = device(&server, &bob, "laptop").await;
    let carols = device(&server, &carol, "laptop").await;
    rooms_converged(
        &[&laptop, &phone, &bobs],
        room,
        Some((Some("alice"), &["alice", "bob"])),
    )
    .await;
    rooms_converged(&[&carols], room, None).await;

    // The phone sleeps through the first changes and catches up by replay.
    phone.client.disconnect().await;
    for name in ["carol", "dave"] {
        let added = alice.post(&members, json!({"username": name})).await;
        assert_eq!(added.status, 200, "add {name}: {}", added.body);
    }
    let everyone = ["alice", "bob", "carol", "dave"];
    rooms_converged(
        &[&laptop, &bobs, &carols],
        room,
        Some((Some("alice"), &everyone)),
    )
    .await;
    phone
        .client
        .connect(phone.credentials.clone())
        .await
        .unwrap();
    rooms_converged(&[&phone], room, Some((Some("alice"), &everyone))).await;

    // Bob leaves, Dave is removed, then the owner leaves: Bob (the longest
    // standing after her) has gone, so Carol takes over.
    for (who, path) in [(&bob, "bob"), (&alice, "dave"), (&alice, "alice")] {
        let removed = who.delete(&format!("{members}/{path}")).await;
        assert_eq!(removed.status, 200, "remove {path}: {}", removed.body);
    }
    rooms_converged(&[&carols], room, Some((Some("carol"), &["carol"]))).await;
    rooms_converged(&[&laptop, &phone, &bobs], room, None).await;
    let on_server: Vec<Room> = carol.get("/api/v1/rooms").await.json();
    assert_eq!(on_server[0].owner.as_deref(), Some("carol"));
    assert_eq!(on_server[0].members, ["carol"]);
}
