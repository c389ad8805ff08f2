//! Personal and broadcast notifications: audiences, lists, read state, deletes.

use herald_protocol::{
    Counts, DeleteRequest, Event, KindFilter, Notification, NotificationId, NotificationKind,
    StatusFilter, UserId,
};
use herald_store::{Audience, Error, MarkTarget, UserChanges};
use time::OffsetDateTime;

use crate::harness::{filter, list, notification, Fixture};

fn ids(items: &[Notification]) -> Vec<NotificationId> {
    items.iter().map(|n| n.id).collect()
}

async fn counts(f: &Fixture, user: UserId) -> Counts {
    f.store.counts(user).await.unwrap().0
}

async fn a_personal_notification_reaches_only_its_recipients(mut f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let sent = f.notify(&["alice", "bob", "alice"], "build failed").await;
    assert_eq!(sent.recipients, 2);
    assert_eq!(sent.notification.kind, NotificationKind::Personal);
    assert!(!sent.notification.read);

    for user in [alice, bob] {
        assert_eq!(
            list(&f, user, StatusFilter::All).await,
            std::slice::from_ref(&sent.notification)
        );
        assert_eq!(counts(&f, user).await, Counts::new(1, 0, 0));
        let events = f.store.events_since(user, 0, 100).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].user_id, Some(user));
        assert_eq!(
            events[0].event,
            Event::NotificationCreated {
                notification: sent.notification.clone()
            }
        );
    }
    assert!(list(&f, carol, StatusFilter::All).await.is_empty());
    assert_eq!(counts(&f, carol).await, Counts::default());
    assert!(f
        .store
        .events_since(carol, 0, 100)
        .await
        .unwrap()
        .is_empty());
    // The feed got both events, in cursor order.
    let fed = f.fed();
    assert_eq!(fed.len(), 2);
    assert!(fed[0].seq < fed[1].seq);
    assert_eq!(fed, f.all_events().await);
}

async fn a_notification_naming_an_unknown_or_disabled_user_stores_nothing(mut f: Fixture) {
    let [_, bob] = f.users(["alice", "bob"]).await;
    f.store
        .update_user(
            bob,
            UserChanges {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    let result = f
        .store
        .insert_notification(notification(
            Audience::Users(vec![
                "zed".into(),
                "alice".into(),
                "bob".into(),
                "ghost".into(),
            ]),
            "hello",
        ))
        .await;
    match result {
        Err(Error::UnknownUsers(names)) => assert_eq!(names, ["bob", "ghost", "zed"]),
        other => panic!("expected UnknownUsers, got {other:?}"),
    }
    let alice = f
        .store
        .user_by_name("alice")
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    assert!(list(&f, alice, StatusFilter::All).await.is_empty());
    assert!(f.all_events().await.is_empty());
    assert!(f.fed().is_empty());
}

async fn a_broadcast_read_by_alice_stays_unread_for_bob(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let sent = f.broadcast("maintenance tonight").await;
    assert_eq!(sent.recipients, 2);
    assert_eq!(sent.notification.kind, NotificationKind::Broadcast);
    // One event for everyone.
    let events = f.all_events().await;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].user_id, None);
    assert!(events[0].concerns(alice) && events[0].concerns(bob));

    let id = sent.notification.id;
    let changed = f
        .store
        .mark(alice, MarkTarget::Ids(vec![id]), true)
        .await
        .unwrap();
    assert_eq!(changed, 1);
    assert!(list(&f, alice, StatusFilter::All).await[0].read);
    assert!(!list(&f, bob, StatusFilter::All).await[0].read);
    assert_eq!(counts(&f, alice).await, Counts::new(0, 0, 0));
    assert_eq!(counts(&f, bob).await, Counts::new(0, 1, 0));
    // Marking it read again changes nothing and tells nobody.
    let before = f.all_events().await.len();
    let again = f
        .store
        .mark(alice, MarkTarget::Ids(vec![id]), true)
        .await
        .unwrap();
    assert_eq!(again, 0);
    assert_eq!(f.all_events().await.len(), before);
}

async fn a_new_user_starts_with_old_broadcasts_read(f: Fixture) {
    f.user("alice").await;
    f.broadcast("old news").await;
    let bob = f.user("bob").await.id;
    assert_eq!(counts(&f, bob).await, Counts::default());
    let items = list(&f, bob, StatusFilter::All).await;
    assert_eq!(items.len(), 1);
    assert!(items[0].read);
    f.broadcast("fresh news").await;
    assert_eq!(counts(&f, bob).await, Counts::new(0, 1, 0));
}

async fn lists_filter_by_status_kind_and_category_and_page_by_id(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let mut sent = Vec::new();
    for n in 0..5 {
        let mut new = notification(Audience::Users(vec!["alice".into()]), &format!("p{n}"));
        new.category = Some(if n % 2 == 0 { "test-run" } else { "task" }.into());
        sent.push(
            f.store
                .insert_notification(new)
                .await
                .unwrap()
                .notification
                .id,
        );
    }
    let broadcast = f.broadcast("b").await.notification.id;
    f.store
        .mark(alice, MarkTarget::Ids(vec![sent[0], sent[1]]), true)
        .await
        .unwrap();

    let all = list(&f, alice, StatusFilter::All).await;
    let mut expected = sent.clone();
    expected.push(broadcast);
    expected.reverse();
    assert_eq!(ids(&all), expected, "newest first");
    assert_eq!(
        ids(&list(&f, alice, StatusFilter::Read).await),
        [sent[1], sent[0]]
    );
    assert_eq!(
        ids(&list(&f, alice, StatusFilter::Unread).await),
        [broadcast, sent[4], sent[3], sent[2]]
    );
    let broadcasts = f
        .store
        .list_notifications(alice, filter(StatusFilter::All, KindFilter::Broadcast))
        .await
        .unwrap();
    assert_eq!(ids(&broadcasts.items), [broadcast]);
    let mut by_category = filter(StatusFilter::All, KindFilter::Personal);
    by_category.category = Some("test-run".into());
    let page = f
        .store
        .list_notifications(alice, by_category)
        .await
        .unwrap();
    assert_eq!(ids(&page.items), [sent[4], sent[2], sent[0]]);

    // Pages of two, following the cursor, cover everything once.
    let mut paged = Vec::new();
    let mut before_id = None;
    loop {
        let mut page_filter = filter(StatusFilter::All, KindFilter::All);
        page_filter.limit = 2;
        page_filter.before_id = before_id;
        let page = f
            .store
            .list_notifications(alice, page_filter)
            .await
            .unwrap();
        assert!(page.items.len() <= 2);
        paged.extend(ids(&page.items));
        match page.next_cursor {
            Some(cursor) => before_id = Some(cursor.parse().unwrap()),
            None => break,
        }
    }
    assert_eq!(paged, expected);

    // Only notifications created since the given time.
    let mut recent = filter(StatusFilter::All, KindFilter::All);
    recent.since = OffsetDateTime::now_utc() + time::Duration::hours(1);
    assert!(f
        .store
        .list_notifications(alice, recent)
        .await
        .unwrap()
        .items
        .is_empty());
}

async fn marking_another_users_notification_is_not_found_and_changes_nothing(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let mine = f.notify(&["alice"], "mine").await.notification.id;
    let theirs = f.notify(&["bob"], "theirs").await.notification.id;
    let events_before = f.all_events().await;

    for target in [vec![mine, theirs], vec![theirs], vec![mine, theirs + 1000]] {
        let result = f.store.mark(alice, MarkTarget::Ids(target), true).await;
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
        let result = f
            .store
            .delete_notifications(
                alice,
                DeleteRequest {
                    ids: vec![mine, theirs],
                },
            )
            .await;
        assert!(matches!(result, Err(Error::NotFound(_))), "{result:?}");
    }
    assert!(!list(&f, alice, StatusFilter::All).await[0].read);
    assert!(!list(&f, bob, StatusFilter::All).await[0].read);
    assert_eq!(counts(&f, alice).await, Counts::new(1, 0, 0));
    assert_eq!(f.all_events().await, events_before);
}

async fn mark_read_and_unread_count_only_changes(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let a = f.notify(&["alice"], "a").await.notification.id;
    let b = f.notify(&["alice"], "b").await.notification.id;
    let c = f.broadcast("c").await.notification.id;
    let read = f
        .store
        .mark(alice, MarkTarget::Ids(vec![a, c, a]), true)
        .await
        .unwrap();
    assert_eq!(read, 2);
    assert_eq!(counts(&f, alice).await, Counts::new(1, 0, 0));
    let unread = f
        .store
        .mark(alice, MarkTarget::Ids(vec![a, b, c]), false)
        .await
        .unwrap();
    assert_eq!(unread, 2, "b was unread already");
    assert_eq!(counts(&f, alice).await, Counts::new(2, 1, 0));
    let events = f.store.events_since(alice, 0, 100).await.unwrap();
    let tail: Vec<&Event> = events.iter().rev().take(2).map(|e| &e.event).collect();
    assert_eq!(
        tail,
        [
            &Event::NotificationsUnread { ids: vec![a, c] },
            &Event::NotificationsRead { ids: vec![a, c] },
        ]
    );
}

async fn mark_all_read_then_unread_by_kind(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    f.notify(&["alice"], "a").await;
    f.notify(&["alice", "bob"], "b").await;
    let b1 = f.broadcast("b1").await.notification.id;
    let b2 = f.broadcast("b2").await.notification.id;
    f.store
        .mark(alice, MarkTarget::Ids(vec![b1]), true)
        .await
        .unwrap();
    assert_eq!(counts(&f, alice).await, Counts::new(2, 1, 0));

    let changed = f
        .store
        .mark(alice, MarkTarget::All(KindFilter::Broadcast), true)
        .await
        .unwrap();
    assert_eq!(changed, 1);
    assert_eq!(counts(&f, alice).await, Counts::new(2, 0, 0));
    let changed = f
        .store
        .mark(alice, MarkTarget::All(KindFilter::All), true)
        .await
        .unwrap();
    assert_eq!(changed, 2);
    assert_eq!(counts(&f, alice).await, Counts::default());
    let last = f.store.events_since(alice, 0, 100).await.unwrap();
    assert_eq!(
        last.last().unwrap().event,
        Event::AllRead {
            kind: KindFilter::All,
            up_to: b2
        }
    );
    // Nothing left to mark: no change, no event.
    let before = f.all_events().await.len();
    let changed = f
        .store
        .mark(alice, MarkTarget::All(KindFilter::All), true)
        .await
        .unwrap();
    assert_eq!(changed, 0);
    assert_eq!(f.all_events().await.len(), before);
    // Bob was never touched.
    assert_eq!(counts(&f, bob).await, Counts::new(1, 2, 0));

    let changed = f
        .store
        .mark(alice, MarkTarget::All(KindFilter::All), false)
        .await
        .unwrap();
    assert_eq!(changed, 4);
    assert_eq!(counts(&f, alice).await, Counts::new(2, 2, 0));
}

async fn deleting_hides_for_the_caller_only(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let personal = f.notify(&["alice", "bob"], "p").await.notification.id;
    let broadcast = f.broadcast("b").await.notification.id;
    let deleted = f
        .store
        .delete_notifications(
            alice,
            DeleteRequest {
                ids: vec![personal, broadcast, personal],
            },
        )
        .await
        .unwrap();
    assert_eq!(deleted, 2);
    assert!(list(&f, alice, StatusFilter::All).await.is_empty());
    assert_eq!(counts(&f, alice).await, Counts::default());
    assert_eq!(
        ids(&list(&f, bob, StatusFilter::All).await),
        [broadcast, personal]
    );
    let last = f.store.events_since(alice, 0, 100).await.unwrap();
    assert_eq!(
        last.last().unwrap().event,
        Event::NotificationsDeleted {
            ids: vec![personal, broadcast]
        }
    );
    // Deleted once is gone: a second delete or a mark finds nothing.
    let again = f
        .store
        .delete_notifications(
            alice,
            DeleteRequest {
                ids: vec![broadcast],
            },
        )
        .await;
    assert!(matches!(again, Err(Error::NotFound(_))), "{again:?}");
    let mark = f
        .store
        .mark(alice, MarkTarget::Ids(vec![personal]), true)
        .await;
    assert!(matches!(mark, Err(Error::NotFound(_))), "{mark:?}");
    // "Mark all unread" does not resurrect a deleted broadcast.
    f.store
        .mark(alice, MarkTarget::All(KindFilter::All), false)
        .await
        .unwrap();
    assert_eq!(counts(&f, alice).await, Counts::default());
}

on_both_backends!(
    a_personal_notification_reaches_only_its_recipients,
    a_notification_naming_an_unknown_or_disabled_user_stores_nothing,
    a_broadcast_read_by_alice_stays_unread_for_bob,
    a_new_user_starts_with_old_broadcasts_read,
    lists_filter_by_status_kind_and_category_and_page_by_id,
    marking_another_users_notification_is_not_found_and_changes_nothing,
    mark_read_and_unread_count_only_changes,
    mark_all_read_then_unread_by_kind,
    deleting_hides_for_the_caller_only,
);
