//! Chat over real sockets: direct messages and rooms between several users with
//! several devices each, offline delivery, idempotent retries, history paging,
//! read receipts, deletes, contacts and the conversation list.

use std::time::Duration;

use herald_protocol::{
    ClientFrame, Contact, Conversation, ConversationKind, Event, FoundUser, Message, Page, Room,
    ServerFrame,
};
use herald_testkit::{client_id, TestServer, TestUser, WsClient};
use serde_json::json;

/// Long enough for a frame that is coming to arrive on a loaded machine.
const QUIET: Duration = Duration::from_millis(300);

/// The message of a `message.created` event.
fn created(event: Event) -> Message {
    match event {
        Event::MessageCreated { message } => message,
        other => panic!("expected message.created, got {other:?}"),
    }
}

/// Every event that arrives within [`QUIET`].
async fn quiet_events(ws: &mut WsClient) -> Vec<Event> {
    ws.drain(QUIET)
        .await
        .into_iter()
        .filter_map(|frame| match frame {
            ServerFrame::Event { event, .. } => Some(event),
            _ => None,
        })
        .collect()
}

async fn conversations(user: &TestUser, query: &str) -> Page<Conversation> {
    let page = user.get(&format!("/api/v1/conversations?{query}")).await;
    assert_eq!(page.status, 200, "conversations: {}", page.body);
    page.json()
}

#[tokio::test]
async fn a_direct_message_reaches_every_device_of_both_users() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let alice_laptop = server.device(&alice, "laptop").await;
    let bob_laptop = server.device(&bob, "laptop").await;
    let mut sockets = Vec::new();
    for device in [&alice, &alice_laptop, &bob, &bob_laptop] {
        sockets.push(device.ws_ready().await);
    }

    let sent = alice.chat("bob", "lunch at noon?").await;

    assert_eq!(sent.sender.as_deref(), Some("alice"));
    assert_eq!(sent.content, "lunch at noon?");
    for ws in &mut sockets {
        assert_eq!(created(ws.next_event().await.1), sent);
    }
    assert_eq!(sockets[2].next_counts().await.chats, 1);
    assert_eq!(sockets[3].next_counts().await.chats, 1);
    assert_eq!(bob.counts().await.chats, 1);
    assert_eq!(bob.counts().await.unread_total, 1);
    assert_eq!(
        alice.counts().await.chats,
        0,
        "own messages are never unread"
    );
}

#[tokio::test]
async fn a_message_to_an_offline_user_arrives_when_they_reconnect() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (ws, cursor) = WsClient::connect_ready(&server.url(), &bob.token).await;
    drop(ws);

    let mut sent = Vec::new();
    for text in ["are you there?", "the build is red", "ping"] {
        sent.push(alice.chat("bob", text).await);
    }

    let mut ws = bob.ws().await;
    ws.hello().await;
    ws.send(&ClientFrame::Subscribe {
        id: Some(1),
        since: cursor,
    })
    .await;
    let mut replayed = Vec::new();
    let mut last = cursor;
    for _ in &sent {
        let (at, event) = ws.next_event().await;
        replayed.push(created(event));
        last = at;
    }
    assert_eq!(replayed, sent);
    assert_eq!(ws.next_counts().await.chats, 3);
    assert_eq!(ws.reply(1).await.expect("subscribed")["cursor"], last);
}

#[tokio::test]
async fn a_retry_with_the_same_client_id_returns_the_original_message() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut bob_ws = bob.ws_ready().await;
    let body = json!({"to": "bob", "content": "deploying now", "client_id": "retry-1"});

    let first = alice.post("/api/v1/messages", body.clone()).await;
    let again = alice.post("/api/v1/messages", body.clone()).await;

    assert_eq!(first.status, 201, "first: {}", first.body);
    assert_eq!(again.status, 200, "retry: {}", again.body);
    assert_eq!(first.body, again.body);
    let events = quiet_events(&mut bob_ws).await;
    assert_eq!(events.len(), 1, "one message.created, not two: {events:?}");

    // Over the WebSocket, the same key is the same message too.
    let mut alice_ws = alice.ws_ready().await;
    alice_ws
        .send(&ClientFrame::SendMessage {
            id: 4,
            to: Some("bob".into()),
            room: None,
            content: "deploying now".into(),
            client_id: "retry-1".into(),
        })
        .await;
    assert_eq!(alice_ws.reply(4).await.expect("retry over ws"), first.body);

    // The key is the sender's: Bob may use the same one for his own message.
    let bobs = bob
        .post(
            "/api/v1/messages",
            json!({"to": "alice", "content": "ok", "client_id": "retry-1"}),
        )
        .await;
    assert_eq!(bobs.status, 201, "bob's own: {}", bobs.body);

    // Reusing a key for something else is a conflict, and stores nothing.
    for other in [
        json!({"to": "bob", "content": "something else", "client_id": "retry-1"}),
        json!({"to": "admin", "content": "deploying now", "client_id": "retry-1"}),
    ] {
        let reused = alice.post("/api/v1/messages", other).await;
        assert_eq!(reused.status, 409, "reused key: {}", reused.body);
        assert_eq!(reused.error_code(), "conflict");
    }
    let conversation = alice.conversation_with("bob").await;
    assert_eq!(alice.history(conversation.id, "").await.len(), 2);
    assert!(conversations(&alice, "peer=admin").await.items.is_empty());
}

#[tokio::test]
async fn websocket_requests_send_page_and_delete_messages() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut alice_ws = alice.ws_ready().await;
    let mut bob_ws = bob.ws_ready().await;

    alice_ws
        .send(&ClientFrame::SendMessage {
            id: 1,
            to: Some("bob".into()),
            room: None,
            content: "sent over the socket".into(),
            client_id: client_id(),
        })
        .await;
    let sent: Message = serde_json::from_value(alice_ws.reply(1).await.expect("sent")).unwrap();
    assert_eq!(created(bob_ws.next_event().await.1), sent);

    let second = bob.chat("alice", "and a REST reply").await;
    alice_ws
        .send(&ClientFrame::GetMessages {
            id: 2,
            conversation_id: sent.conversation_id,
            before: None,
            after: None,
            limit: Some(10),
        })
        .await;
    let page: Page<Message> =
        serde_json::from_value(alice_ws.reply(2).await.expect("history")).unwrap();
    assert_eq!(page.items, vec![second.clone(), sent.clone()]);

    alice_ws
        .send(&ClientFrame::DeleteMessage {
            id: 3,
            message_id: sent.id,
            for_everyone: None,
        })
        .await;
    assert_eq!(alice_ws.reply(3).await.expect("deleted")["changed"], 1);
    let deleted = Event::MessagesDeleted {
        conversation_id: sent.conversation_id,
        ids: vec![sent.id],
    };
    loop {
        match bob_ws.next_event().await.1 {
            Event::MessageCreated { .. } => continue,
            event => {
                assert_eq!(event, deleted);
                break;
            }
        }
    }
    assert_eq!(bob.history(sent.conversation_id, "").await, vec![second.id]);
}

#[tokio::test]
async fn history_pages_have_no_gaps_or_duplicates_while_messages_arrive() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut before_paging = Vec::new();
    for i in 0..60 {
        let sender = if i % 2 == 0 { &alice } else { &bob };
        let to = if i % 2 == 0 { "bob" } else { "alice" };
        before_paging.push(sender.chat(to, &format!("before {i}")).await.id);
    }
    let conversation = alice.conversation_with("bob").await.id;

    // Both keep talking while Alice pages backwards and Bob pages forwards.
    let talkers = {
        let (alice, bob) = (alice.clone(), bob.clone());
        tokio::spawn(async move {
            for i in 0..40 {
                alice.chat("bob", &format!("during {i}")).await;
                bob.chat("alice", &format!("reply {i}")).await;
            }
        })
    };
    let mut backwards = Vec::new();
    let mut query = "limit=7".to_owned();
    loop {
        let page = alice.history(conversation, &query).await;
        let Some(&oldest) = page.last() else { break };
        backwards.extend(&page);
        query = format!("limit=7&before={oldest}");
    }
    let mut forwards = Vec::new();
    let mut after = 0;
    loop {
        let mut page = bob
            .history(conversation, &format!("limit=9&after={after}"))
            .await;
        if page.is_empty() {
            break;
        }
        assert!(
            page.windows(2).all(|w| w[0] > w[1]),
            "newest first: {page:?}"
        );
        page.reverse();
        after = *page.last().unwrap();
        forwards.extend(page);
    }
    talkers.await.unwrap();

    let everything = alice.history(conversation, "limit=200").await;
    assert_eq!(everything.len(), 140);
    let top = backwards[0];
    let expected_backwards: Vec<i64> = everything.iter().copied().filter(|&id| id <= top).collect();
    assert_eq!(
        backwards, expected_backwards,
        "backwards from the first page"
    );
    assert!(backwards.ends_with(&before_paging.iter().rev().copied().collect::<Vec<_>>()));
    let mut expected_forwards: Vec<i64> = everything
        .iter()
        .copied()
        .filter(|&id| id <= after)
        .collect();
    expected_forwards.reverse();
    assert_eq!(
        forwards, expected_forwards,
        "forwards up to the newest seen"
    );
}

#[tokio::test]
async fn reading_updates_the_readers_devices_and_sends_a_receipt() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let bob_laptop = server.device(&bob, "laptop").await;
    let first = alice.chat("bob", "one").await;
    let second = alice.chat("bob", "two").await;
    alice.chat("bob", "three").await;
    let conversation = first.conversation_id;
    let mut alice_ws = alice.ws_ready().await;
    let mut laptop_ws = bob_laptop.ws_ready().await;

    let read = bob
        .post(
            &format!("/api/v1/conversations/{conversation}/read"),
            json!({"up_to": second.id}),
        )
        .await;

    assert_eq!(read.status, 200, "read: {}", read.body);
    assert_eq!(read.body["changed"], 2);
    let receipt = Event::ConversationRead {
        conversation_id: conversation,
        user: "bob".into(),
        up_to: second.id,
    };
    assert_eq!(laptop_ws.next_event().await.1, receipt);
    assert_eq!(laptop_ws.next_counts().await.chats, 1);
    assert_eq!(alice_ws.next_event().await.1, receipt);
    assert_eq!(bob.counts().await.chats, 1);
    let seen_by_alice = alice.conversation_with("bob").await;
    assert_eq!(seen_by_alice.peer_read_up_to, Some(second.id));
    let seen_by_bob = bob.conversation_with("alice").await;
    assert_eq!(
        (seen_by_bob.read_up_to, seen_by_bob.unread_count),
        (second.id, 1)
    );

    // Reading less than before moves nothing and tells nobody.
    let again = bob
        .post(
            &format!("/api/v1/conversations/{conversation}/read"),
            json!({"up_to": first.id}),
        )
        .await;
    assert_eq!(again.body["changed"], 0);
    assert!(quiet_events(&mut alice_ws).await.is_empty());
    assert_eq!(bob.conversation_with("alice").await.read_up_to, second.id);
}

#[tokio::test]
async fn the_sender_deletes_for_everyone_and_every_device_hears() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let alice_laptop = server.device(&alice, "laptop").await;
    let bob_laptop = server.device(&bob, "laptop").await;
    let kept = alice.chat("bob", "kept").await;
    let oops = alice.chat("bob", "wrong chat, sorry").await;
    let mut sockets = Vec::new();
    for device in [&alice, &alice_laptop, &bob, &bob_laptop] {
        sockets.push(device.ws_ready().await);
    }

    let deleted = alice.delete(&format!("/api/v1/messages/{}", oops.id)).await;

    assert_eq!(deleted.status, 204, "delete: {}", deleted.body);
    let event = Event::MessagesDeleted {
        conversation_id: oops.conversation_id,
        ids: vec![oops.id],
    };
    for ws in &mut sockets {
        assert_eq!(ws.next_event().await.1, event);
    }
    for user in [&alice, &bob] {
        assert_eq!(user.history(kept.conversation_id, "").await, vec![kept.id]);
    }
    let bobs_view = bob.conversation_with("alice").await;
    assert_eq!(bobs_view.last_message, Some(kept.clone()));
    assert_eq!(bobs_view.unread_count, 1);
    assert_eq!(bob.counts().await.chats, 1);
    let gone = bob
        .post(
            "/api/v1/messages/delete",
            json!({"ids": [oops.id], "for_everyone": false}),
        )
        .await;
    assert_eq!(gone.status, 404, "a deleted message is gone: {}", gone.body);
}

#[tokio::test]
async fn a_receiver_deletes_only_for_themselves() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let bob_laptop = server.device(&bob, "laptop").await;
    let first = alice.chat("bob", "first").await;
    let second = alice.chat("bob", "second").await;
    let mut alice_ws = alice.ws_ready().await;
    let mut laptop_ws = bob_laptop.ws_ready().await;

    let deleted = bob.delete(&format!("/api/v1/messages/{}", second.id)).await;

    assert_eq!(deleted.status, 204, "delete: {}", deleted.body);
    assert_eq!(
        laptop_ws.next_event().await.1,
        Event::MessagesDeleted {
            conversation_id: second.conversation_id,
            ids: vec![second.id]
        }
    );
    assert!(
        quiet_events(&mut alice_ws).await.is_empty(),
        "alice is not told"
    );
    let conversation = first.conversation_id;
    assert_eq!(bob.history(conversation, "").await, vec![first.id]);
    assert_eq!(
        alice.history(conversation, "").await,
        vec![second.id, first.id]
    );
    let bobs_view = bob.conversation_with("alice").await;
    assert_eq!(
        (bobs_view.unread_count, bobs_view.last_message),
        (1, Some(first))
    );
    assert_eq!(
        alice.conversation_with("bob").await.last_message,
        Some(second)
    );
}

#[tokio::test]
async fn a_batch_delete_removes_own_messages_for_everyone_and_others_for_me() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mine = bob.chat("alice", "mine").await;
    let hers = alice.chat("bob", "hers").await;
    let mut alice_ws = alice.ws_ready().await;

    let deleted = bob
        .post(
            "/api/v1/messages/delete",
            json!({"ids": [mine.id, hers.id]}),
        )
        .await;

    assert_eq!(deleted.status, 200, "delete: {}", deleted.body);
    assert_eq!(deleted.body["changed"], 2);
    assert_eq!(
        alice_ws.next_event().await.1,
        Event::MessagesDeleted {
            conversation_id: mine.conversation_id,
            ids: vec![mine.id]
        }
    );
    assert!(bob.history(mine.conversation_id, "").await.is_empty());
    assert_eq!(alice.history(mine.conversation_id, "").await, vec![hers.id]);
}

#[tokio::test]
async fn three_users_in_a_room_as_members_come_and_go() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let mut bob_ws = bob.ws_ready().await;
    let mut carol_ws = carol.ws_ready().await;

    let room = alice.create_room("release", &["bob"]).await;
    let (id, members) = (room.id, format!("/api/v1/rooms/{}/members", room.id));
    assert_eq!(
        (room.owner.as_deref(), room.members.clone()),
        (Some("alice"), vec!["alice".to_owned(), "bob".to_owned()])
    );
    assert_eq!(bob_ws.next_event().await.1, Event::RoomUpdated { room });
    let before_carol = alice.chat_room(id, "before carol").await;
    assert_eq!(created(bob_ws.next_event().await.1), before_carol);
    let outside = carol
        .get(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    assert_eq!(
        outside.status, 404,
        "carol is not a member: {}",
        outside.body
    );

    let added = alice.post(&members, json!({"username": "carol"})).await;
    assert_eq!(added.status, 200, "add carol: {}", added.body);
    let room: Room = added.json();
    assert_eq!(room.members, ["alice", "bob", "carol"]);
    // Carol sees the room; Bob, already in it, hears who joined.
    assert_eq!(
        carol_ws.next_event().await.1,
        Event::RoomUpdated { room: room.clone() }
    );
    assert_eq!(
        bob_ws.next_event().await.1,
        Event::RoomMemberAdded {
            room_id: id,
            user: "carol".into()
        }
    );
    // Carol sees the history, but none of it is unread for her.
    assert_eq!(carol.history(id, "").await, vec![before_carol.id]);
    assert_eq!(carol.counts().await.chats, 0);
    let welcome = bob.chat_room(id, "welcome carol").await;
    for ws in [&mut bob_ws, &mut carol_ws] {
        assert_eq!(created(ws.next_event().await.1), welcome);
    }
    assert_eq!(carol.counts().await.chats, 1);

    // Only the owner manages members; a member may leave.
    let refused = bob.delete(&format!("{members}/carol")).await;
    assert_eq!(refused.status, 403, "bob removes carol: {}", refused.body);
    let left = bob.delete(&format!("{members}/bob")).await;
    assert_eq!(left.status, 200, "bob leaves: {}", left.body);
    assert_eq!(bob_ws.next_event().await.1, Event::RoomLeft { room_id: id });
    let room: Room = left.json();
    assert_eq!(room.members, ["alice", "carol"]);
    assert_eq!(
        carol_ws.next_event().await.1,
        Event::RoomMemberRemoved {
            room_id: id,
            user: "bob".into(),
            owner: Some("alice".into())
        }
    );
    let gone = bob
        .get(&format!("/api/v1/conversations/{id}/messages"))
        .await;
    assert_eq!(gone.status, 404, "bob reads after leaving: {}", gone.body);
    let posted = bob
        .post(
            "/api/v1/messages",
            json!({"room": id, "content": "still here?", "client_id": client_id()}),
        )
        .await;
    assert_eq!(
        posted.status, 404,
        "bob posts after leaving: {}",
        posted.body
    );

    // When the owner leaves, the longest-standing member takes over.
    let owner_left = alice.delete(&format!("{members}/alice")).await;
    let room: Room = owner_left.json();
    assert_eq!(
        (room.owner.as_deref(), room.members),
        (Some("carol"), vec!["carol".to_owned()])
    );
    let rooms: Vec<Room> = carol.get("/api/v1/rooms").await.json();
    assert_eq!(rooms[0].owner.as_deref(), Some("carol"));
    assert_eq!(alice.get("/api/v1/rooms").await.body, json!([]));
}

#[tokio::test]
async fn the_conversation_list_shows_peer_or_room_unread_and_last_message() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    // The list is ordered by time: each step waits a moment to be later.
    let tick = || tokio::time::sleep(Duration::from_millis(5));
    let room = alice.create_room("qa", &["bob", "carol"]).await;
    tick().await;
    let to_alice = bob.chat("alice", "hi alice").await;
    tick().await;
    carol.chat_room(room.id, "room news").await;
    let newest = carol.chat_room(room.id, "more room news").await;
    tick().await;
    let empty_room = bob.create_room("quiet", &["alice"]).await;

    let page = conversations(&alice, "").await;

    let kinds: Vec<(i64, ConversationKind)> = page.items.iter().map(|c| (c.id, c.kind)).collect();
    assert_eq!(
        kinds,
        vec![
            (empty_room.id, ConversationKind::Room),
            (room.id, ConversationKind::Room),
            (to_alice.conversation_id, ConversationKind::Direct),
        ],
        "most recent first"
    );
    let [quiet, qa, direct] = &page.items[..] else {
        panic!("three conversations: {page:?}")
    };
    assert_eq!((quiet.unread_count, &quiet.last_message), (0, &None));
    assert_eq!(qa.room.as_ref().map(|r| r.name.as_str()), Some("qa"));
    assert_eq!(
        (qa.unread_count, qa.last_message.as_ref()),
        (2, Some(&newest))
    );
    assert_eq!(qa.last_time, newest.created_at);
    assert_eq!(
        direct.peer.as_ref().map(|p| p.username.as_str()),
        Some("bob")
    );
    assert_eq!(
        (direct.unread_count, direct.last_message.as_ref()),
        (1, Some(&to_alice))
    );
    assert!(direct.room.is_none() && qa.peer.is_none());
    assert_eq!(alice.counts().await.chats, 3);

    // Two at a time, the pages add up to the whole list.
    let first = conversations(&alice, "limit=2").await;
    let cursor = first.next_cursor.clone().expect("a second page");
    let second = conversations(&alice, &format!("limit=2&cursor={cursor}")).await;
    let paged: Vec<i64> = first
        .items
        .iter()
        .chain(&second.items)
        .map(|c| c.id)
        .collect();
    assert_eq!(paged, kinds.iter().map(|(id, _)| *id).collect::<Vec<_>>());
}

#[tokio::test]
async fn a_busy_conversation_lists_exactly_after_3000_messages() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut senders = tokio::task::JoinSet::new();
    for worker in 0..30 {
        let (alice, bob) = (alice.clone(), bob.clone());
        senders.spawn(async move {
            for i in 0..100 {
                if worker % 3 == 0 {
                    alice.chat("bob", &format!("from alice {worker}.{i}")).await;
                } else {
                    bob.chat("alice", &format!("from bob {worker}.{i}")).await;
                }
            }
        });
    }
    senders.join_all().await;
    let conversation = alice.conversation_with("bob").await;
    let newest = alice.history(conversation.id, "limit=1").await[0];
    let read_to = alice.history(conversation.id, "limit=200").await[150];
    alice
        .post(
            &format!("/api/v1/conversations/{}/read", conversation.id),
            json!({"up_to": read_to}),
        )
        .await;

    let alices = alice.conversation_with("bob").await;
    let bobs = bob.conversation_with("alice").await;

    assert_eq!(alices.last_message.as_ref().map(|m| m.id), Some(newest));
    assert_eq!(bobs.last_message, alices.last_message);
    assert_eq!(bobs.unread_count, 1000, "all of alice's messages");
    // Alice has read all but the 150 newest, some of which are her own.
    let newer: Vec<Message> = alice
        .get(&format!(
            "/api/v1/conversations/{}/messages?limit=200&after={read_to}",
            conversation.id
        ))
        .await
        .json::<Page<Message>>()
        .items;
    let from_bob = newer
        .iter()
        .filter(|m| m.sender.as_deref() == Some("bob"))
        .count();
    assert_eq!(alices.unread_count, from_bob as i64);
    assert_eq!(alice.counts().await.chats, from_bob as i64);
}

#[tokio::test]
async fn contacts_are_added_listed_and_removed_and_search_marks_them() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    server.user("bob").await;
    server.user("bobby").await;

    let added = alice
        .post("/api/v1/contacts", json!({"username": "bob"}))
        .await;
    let again = alice
        .post("/api/v1/contacts", json!({"username": "bob"}))
        .await;

    assert_eq!(added.status, 201, "add: {}", added.body);
    assert_eq!(again.status, 200, "add again: {}", again.body);
    let contact: Contact = added.json();
    assert_eq!(
        (contact.user.username.as_str(), contact.online),
        ("bob", false)
    );
    let listed: Vec<Contact> = alice.get("/api/v1/contacts").await.json();
    assert_eq!(listed, vec![contact]);
    let found: Vec<FoundUser> = alice.get("/api/v1/users?q=bob").await.json();
    let marks: Vec<(&str, bool)> = found
        .iter()
        .map(|f| (f.user.username.as_str(), f.is_contact))
        .collect();
    assert_eq!(marks, vec![("bob", true), ("bobby", false)]);

    let removed = alice.delete("/api/v1/contacts/bob").await;
    assert_eq!(removed.status, 204, "remove: {}", removed.body);
    assert_eq!(alice.get("/api/v1/contacts").await.body, json!([]));
    let again = alice.delete("/api/v1/contacts/bob").await;
    assert_eq!(again.status, 404, "remove twice: {}", again.body);
}

#[tokio::test]
async fn sent_and_received_lists_show_each_side() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    let room = carol.create_room("ops", &["alice"]).await;
    let a1 = alice.chat("bob", "a1").await;
    let b1 = bob.chat("alice", "b1").await;
    let c1 = carol.chat_room(room.id, "c1").await;
    let a2 = alice.chat_room(room.id, "a2").await;
    let ids = |page: Page<Message>| page.items.iter().map(|m| m.id).collect::<Vec<_>>();

    let sent = ids(alice.get("/api/v1/messages/sent").await.json());
    let received = ids(alice.get("/api/v1/messages/received").await.json());

    assert_eq!(sent, vec![a2.id, a1.id]);
    assert_eq!(received, vec![c1.id, b1.id]);
    let first: Page<Message> = alice.get("/api/v1/messages/received?limit=1").await.json();
    let cursor = first.next_cursor.expect("another page");
    let rest = ids(alice
        .get(&format!(
            "/api/v1/messages/received?limit=1&cursor={cursor}"
        ))
        .await
        .json());
    assert_eq!(rest, vec![b1.id]);
    assert_eq!(
        ids(bob.get("/api/v1/messages/received").await.json()),
        vec![a1.id]
    );
}

#[tokio::test]
async fn openapi_document_covers_the_chat_routes() {
    let server = TestServer::spawn().await;
    let doc = server.anonymous().get("/api/openapi.json").await;
    let paths = doc.body["paths"].as_object().expect("paths");
    for path in [
        "/api/v1/contacts",
        "/api/v1/contacts/{username}",
        "/api/v1/conversations",
        "/api/v1/conversations/{id}/messages",
        "/api/v1/conversations/{id}/read",
        "/api/v1/messages",
        "/api/v1/messages/{id}",
        "/api/v1/messages/delete",
        "/api/v1/messages/sent",
        "/api/v1/messages/received",
        "/api/v1/rooms",
        "/api/v1/rooms/{id}/members",
        "/api/v1/rooms/{id}/members/{username}",
    ] {
        assert!(
            paths.contains_key(path),
            "{path} missing from the OpenAPI document"
        );
    }
}

#[tokio::test]
async fn deleting_a_user_hands_their_rooms_on_and_keeps_their_messages() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let room = alice.create_room("ops", &["bob"]).await;
    let in_room = alice.chat_room(room.id, "handing over").await;
    let direct = alice.chat("bob", "bye").await;
    let mut bob_ws = bob.ws_ready().await;

    let deleted = admin.delete(&format!("/api/v1/users/{}", alice.id)).await;

    assert_eq!(deleted.status, 204, "delete alice: {}", deleted.body);
    assert_eq!(
        bob_ws.next_event().await.1,
        Event::RoomMemberRemoved {
            room_id: room.id,
            user: "alice".into(),
            owner: Some("bob".into())
        }
    );
    let history: Page<Message> = bob
        .get(&format!("/api/v1/conversations/{}/messages", room.id))
        .await
        .json();
    assert_eq!(history.items[0].id, in_room.id);
    assert_eq!(
        history.items[0].sender, None,
        "the sender's account is gone"
    );
    let listed = conversations(&bob, "").await;
    let with_alice = listed
        .items
        .iter()
        .find(|c| c.id == direct.conversation_id)
        .expect("the direct conversation stays");
    assert_eq!(with_alice.peer, None);
    assert_eq!(with_alice.unread_count, 1);

    // A new account, even one that gets Alice's old id, starts afresh.
    let newcomer = server.user("alice2").await;
    assert!(conversations(&newcomer, "").await.items.is_empty());
    let first = newcomer.chat("bob", "hello, I am new").await;
    assert_ne!(first.conversation_id, direct.conversation_id);
}
