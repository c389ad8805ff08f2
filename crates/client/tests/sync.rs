//! The sync engine against a real in-process server: devices converge, a client
//! that was away catches up exactly, restarts and expired cursors are survived,
//! and actions taken offline reach the server once, in order.

mod common;

use std::collections::HashSet;

use common::*;
use herald_client::{Api, ClientEvent, ConnectionState};
use herald_protocol::{
    Event, EventsPage, KindFilter, SendNotification, StatusFilter, MAX_PAGE_LIMIT,
};
use herald_testkit::{TestServer, TestUser};
use serde_json::json;

/// Sends `n` notifications from `from` to `to`, a few at a time; returns their ids.
async fn send_many(from: &TestUser, to: &str, n: usize) -> Vec<i64> {
    let mut ids = Vec::with_capacity(n);
    for chunk in (0..n).collect::<Vec<_>>().chunks(16) {
        let mut sends = tokio::task::JoinSet::new();
        for &i in chunk {
            let from = from.clone();
            let to = to.to_string();
            sends.spawn(async move { from.notify(&[&to], &format!("note {i}")).await });
        }
        ids.extend(sends.join_all().await);
    }
    ids.sort_unstable();
    ids
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_devices_converge_after_reads_and_deletes_on_either_side() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let laptop = device(&server, &alice, "laptop").await;
    let desktop = device(&server, &alice, "desktop").await;

    let n = send_many(&bob, "alice", 5).await;
    let b1 = admin.broadcast("maintenance at 5").await;
    let b2 = admin.broadcast("new test plan template").await;
    converged(&laptop.client, &alice).await;
    let before = converged(&desktop.client, &alice).await;
    assert_eq!(before.len(), 7);
    assert!(before.iter().all(|(_, read)| !read));

    laptop.client.mark_read(&[n[0], n[1], b1]).await.unwrap();
    desktop.client.delete(&[n[2], b2]).await.unwrap();
    desktop.client.mark_read(&[n[3]]).await.unwrap();
    laptop.client.mark_unread(&[n[1]]).await.unwrap();
    settled(&laptop.client).await;
    settled(&desktop.client).await;
    let after = converged(&laptop.client, &alice).await;
    converged(&desktop.client, &alice).await;
    let expected = vec![
        (b1, true),
        (n[4], false),
        (n[3], true),
        (n[1], false),
        (n[0], true),
    ];
    assert_eq!(after, expected);
    assert_eq!(laptop.client.counts().await.unwrap().unread_total, 2);

    desktop.client.mark_all_read(KindFilter::All).await.unwrap();
    settled(&desktop.client).await;
    let all_read = converged(&laptop.client, &alice).await;
    converged(&desktop.client, &alice).await;
    assert!(all_read.iter().all(|(_, read)| *read), "{all_read:?}");
    assert_eq!(laptop.client.counts().await.unwrap().unread_total, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_offline_during_a_thousand_events_catches_up_exactly() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let laptop = device(&server, &alice, "laptop").await;
    let away_at = laptop.client.cursor().await.unwrap().expect("synced");
    laptop.client.disconnect().await;

    // 1,000 events while the laptop is closed: 500 new, 250 read, 150 deleted,
    // 100 broadcasts.
    let ids = send_many(&bob, "alice", 500).await;
    for chunk in ids[..250].chunks(25) {
        let mut reads = tokio::task::JoinSet::new();
        for &id in chunk {
            let alice = alice.clone();
            reads.spawn(async move {
                let r = alice
                    .post("/api/v1/notifications/read", json!({"ids": [id]}))
                    .await;
                assert_eq!(r.status, 200, "{}", r.body);
            });
        }
        reads.join_all().await;
    }
    for chunk in ids[200..350].chunks(25) {
        let mut deletes = tokio::task::JoinSet::new();
        for &id in chunk {
            let alice = alice.clone();
            deletes.spawn(async move {
                let r = alice.delete(&format!("/api/v1/notifications/{id}")).await;
                assert_eq!(r.status, 204, "{}", r.body);
            });
        }
        deletes.join_all().await;
    }
    for i in 0..100 {
        admin.broadcast(&format!("broadcast {i}")).await;
    }
    let missed = server_cursors(&alice, away_at).await;
    assert_eq!(missed.len(), 1000);

    let client = laptop.reopen(fast_sync()).await;
    client.connect(laptop.credentials.clone()).await.unwrap();
    settled(&client).await;
    let state = converged(&client, &alice).await;
    assert_eq!(state.len(), 500 - 150 + 100);

    // No gap, no duplicate: the laptop applied exactly the server's events, in order.
    assert_eq!(logged_cursors(&client, away_at).await, missed);
    assert_eq!(client.cursor().await.unwrap(), missed.last().copied());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_server_restarted_mid_stream_loses_and_repeats_nothing() {
    let mut server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let laptop = device(&server, &alice, "laptop").await;
    let start = laptop.client.cursor().await.unwrap().expect("synced");
    let mut events = laptop.client.events();

    // Bob keeps sending through the restarts, retrying what did not get through.
    let stop = tokio_util::sync::CancellationToken::new();
    let sender = {
        let api = Api::new(&server.url(), Some(bob.token.clone())).unwrap();
        let stop = stop.clone();
        tokio::spawn(async move {
            let mut sent = 0;
            while !stop.is_cancelled() {
                let request = SendNotification {
                    to: Some(vec!["alice".into()]),
                    title: format!("build {sent} finished"),
                    persist: true,
                    ..SendNotification::default()
                };
                match api.send(&request).await {
                    Ok(_) => sent += 1,
                    // Down for the restart (or cut off by it): try again.
                    Err(
                        herald_client::Error::Unreachable { .. }
                        | herald_client::Error::Http { .. },
                    ) => tokio::time::sleep(std::time::Duration::from_millis(20)).await,
                    Err(e) => panic!("send: {e}"),
                }
            }
            sent
        })
    };

    for _ in 0..2 {
        next_event(&mut events, "a live notification", |e| {
            matches!(e, ClientEvent::NotificationAdded { live: true, .. }).then_some(())
        })
        .await;
        server.restart().await;
        next_state(&mut events, "a lost connection", |s| {
            matches!(s, ConnectionState::Offline { .. })
        })
        .await;
        next_state(&mut events, "a new connection", ConnectionState::is_online).await;
    }
    next_event(&mut events, "a live notification after the restarts", |e| {
        matches!(e, ClientEvent::NotificationAdded { live: true, .. }).then_some(())
    })
    .await;
    stop.cancel();
    let sent = sender.await.unwrap();
    assert!(sent > 0);

    let state = converged(&laptop.client, &alice).await;
    assert!(state.len() >= sent);
    let expected = server_cursors(&alice, start).await;
    assert_eq!(logged_cursors(&laptop.client, start).await, expected);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cursor_older_than_retention_gets_a_full_reload() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let laptop = device(&server, &alice, "laptop").await;
    send_many(&bob, "alice", 3).await;
    assert_eq!(converged(&laptop.client, &alice).await.len(), 3);
    let away_at = laptop.client.cursor().await.unwrap().expect("synced");
    laptop.client.disconnect().await;

    // While away, everything so far ages out of the server...
    send_many(&bob, "alice", 2).await;
    server.purge_everything().await;
    // ...and something new arrives.
    let fresh = bob.notify(&["alice"], "after the purge").await;
    let response = alice.get(&format!("/api/v1/events?since={away_at}")).await;
    assert!(response.json::<EventsPage>().resync_required);

    let mut events = laptop.client.events();
    laptop
        .client
        .connect(laptop.credentials.clone())
        .await
        .unwrap();
    settled(&laptop.client).await;
    assert_eq!(
        converged(&laptop.client, &alice).await,
        vec![(fresh, false)]
    );
    // The purged notifications left the cache, and the window heard about it.
    let mut removed = HashSet::new();
    while let Some(event) = events.try_recv() {
        match event {
            ClientEvent::NotificationRemoved { id } => {
                removed.insert(id);
            }
            ClientEvent::NotificationsReloaded => {
                removed.insert(-1);
            }
            _ => {}
        }
    }
    assert!(removed.len() >= 3 || removed.contains(&-1), "{removed:?}");
    // Whoever reads the event log learns that events were missed.
    let page = laptop.client.events_after(away_at, 100).await.unwrap();
    assert!(page.missed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn actions_taken_offline_reach_the_server_once_in_order() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let phone = server.device(&alice, "phone").await;
    let laptop = device(&server, &alice, "laptop").await;
    let n = send_many(&bob, "alice", 6).await;
    converged(&laptop.client, &alice).await;
    let away_at = laptop.client.cursor().await.unwrap().expect("synced");
    laptop.client.disconnect().await;

    // Offline on the laptop: the screen changes at once, the outbox keeps the rest.
    let c = &laptop.client;
    c.mark_read(&[n[0], n[1]]).await.unwrap();
    c.mark_unread(&[n[1]]).await.unwrap();
    c.delete(&[n[2]]).await.unwrap();
    c.mark_read(&[n[3]]).await.unwrap();
    c.mark_all_read(KindFilter::All).await.unwrap();
    assert_eq!(c.pending_actions().await.unwrap(), 5);
    assert_eq!(
        shown(c).await,
        vec![
            (n[5], true),
            (n[4], true),
            (n[3], true),
            (n[1], true),
            (n[0], true)
        ]
    );
    assert_eq!(c.counts().await.unwrap().unread_total, 0);

    // Meanwhile n3 is deleted on the phone and a new one arrives, which the
    // laptop's "mark all read" must not cover: its user never saw it.
    let r = phone
        .delete(&format!("/api/v1/notifications/{}", n[3]))
        .await;
    assert_eq!(r.status, 204);
    let newest = bob
        .notify(&["alice"], "arrived while the laptop was away")
        .await;

    c.connect(laptop.credentials.clone()).await.unwrap();
    settled(c).await;
    let state = converged(c, &alice).await;
    assert_eq!(
        state,
        vec![
            (newest, false),
            (n[5], true),
            (n[4], true),
            (n[1], true),
            (n[0], true)
        ]
    );
    assert_eq!(c.pending_actions().await.unwrap(), 0);

    // Exactly these changes happened on the server, in this order: nothing
    // sent twice, the refused read of the deleted n3 dropped, "mark all read"
    // limited to what the laptop had shown.
    let response = alice
        .get(&format!("/api/v1/events?since={away_at}&limit=100"))
        .await;
    let events: Vec<Event> = response
        .json::<EventsPage>()
        .events
        .into_iter()
        .map(|e| e.event)
        .collect();
    let summary: Vec<String> = events
        .iter()
        .map(|e| match e {
            Event::NotificationCreated { notification } => format!("new {}", notification.id),
            Event::NotificationsRead { ids } => format!("read {ids:?}"),
            Event::NotificationsUnread { ids } => format!("unread {ids:?}"),
            Event::NotificationsDeleted { ids } => format!("deleted {ids:?}"),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        summary,
        vec![
            format!("deleted [{}]", n[3]),
            format!("new {newest}"),
            format!("read [{}, {}]", n[0], n[1]),
            format!("unread [{}]", n[1]),
            format!("deleted [{}]", n[2]),
            format!("read [{}, {}, {}]", n[1], n[4], n[5]),
        ]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn desktop_pushes_pop_up_and_the_cache_answers_searches_offline() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let laptop = device(&server, &alice, "laptop").await;
    let mut events = laptop.client.events();

    let stored = admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["alice"], "title": "Test plan #42 finished: 3 failed",
                   "content": "The checkout suite failed on Firefox", "desktop": true,
                   "priority": 5, "link": "https://ci.example.com/42"}),
        )
        .await;
    assert_eq!(stored.status, 201, "{}", stored.body);
    let id = stored.body["id"].as_i64().unwrap();
    let popup = next_event(&mut events, "a popup", |e| match e {
        ClientEvent::DesktopPopup {
            title,
            id,
            priority,
            link,
            ..
        } => Some((title.clone(), *id, *priority, link.clone())),
        _ => None,
    })
    .await;
    assert_eq!(
        popup,
        (
            "Test plan #42 finished: 3 failed".to_string(),
            Some(id),
            5,
            Some("https://ci.example.com/42".to_string())
        )
    );
    let ephemeral = admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["alice"], "title": "stand-up in 5 minutes", "desktop": true, "persist": false}),
        )
        .await;
    assert_eq!(ephemeral.status, 201);
    let popup = next_event(&mut events, "an ephemeral popup", |e| match e {
        ClientEvent::DesktopPopup { title, id, .. } => Some((title.clone(), *id)),
        _ => None,
    })
    .await;
    assert_eq!(popup, ("stand-up in 5 minutes".to_string(), None));

    admin
        .notify(&["alice"], "Deploy of checkout-api done")
        .await;
    converged(&laptop.client, &alice).await;
    laptop.client.disconnect().await;

    let hits = laptop.client.search("firefox", 10).await.unwrap();
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].notification.id, id);
    assert!(hits[0]
        .snippet
        .iter()
        .any(|part| part.matched && part.text == "Firefox"));
    let hits = laptop.client.search("checko", 10).await.unwrap();
    assert_eq!(hits.len(), 2, "prefix search as you type: {hits:?}");
    assert!(laptop.client.search("\"-", 10).await.unwrap().is_empty());
    // Deleted notifications are not found.
    laptop.client.delete(&[id]).await.unwrap();
    assert!(laptop
        .client
        .search("firefox", 10)
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_session_stops_retrying_and_says_so() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let laptop = device(&server, &alice, "laptop").await;
    let mut events = laptop.client.events();

    let session = alice.with_token(&laptop.credentials.token);
    let response = session.post("/api/v1/auth/logout", json!({})).await;
    assert!(response.status < 300, "{}", response.body);
    let state = next_state(&mut events, "an auth failure", |s| {
        matches!(s, ConnectionState::AuthFailed { .. })
    })
    .await;
    assert!(matches!(state, ConnectionState::AuthFailed { .. }));
    // Reading the cache still works.
    laptop
        .client
        .list(herald_client::NotificationFilter {
            status: StatusFilter::Unread,
            limit: MAX_PAGE_LIMIT,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(matches!(
        laptop.client.state(),
        ConnectionState::AuthFailed { .. }
    ));
}
