//! Direct messages: sending and retries, history, read marks, deletes, and the
//! denormalised conversation list that must agree with the history.

use herald_protocol::{Conversation, ConversationKind, Event, Message, UserId};
use herald_store::{
    ConversationFilter, DeleteScope, Error, MessageTarget, MessageView, NewMessage, Store,
};
use tokio::task::JoinSet;

use crate::harness::{everything, message, range, to, Fixture};

async fn list(store: &dyn Store, user: UserId) -> Vec<Conversation> {
    let filter = ConversationFilter::Page {
        after: None,
        limit: 200,
    };
    store.conversations(user, filter).await.unwrap().items
}

/// Each list entry agrees with a count over the full history.
async fn assert_list_matches_history(store: &dyn Store, user: UserId, username: &str) {
    let mut unread_total = 0;
    for conversation in list(store, user).await {
        let seen = everything(store, user, conversation.id).await;
        let unread = seen
            .iter()
            .filter(|m| m.id > conversation.read_up_to && m.sender.as_deref() != Some(username))
            .count() as i64;
        assert_eq!(
            conversation.unread_count, unread,
            "{username}'s unread in {}",
            conversation.id
        );
        assert_eq!(
            conversation.last_message.as_ref(),
            seen.first(),
            "{username}'s last message in {}",
            conversation.id
        );
        unread_total += unread;
    }
    let (counts, _) = store.counts(user).await.unwrap();
    assert_eq!(counts.chats, unread_total, "{username}'s chat count");
}

async fn list_and_counts_stay_exact_over_3000_messages(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let room = f
        .store
        .create_room(alice, "qa".into(), vec!["bob".into(), "carol".into()])
        .await
        .unwrap();
    // Concurrent sends, so the writer folds them into few group commits.
    let mut sends = JoinSet::new();
    for n in 0..3000 {
        let new = match n % 3 {
            0 => message(bob, to("alice"), &n.to_string()),
            1 => message(carol, MessageTarget::Room(room.id), &n.to_string()),
            _ => message(alice, to("bob"), &n.to_string()),
        };
        let store = f.store.clone();
        sends.spawn(async move { store.send_message(new).await.unwrap().message });
    }
    let sent: Vec<Message> = sends.join_all().await;
    let direct = sent
        .iter()
        .find(|m| m.conversation_id != room.id)
        .unwrap()
        .conversation_id;
    let in_direct = |sender: &str| {
        let mut ids: Vec<i64> = sent
            .iter()
            .filter(|m| m.conversation_id == direct && m.sender.as_deref() == Some(sender))
            .map(|m| m.id)
            .collect();
        ids.sort_unstable();
        ids
    };
    let (from_bob, from_alice) = (in_direct("bob"), in_direct("alice"));

    // Alice reads half of the direct chat, hides two of Bob's unread messages
    // and deletes her newest for everyone; Carol deletes one of hers.
    f.store
        .mark_conversation_read(alice, direct, from_bob[500])
        .await
        .unwrap();
    f.store
        .delete_messages(alice, vec![from_bob[700], from_bob[999]], DeleteScope::Me)
        .await
        .unwrap();
    let newest_of_alice = *from_alice.last().unwrap();
    f.store
        .delete_messages(alice, vec![newest_of_alice], DeleteScope::Natural)
        .await
        .unwrap();
    let carols: Vec<i64> = sent
        .iter()
        .filter(|m| m.conversation_id == room.id)
        .map(|m| m.id)
        .collect();
    f.store
        .delete_messages(carol, vec![carols[10]], DeleteScope::Everyone)
        .await
        .unwrap();

    for (user, name) in [(alice, "alice"), (bob, "bob"), (carol, "carol")] {
        assert_list_matches_history(&*f.store, user, name).await;
    }
    let listed = list(&*f.store, alice).await;
    let direct_entry = listed.iter().find(|c| c.id == direct).unwrap();
    assert_eq!(direct_entry.unread_count, 1000 - 501 - 2);
    assert_eq!(direct_entry.peer.as_ref().unwrap().username, "bob");
    let room_entry = listed.iter().find(|c| c.id == room.id).unwrap();
    assert_eq!(room_entry.unread_count, 999);
}

async fn a_first_message_creates_the_direct_conversation_for_both(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let sent = f.say(alice, to("bob"), "hi bob").await;
    assert!(sent.created);
    assert_eq!(sent.message.sender.as_deref(), Some("alice"));
    assert_eq!(sent.message.content, "hi bob");
    let conversation = sent.message.conversation_id;
    // Bob answering lands in the same conversation.
    let reply = f.say(bob, to("alice"), "hi alice").await;
    assert_eq!(reply.message.conversation_id, conversation);
    assert!(reply.message.id > sent.message.id);

    for (user, peer, unread) in [(alice, "bob", 1), (bob, "alice", 1)] {
        let listed = list(&*f.store, user).await;
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].kind, ConversationKind::Direct);
        assert_eq!(listed[0].peer.as_ref().unwrap().username, peer);
        assert_eq!(listed[0].unread_count, unread);
        assert_eq!(listed[0].last_message.as_ref(), Some(&reply.message));
        assert_eq!(f.store.counts(user).await.unwrap().0.chats, unread);
        let events = f.store.events_since(user, 0, 100).await.unwrap();
        assert_eq!(
            events.iter().map(|e| &e.event).collect::<Vec<_>>(),
            [
                &Event::MessageCreated {
                    message: sent.message.clone()
                },
                &Event::MessageCreated {
                    message: reply.message.clone()
                }
            ]
        );
    }
    // Carol sees none of it.
    assert!(list(&*f.store, carol).await.is_empty());
    let peek = f
        .store
        .history(carol, conversation, range(None, None, 50))
        .await;
    assert!(matches!(peek, Err(Error::NotFound(_))), "{peek:?}");
    // The peer filter finds the pair's conversation, and only theirs.
    let found = f
        .store
        .conversations(alice, ConversationFilter::Peer(bob))
        .await
        .unwrap();
    assert_eq!(found.items.len(), 1);
    assert_eq!(found.items[0].id, conversation);
    let none = f
        .store
        .conversations(alice, ConversationFilter::Peer(carol))
        .await
        .unwrap();
    assert!(none.items.is_empty());
}

async fn a_retried_send_returns_the_same_message_and_a_reused_client_id_conflicts(f: Fixture) {
    let [alice, _bob, _carol] = f.users(["alice", "bob", "carol"]).await;
    let first = f.say(alice, to("bob"), "once").await;
    let retry = f.say(alice, to("bob"), "once").await;
    assert!(!retry.created);
    assert_eq!(retry.message, first.message);
    let count = f.all_events().await.len();

    let other_content = NewMessage {
        content: "something else".into(),
        ..message(alice, to("bob"), "once")
    };
    let other_peer = message(alice, to("carol"), "once");
    for new in [other_content, other_peer] {
        let result = f.store.send_message(new).await;
        assert!(matches!(result, Err(Error::Conflict(_))), "{result:?}");
    }
    assert_eq!(f.all_events().await.len(), count, "nothing was sent again");
    let history = everything(&*f.store, alice, first.message.conversation_id).await;
    assert_eq!(history, [first.message]);
}

async fn sending_to_oneself_or_a_stranger_is_refused(f: Fixture) {
    let [alice, _] = f.users(["alice", "bob"]).await;
    let to_self = f
        .store
        .send_message(message(alice, to("alice"), "me"))
        .await;
    assert!(matches!(to_self, Err(Error::Invalid(_))), "{to_self:?}");
    let to_ghost = f
        .store
        .send_message(message(alice, to("ghost"), "boo"))
        .await;
    match to_ghost {
        Err(Error::UnknownUsers(names)) => assert_eq!(names, ["ghost"]),
        other => panic!("{other:?}"),
    }
    let to_nowhere = f
        .store
        .send_message(message(alice, MessageTarget::Room(12345), "x"))
        .await;
    assert!(
        matches!(to_nowhere, Err(Error::NotFound(_))),
        "{to_nowhere:?}"
    );
    assert!(list(&*f.store, alice).await.is_empty());
    assert!(f.all_events().await.is_empty());
}

async fn history_pages_backwards_and_forwards_without_gaps(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let mut ids = Vec::new();
    for n in 0..7 {
        let sender = if n % 2 == 0 { alice } else { bob };
        let peer = if n % 2 == 0 { "bob" } else { "alice" };
        ids.push(f.say(sender, to(peer), &format!("m{n}")).await.message.id);
    }
    let conversation = f
        .store
        .conversations(alice, ConversationFilter::Peer(bob))
        .await
        .unwrap()
        .items[0]
        .id;
    let newest_first: Vec<i64> = ids.iter().rev().copied().collect();

    // Backwards from the newest, three at a time.
    let mut paged = Vec::new();
    let mut before = None;
    loop {
        let page = f
            .store
            .history(alice, conversation, range(before, None, 3))
            .await
            .unwrap();
        paged.extend(page.items.iter().map(|m| m.id));
        match page.next_cursor {
            Some(cursor) => before = Some(cursor.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(paged, newest_first);

    // Forwards after an id: the messages right after it, newest first.
    let page = f
        .store
        .history(alice, conversation, range(None, Some(ids[1]), 2))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[3], ids[2]]
    );
    assert_eq!(page.next_cursor, Some(ids[3].to_string()));
    // Between two ids.
    let page = f
        .store
        .history(alice, conversation, range(Some(ids[5]), Some(ids[2]), 50))
        .await
        .unwrap();
    assert_eq!(
        page.items.iter().map(|m| m.id).collect::<Vec<_>>(),
        [ids[4], ids[3]]
    );
    assert_eq!(page.next_cursor, None);
}

async fn reading_moves_the_mark_forward_and_tells_every_member(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let mut ids = Vec::new();
    for n in 0..4 {
        ids.push(f.say(bob, to("alice"), &format!("m{n}")).await.message.id);
    }
    let conversation = f
        .store
        .conversations(alice, ConversationFilter::Peer(bob))
        .await
        .unwrap()
        .items[0]
        .id;
    let elsewhere = f.say(carol, to("bob"), "other").await.message;

    let read = f
        .store
        .mark_conversation_read(alice, conversation, ids[2])
        .await
        .unwrap();
    assert_eq!(read, 3);
    assert_eq!(f.store.counts(alice).await.unwrap().0.chats, 1);
    let receipt = Event::ConversationRead {
        conversation_id: conversation,
        user: "alice".into(),
        up_to: ids[2],
    };
    for user in [alice, bob] {
        let events = f.store.events_since(user, 0, 100).await.unwrap();
        assert_eq!(events.last().unwrap().event, receipt);
    }
    let bobs_view = f
        .store
        .conversations(bob, ConversationFilter::Peer(alice))
        .await
        .unwrap();
    assert_eq!(bobs_view.items[0].peer_read_up_to, Some(ids[2]));

    // Backwards is a no-op that tells nobody.
    let before = f.all_events().await.len();
    assert_eq!(
        f.store
            .mark_conversation_read(alice, conversation, ids[0])
            .await
            .unwrap(),
        0
    );
    assert_eq!(f.all_events().await.len(), before);

    // A message of another conversation, an unknown id, or a conversation the
    // caller is not in: not found, nothing changes.
    for (user, conv, up_to) in [
        (alice, conversation, elsewhere.id),
        (alice, conversation, ids[3] + 1000),
        (carol, conversation, ids[3]),
        (alice, elsewhere.conversation_id, elsewhere.id),
    ] {
        let result = f.store.mark_conversation_read(user, conv, up_to).await;
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
    }
    assert_eq!(f.store.counts(alice).await.unwrap().0.chats, 1);
    assert_eq!(f.all_events().await.len(), before);
}

async fn deletes_reach_everyone_only_for_ones_own_messages(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let from_alice = f.say(alice, to("bob"), "from alice").await.message;
    let from_bob = f.say(bob, to("alice"), "from bob").await.message;
    let conversation = from_alice.conversation_id;
    let unrelated = f.say(carol, to("bob"), "carol to bob").await.message;

    // Refused all-or-nothing: someone else's message for everyone, or a message
    // the caller cannot see.
    let before = f.all_events().await.len();
    let forbidden = f
        .store
        .delete_messages(
            alice,
            vec![from_alice.id, from_bob.id],
            DeleteScope::Everyone,
        )
        .await;
    assert!(
        matches!(forbidden, Err(Error::Forbidden(_))),
        "{forbidden:?}"
    );
    let hidden = f
        .store
        .delete_messages(alice, vec![from_alice.id, unrelated.id], DeleteScope::Me)
        .await;
    assert!(matches!(hidden, Err(Error::NotFound(_))), "{hidden:?}");
    assert_eq!(f.all_events().await.len(), before);
    assert_eq!(everything(&*f.store, bob, conversation).await.len(), 2);

    // Bob hides Alice's message for himself only.
    assert_eq!(
        f.store
            .delete_messages(bob, vec![from_alice.id], DeleteScope::Natural)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        everything(&*f.store, bob, conversation).await,
        std::slice::from_ref(&from_bob)
    );
    assert_eq!(everything(&*f.store, alice, conversation).await.len(), 2);
    let bobs_last = f.store.events_since(bob, 0, 100).await.unwrap();
    assert_eq!(
        bobs_last.last().unwrap().event,
        Event::MessagesDeleted {
            conversation_id: conversation,
            ids: vec![from_alice.id]
        }
    );
    // Hidden is gone for him: a second delete finds nothing.
    let again = f
        .store
        .delete_messages(bob, vec![from_alice.id], DeleteScope::Me)
        .await;
    assert!(matches!(again, Err(Error::NotFound(_))), "{again:?}");

    // Bob deletes his own for everyone: both lose it, both are told, Alice's
    // unread count drops.
    assert_eq!(f.store.counts(alice).await.unwrap().0.chats, 1);
    f.store
        .delete_messages(bob, vec![from_bob.id], DeleteScope::Everyone)
        .await
        .unwrap();
    assert_eq!(f.store.counts(alice).await.unwrap().0.chats, 0);
    assert_eq!(
        everything(&*f.store, alice, conversation).await,
        [from_alice]
    );
    assert!(everything(&*f.store, bob, conversation).await.is_empty());
    for user in [alice, bob] {
        let events = f.store.events_since(user, 0, 100).await.unwrap();
        assert_eq!(
            events.last().unwrap().event,
            Event::MessagesDeleted {
                conversation_id: conversation,
                ids: vec![from_bob.id]
            }
        );
    }
    let listed = list(&*f.store, bob).await;
    let entry = listed.iter().find(|c| c.id == conversation).unwrap();
    assert_eq!(entry.last_message, None);
}

async fn sent_and_received_lists_span_conversations(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let a1 = f.say(alice, to("bob"), "a1").await.message;
    let b1 = f.say(bob, to("alice"), "b1").await.message;
    let c1 = f.say(carol, to("alice"), "c1").await.message;
    let a2 = f.say(alice, to("carol"), "a2").await.message;
    let sent = f
        .store
        .message_list(alice, MessageView::Sent, None, 50)
        .await
        .unwrap();
    assert_eq!(sent.items, [a2.clone(), a1.clone()]);
    let received = f
        .store
        .message_list(alice, MessageView::Received, None, 1)
        .await
        .unwrap();
    assert_eq!(received.items, std::slice::from_ref(&c1));
    let before = received.next_cursor.unwrap().parse().unwrap();
    let rest = f
        .store
        .message_list(alice, MessageView::Received, Some(before), 50)
        .await
        .unwrap();
    assert_eq!(rest.items, [b1]);
    assert_eq!(rest.next_cursor, None);
    let bobs = f
        .store
        .message_list(bob, MessageView::Received, None, 50)
        .await
        .unwrap();
    assert_eq!(bobs.items, [a1]);
}

async fn the_conversation_list_pages_newest_first(f: Fixture) {
    let names = ["alice", "b1", "b2", "b3", "b4", "b5"];
    let ids = f.users(names).await;
    for name in &names[1..] {
        f.say(ids[0], to(name), &format!("to {name}")).await;
    }
    let mut seen = Vec::new();
    let mut after = None;
    loop {
        let page = f
            .store
            .conversations(ids[0], ConversationFilter::Page { after, limit: 2 })
            .await
            .unwrap();
        seen.extend(
            page.items
                .iter()
                .map(|c| c.peer.as_ref().unwrap().username.clone()),
        );
        match page.next_cursor {
            Some(cursor) => after = Some(cursor.parse().unwrap()),
            None => break,
        }
    }
    // Same-millisecond sends sort by conversation id, newest first.
    let mut expected: Vec<String> = names[1..].iter().map(|s| s.to_string()).collect();
    expected.reverse();
    assert_eq!(seen, expected);
}

on_both_backends!(
    list_and_counts_stay_exact_over_3000_messages,
    a_first_message_creates_the_direct_conversation_for_both,
    a_retried_send_returns_the_same_message_and_a_reused_client_id_conflicts,
    sending_to_oneself_or_a_stranger_is_refused,
    history_pages_backwards_and_forwards_without_gaps,
    reading_moves_the_mark_forward_and_tells_every_member,
    deletes_reach_everyone_only_for_ones_own_messages,
    sent_and_received_lists_span_conversations,
    the_conversation_list_pages_newest_first,
);
