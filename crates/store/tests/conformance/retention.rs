//! Retention: what is older than the server keeps goes, a chunk at a time,
//! while other writes go on; chat goes only when chat retention is set.

use herald_protocol::{DeleteRequest, Event, StatusFilter};
use herald_store::{
    ConversationFilter, DeleteScope, MessageTarget, PurgeStats, Retention, StreamBounds,
};
use time::OffsetDateTime;

use crate::harness::{a_moment_later, everything, list, to, Fixture};

async fn purge_removes_old_data_and_remembers_how_far(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    f.notify(&["alice"], "old").await;
    f.broadcast("old broadcast").await;
    let newest = f.all_events().await.last().unwrap().seq;

    // Nothing is older than the epoch.
    let none = f.purge_unkept().await;
    assert_eq!(none, PurgeStats::default());

    let stats = f
        .store
        .purge(&Retention::before(a_moment_later().await))
        .await
        .unwrap();
    assert_eq!(
        stats,
        PurgeStats {
            notifications: 2,
            states: 1,
            events: 2,
            messages: 0
        }
    );
    let bounds = f.store.stream_bounds().await.unwrap();
    assert_eq!(
        bounds,
        StreamBounds {
            purged_through: newest,
            head: newest
        }
    );
    assert!(f.all_events().await.is_empty());
    let listed = list(&f, alice, StatusFilter::All).await;
    assert!(listed.is_empty());

    // The stream goes on above the purged cursor.
    f.notify(&["alice"], "new").await;
    let after = f.all_events().await;
    assert_eq!(after.len(), 1);
    assert!(after[0].seq > newest);
    assert_eq!(f.store.stream_bounds().await.unwrap().head, after[0].seq);
}

async fn purge_drops_personal_notifications_nobody_keeps(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let kept = f.notify(&["alice"], "kept").await.notification.id;
    let gone = f.notify(&["alice"], "gone").await.notification.id;
    f.store
        .delete_notifications(alice, DeleteRequest { ids: vec![gone] })
        .await
        .unwrap();
    let stats = f.purge_unkept().await;
    assert_eq!(stats.notifications, 1);
    let result = f
        .store
        .mark(alice, herald_store::MarkTarget::Ids(vec![kept]), true)
        .await
        .unwrap();
    assert_eq!(result, 1);
}

/// Each chunk is a write of its own, at most `chunk` rows of each kind; the
/// writes in between go through and are not purged.
async fn a_purge_runs_in_chunks_that_other_writes_go_between(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    for n in 0..25 {
        f.notify(&["alice"], &format!("old {n}")).await;
    }
    let newest_old = f.all_events().await.last().unwrap().seq;
    let retention = Retention {
        chunk: 10,
        ..Retention::before(a_moment_later().await)
    };
    let mut chunks = Vec::new();
    loop {
        let removed = f.store.purge_chunk(&retention).await.unwrap();
        if removed == PurgeStats::default() {
            break;
        }
        chunks.push((removed.notifications, removed.states, removed.events));
        f.notify(&["alice"], &format!("between chunk {}", chunks.len()))
            .await;
    }
    assert_eq!(chunks, [(10, 10, 10), (10, 10, 10), (5, 5, 5)]);
    let titles: Vec<String> = list(&f, alice, StatusFilter::All)
        .await
        .into_iter()
        .map(|n| n.title)
        .collect();
    assert_eq!(
        titles,
        ["between chunk 3", "between chunk 2", "between chunk 1"]
    );
    assert_eq!(
        f.store.stream_bounds().await.unwrap().purged_through,
        newest_old
    );
    assert_eq!(f.all_events().await.len(), 3);
}

/// A broadcast many users marked goes after its per-user rows, which go a
/// chunk at a time: no single write deletes a row per user.
async fn a_broadcast_read_by_many_goes_after_its_readers_rows_in_chunks(f: Fixture) {
    let mut users = Vec::new();
    for n in 0..25 {
        users.push(f.user(&format!("reader{n:02}")).await.id);
    }
    let id = f.broadcast("old news").await.notification.id;
    for &user in &users {
        f.store
            .mark(user, herald_store::MarkTarget::Ids(vec![id]), true)
            .await
            .unwrap();
    }
    let retention = Retention {
        chunk: 10,
        ..Retention::before(a_moment_later().await)
    };
    let mut chunks = Vec::new();
    loop {
        let removed = f.store.purge_chunk(&retention).await.unwrap();
        if removed == PurgeStats::default() {
            break;
        }
        chunks.push((removed.states, removed.notifications));
    }
    assert_eq!(chunks, [(10, 0), (10, 0), (5, 1)]);
    assert!(list(&f, users[0], StatusFilter::All).await.is_empty());
}

/// `Store::purge` runs chunk after chunk until one comes up short.
async fn a_whole_purge_adds_up_its_chunks(f: Fixture) {
    f.users(["alice"]).await;
    for n in 0..7 {
        f.notify(&["alice"], &n.to_string()).await;
    }
    let retention = Retention {
        chunk: 3,
        ..Retention::before(a_moment_later().await)
    };
    let removed = f.store.purge(&retention).await.unwrap();
    assert_eq!(
        removed,
        PurgeStats {
            notifications: 7,
            states: 7,
            events: 7,
            messages: 0
        }
    );
    assert!(f.all_events().await.is_empty());
}

/// Chat is kept unless chat retention says otherwise; when it goes, the
/// conversation list and the unread counts stay exact, and the events of the
/// messages that went replay as their deletion.
async fn chat_retention_removes_old_messages_and_keeps_conversations_exact(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let room = f
        .store
        .create_room(alice, "ops".into(), vec!["bob".into()])
        .await
        .unwrap();
    let old = f.say(alice, to("bob"), "old 1").await.message;
    let hidden = f.say(alice, to("bob"), "old 2").await.message;
    f.say(alice, MessageTarget::Room(room.id), "old in the room")
        .await;
    f.store
        .delete_messages(bob, vec![hidden.id], DeleteScope::Me)
        .await
        .unwrap();
    let before = a_moment_later().await;
    let new = f.say(alice, to("bob"), "new").await.message;

    assert_eq!(f.store.counts(bob).await.unwrap().0.chats, 3);
    let retention = Retention {
        chat_before: Some(before),
        ..Retention::before(OffsetDateTime::UNIX_EPOCH)
    };
    assert_eq!(f.store.purge(&retention).await.unwrap().messages, 3);
    assert_eq!(f.store.counts(bob).await.unwrap().0.chats, 1);
    let listed = f
        .store
        .conversations(
            bob,
            ConversationFilter::Page {
                after: None,
                limit: 10,
            },
        )
        .await
        .unwrap()
        .items;
    let direct = listed.iter().find(|c| c.room.is_none()).unwrap();
    assert_eq!(
        (direct.unread_count, direct.last_message.as_ref()),
        (1, Some(&new))
    );
    let in_room = listed.iter().find(|c| c.room.is_some()).unwrap();
    assert_eq!(
        (in_room.unread_count, in_room.last_message.as_ref()),
        (0, None)
    );
    let history = everything(f.store.as_ref(), bob, new.conversation_id).await;
    assert_eq!(history, std::slice::from_ref(&new));
    let replayed: Vec<Event> = f
        .store
        .events_since(bob, 0, 100)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    assert!(replayed.contains(&Event::MessagesDeleted {
        conversation_id: old.conversation_id,
        ids: vec![old.id]
    }));
    assert!(replayed.contains(&Event::MessageCreated {
        message: new.clone()
    }));

    // Without chat retention, a purge of everything else keeps chat.
    let everything_else = Retention::before(a_moment_later().await);
    let kept = f.store.purge(&everything_else).await.unwrap();
    assert_eq!(kept.messages, 0);
    let history = everything(f.store.as_ref(), bob, new.conversation_id).await;
    assert_eq!(history, [new]);
}

on_both_backends!(
    purge_removes_old_data_and_remembers_how_far,
    purge_drops_personal_notifications_nobody_keeps,
    a_purge_runs_in_chunks_that_other_writes_go_between,
    a_whole_purge_adds_up_its_chunks,
    a_broadcast_read_by_many_goes_after_its_readers_rows_in_chunks,
    chat_retention_removes_old_messages_and_keeps_conversations_exact,
);
