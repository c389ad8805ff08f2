//! The event stream: per-user replay, the fan-out's range reads, bounds,
//! retention, the commit feed, and group commits that isolate failures.

use std::sync::Arc;

use herald_protocol::{DeleteRequest, Event, StatusFilter};
use herald_store::{Audience, Error, MessageTarget, Store, StreamBounds};
use tokio::task::JoinSet;

use crate::harness::{list, notification, Fixture};

async fn replay_gives_a_user_their_events_and_broadcasts_in_order(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    f.notify(&["alice"], "1").await;
    f.notify(&["bob"], "2").await;
    f.broadcast("3").await;
    f.notify(&["alice", "bob"], "4").await;

    let alices = f.store.events_since(alice, 0, 100).await.unwrap();
    assert_eq!(alices.len(), 3);
    assert!(alices.windows(2).all(|w| w[0].seq < w[1].seq));
    assert!(alices.iter().all(|e| e.concerns(alice)));
    assert_eq!(f.store.events_since(bob, 0, 100).await.unwrap().len(), 3);

    // Resuming after a cursor gives what follows it; the limit holds.
    let after_first = f
        .store
        .events_since(alice, alices[0].seq, 100)
        .await
        .unwrap();
    assert_eq!(after_first, alices[1..]);
    let first_two = f.store.events_since(alice, 0, 2).await.unwrap();
    assert_eq!(first_two, alices[..2]);
    let last = alices.last().unwrap().seq;
    assert!(f
        .store
        .events_since(alice, last, 100)
        .await
        .unwrap()
        .is_empty());
}

async fn events_between_reads_every_users_events_in_a_cursor_range(f: Fixture) {
    f.users(["alice", "bob"]).await;
    for n in 0..4 {
        f.notify(&["alice", "bob"], &n.to_string()).await;
    }
    let all = f.all_events().await;
    assert_eq!(all.len(), 8);
    assert!(all.windows(2).all(|w| w[0].seq < w[1].seq));

    let middle = f
        .store
        .events_between(all[1].seq, Some(all[5].seq), 100)
        .await
        .unwrap();
    assert_eq!(middle, all[2..=5]);
    let limited = f.store.events_between(all[1].seq, None, 3).await.unwrap();
    assert_eq!(limited, all[2..5]);
    let empty = f
        .store
        .events_between(all[3].seq, Some(all[3].seq), 100)
        .await
        .unwrap();
    assert!(empty.is_empty());
}

async fn bounds_and_counts_follow_the_newest_cursor(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let empty = f.store.stream_bounds().await.unwrap();
    assert_eq!(
        empty,
        StreamBounds {
            purged_through: 0,
            head: 0
        }
    );
    let (_, cursor) = f.store.counts(alice).await.unwrap();
    assert_eq!(cursor, 0);

    f.notify(&["alice"], "1").await;
    f.broadcast("2").await;
    let newest = f.all_events().await.last().unwrap().seq;
    let bounds = f.store.stream_bounds().await.unwrap();
    assert_eq!(bounds.head, newest);
    assert_eq!(bounds.purged_through, 0);
    let (counts, cursor) = f.store.counts(alice).await.unwrap();
    assert_eq!(cursor, newest);
    assert_eq!(counts.unread_total, 2);
}

/// Many writers at once: the store folds them into group commits, and a request
/// that fails spoils none of its neighbours.
async fn a_failing_write_in_a_group_commit_spoils_no_neighbour(mut f: Fixture) {
    let [_, bob] = f.users(["alice", "bob"]).await;
    let store: Arc<dyn Store> = f.store.clone();
    let mut writes = JoinSet::new();
    for n in 0..200 {
        let store = store.clone();
        writes.spawn(async move {
            let to = if n % 3 == 0 { "ghost" } else { "alice" };
            let audience = Audience::Users(vec![to.into(), "bob".into()]);
            let result = store
                .insert_notification(notification(audience, &n.to_string()))
                .await;
            (n, result)
        });
    }
    let mut stored = 0;
    let mut answered = std::collections::BTreeMap::new();
    for (n, result) in writes.join_all().await {
        match result {
            Ok(inserted) if n % 3 != 0 => {
                assert_eq!(inserted.recipients, 2);
                assert_eq!(inserted.notification.title, n.to_string());
                answered.insert(inserted.notification.id, inserted.notification);
                stored += 1;
            }
            Err(Error::UnknownUsers(names)) if n % 3 == 0 => assert_eq!(names, ["ghost"]),
            other => panic!("write {n}: {other:?}"),
        }
    }
    assert_eq!(stored, 133);
    // Each answer names the row that was stored for it, as the list shows it.
    let listed = list(&f, bob, StatusFilter::All).await;
    assert_eq!(
        listed
            .into_iter()
            .map(|n| (n.id, n))
            .collect::<std::collections::BTreeMap<_, _>>(),
        answered
    );
    let events = f.all_events().await;
    assert_eq!(events.len(), 2 * stored);
    // The feed carried exactly the committed events, in cursor order.
    assert_eq!(f.fed(), events);
}

/// A notification to many users stores its content once: each user's event
/// names it, and replay rebuilds the same event as before.
async fn an_event_names_its_notification_instead_of_copying_it(f: Fixture) {
    let mut users = Vec::new();
    let mut names = Vec::new();
    for n in 0..50 {
        let name = format!("user{n:02}");
        users.push(f.user(&name).await.id);
        names.push(name);
    }
    let mut new = notification(Audience::Users(names), "a big report");
    new.content = "x".repeat(10_000);
    let sent = f.store.insert_notification(new).await.unwrap();
    assert_eq!(sent.recipients, 50);

    let bytes = f.event_payload_bytes().await;
    assert!(
        bytes < 10_000,
        "{bytes} bytes of event payload for 50 recipients of 10,000 characters"
    );
    let created = Event::NotificationCreated {
        notification: sent.notification.clone(),
    };
    for user in users {
        let replayed = f.store.events_since(user, 0, 10).await.unwrap();
        assert_eq!(replayed.len(), 1);
        assert_eq!(replayed[0].event, created);
    }
}

async fn a_message_event_names_its_message_instead_of_copying_it(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let big = "y".repeat(10_000);
    let sent = f.say(alice, MessageTarget::User("bob".into()), &big).await;
    let bytes = f.event_payload_bytes().await;
    assert!(
        bytes < 10_000,
        "{bytes} bytes of event payload for two events"
    );
    for user in [alice, bob] {
        let replayed = f.store.events_since(user, 0, 10).await.unwrap();
        let created = Event::MessageCreated {
            message: sent.message.clone(),
        };
        assert_eq!(replayed.last().map(|e| &e.event), Some(&created));
    }
}

/// Once nobody keeps a notification (the last recipient deleted it and the
/// purge took the row), its creation replays as its deletion: the client
/// drops what it never should have shown, and the stream stays gap-free.
async fn a_created_event_whose_row_is_gone_replays_as_its_deletion(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let id = f.notify(&["alice"], "short-lived").await.notification.id;
    f.store
        .delete_notifications(alice, DeleteRequest { ids: vec![id] })
        .await
        .unwrap();
    let stats = f.purge_unkept().await;
    assert_eq!(stats.notifications, 1);
    let replayed: Vec<Event> = f
        .store
        .events_since(alice, 0, 10)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.event)
        .collect();
    let deleted = Event::NotificationsDeleted { ids: vec![id] };
    assert_eq!(replayed, [deleted.clone(), deleted]);
}

/// Events written before events named their rows carry the whole event, and
/// still replay from it.
async fn an_event_stored_whole_by_an_earlier_version_still_replays(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let sent = f.notify(&["alice"], "new style").await;
    let mut old = sent.notification.clone();
    old.id += 1000;
    old.title = "old style".into();
    let payload = serde_json::to_string(&Event::NotificationCreated {
        notification: old.clone(),
    })
    .unwrap()
    .replace('\'', "''");
    f.raw_execute(&format!(
        "INSERT INTO events (user_id, created_at, payload) VALUES ({alice}, 0, '{payload}')"
    ))
    .await;
    let replayed = f.store.events_since(alice, 0, 10).await.unwrap();
    assert_eq!(replayed.len(), 2);
    assert_eq!(
        replayed[1].event,
        Event::NotificationCreated { notification: old }
    );
}

on_both_backends!(
    an_event_names_its_notification_instead_of_copying_it,
    a_message_event_names_its_message_instead_of_copying_it,
    a_created_event_whose_row_is_gone_replays_as_its_deletion,
    an_event_stored_whole_by_an_earlier_version_still_replays,
    replay_gives_a_user_their_events_and_broadcasts_in_order,
    events_between_reads_every_users_events_in_a_cursor_range,
    bounds_and_counts_follow_the_newest_cursor,
    a_failing_write_in_a_group_commit_spoils_no_neighbour,
);
