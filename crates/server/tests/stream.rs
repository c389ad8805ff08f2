//! The event stream: live delivery to every device, exact resume, resync,
//! desktop pushes, long-poll and shutdown.

use std::time::Duration;

use futures_util::StreamExt;
use herald_protocol::{ClientFrame, Event, KindFilter, ServerFrame};
use herald_testkit::{TestServer, WsClient};
use serde_json::json;
use tokio_tungstenite::tungstenite::Message;

const QUIET: Duration = Duration::from_millis(300);

fn created_title(event: &Event) -> &str {
    match event {
        Event::NotificationCreated { notification } => &notification.title,
        other => panic!("expected notification.created, got {other:?}"),
    }
}

#[tokio::test]
async fn hello_then_counts_then_live_events_with_counts() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    admin.notify(&["alice"], "before connecting").await;

    let mut ws = alice.ws().await;
    match ws.next().await {
        ServerFrame::Hello {
            user, heartbeat_s, ..
        } => {
            assert_eq!(user.username, "alice");
            assert_eq!(heartbeat_s, 25);
        }
        other => panic!("expected hello, got {other:?}"),
    }
    assert_eq!(ws.next_counts().await.personal, 1);

    let id = admin.notify(&["alice"], "Test plan #42 finished").await;
    let (_, event) = ws.next_event().await;
    assert_eq!(created_title(&event), "Test plan #42 finished");
    assert_eq!(ws.next_counts().await.personal, 2);

    admin.broadcast("Deploy at 5").await;
    ws.next_event().await;
    let counts = ws.next_counts().await;
    assert_eq!(
        (counts.personal, counts.broadcast, counts.unread_total),
        (2, 1, 3)
    );

    alice
        .post("/api/v1/notifications/read", json!({"ids": [id]}))
        .await;
    let (_, event) = ws.next_event().await;
    assert_eq!(event, Event::NotificationsRead { ids: vec![id] });
    assert_eq!(ws.next_counts().await.unread_total, 2);
}

#[tokio::test]
async fn events_between_hello_and_subscribe_arrive_once_with_counts() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let mut ws = WsClient::connect(&server.url(), Some(&alice.token)).await;
    let cursor = ws.hello().await;
    // Committed after `hello` read the head, before the client subscribes from it:
    // the server replays nothing from the store, so these must come from the live
    // queue, once each.
    admin.notify(&["alice"], "between one").await;
    admin.notify(&["alice"], "between two").await;
    ws.send(&ClientFrame::Subscribe {
        id: Some(1),
        since: cursor,
    })
    .await;
    let mut titles = Vec::new();
    let mut last = cursor;
    let mut counts = None;
    for frame in ws.drain(QUIET).await {
        match frame {
            ServerFrame::Event { cursor, event } => {
                assert!(cursor > last, "cursor {cursor} after {last}");
                last = cursor;
                titles.push(created_title(&event).to_owned());
            }
            ServerFrame::Counts(c) => counts = Some(c),
            _ => {}
        }
    }
    assert_eq!(titles, ["between one", "between two"]);
    assert_eq!(counts.expect("counts").personal, 2);
}

#[tokio::test]
async fn read_on_one_device_reaches_the_other_device() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let laptop = server.user("alice").await;
    let desktop = server.device(&laptop, "desktop").await;
    let (mut on_laptop, _) = WsClient::connect_ready(&server.url(), &laptop.token).await;
    let (mut on_desktop, _) = WsClient::connect_ready(&server.url(), &desktop.token).await;

    let id = admin
        .notify(&["alice"], "You were assigned task T-17")
        .await;
    let (c1, e1) = on_laptop.next_event().await;
    let (c2, e2) = on_desktop.next_event().await;
    assert_eq!(
        (c1, &e1),
        (c2, &e2),
        "both devices see the same event at the same cursor"
    );

    // Read over the laptop's WebSocket; the desktop learns it.
    on_laptop
        .send(&ClientFrame::MarkRead {
            id: 9,
            ids: Some(vec![id]),
            all: false,
            kind: None,
        })
        .await;
    let (_, event) = on_desktop.next_event().await;
    assert_eq!(event, Event::NotificationsRead { ids: vec![id] });
    assert_eq!(on_desktop.next_counts().await.unread_total, 0);

    // The laptop gets the reply and the same event.
    let mut replied = false;
    let mut saw_event = false;
    while !(replied && saw_event) {
        match on_laptop.next().await {
            ServerFrame::Reply {
                id: 9, ok, result, ..
            } => {
                assert!(ok);
                assert_eq!(result.unwrap()["changed"], 1);
                replied = true;
            }
            ServerFrame::Event { event, .. } => {
                assert_eq!(event, Event::NotificationsRead { ids: vec![id] });
                saw_event = true;
            }
            _ => {}
        }
    }

    // Mark-all and delete on the desktop reach the laptop too.
    let other = admin.notify(&["alice"], "second").await;
    on_laptop.next_event().await;
    desktop
        .post("/api/v1/notifications/read", json!({"all": true}))
        .await;
    assert!(matches!(
        on_laptop.next_event().await.1,
        Event::AllRead { kind: KindFilter::All, up_to } if up_to >= other
    ));
    desktop
        .delete(&format!("/api/v1/notifications/{other}"))
        .await;
    assert_eq!(
        on_laptop.next_event().await.1,
        Event::NotificationsDeleted { ids: vec![other] }
    );
}

#[tokio::test]
async fn resume_after_disconnect_replays_missed_events_once() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let (mut ws, _) = WsClient::connect_ready(&server.url(), &alice.token).await;
    admin.notify(&["alice"], "seen live").await;
    let (seen, _) = ws.next_event().await;
    drop(ws);

    let mut missed = Vec::new();
    for i in 0..30 {
        missed.push(admin.notify(&["alice"], &format!("missed {i}")).await);
    }
    admin.broadcast("missed broadcast").await;
    // Someone else's events must not appear in alice's stream.
    server.user("bob").await;
    admin.notify(&["bob"], "for bob only").await;

    let (mut ws, _) = WsClient::connect_ready(&server.url(), &alice.token).await;
    ws.send(&ClientFrame::Subscribe {
        id: Some(1),
        since: seen,
    })
    .await;
    let mut titles = Vec::new();
    let mut cursors = Vec::new();
    loop {
        match ws.next().await {
            ServerFrame::Event { cursor, event } => {
                cursors.push(cursor);
                titles.push(created_title(&event).to_owned());
            }
            ServerFrame::Reply { id: 1, .. } => break,
            _ => {}
        }
    }
    let mut expected: Vec<String> = (0..30).map(|i| format!("missed {i}")).collect();
    expected.push("missed broadcast".into());
    assert_eq!(titles, expected);
    assert!(cursors.windows(2).all(|w| w[0] < w[1]), "cursors increase");

    // Live events continue after the replay, with no duplicate.
    admin.notify(&["alice"], "live again").await;
    let (_, event) = ws.next_event().await;
    assert_eq!(created_title(&event), "live again");
    assert!(ws
        .drain(QUIET)
        .await
        .iter()
        .all(|f| !matches!(f, ServerFrame::Event { .. })));
}

#[tokio::test]
async fn resume_while_events_keep_arriving_has_no_gap_and_no_duplicate() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    for i in 0..200 {
        admin.notify(&["alice"], &format!("early {i}")).await;
    }
    let sender = {
        let admin = admin.clone();
        tokio::spawn(async move {
            for i in 0..100 {
                admin.notify(&["alice"], &format!("during {i}")).await;
            }
        })
    };
    let mut ws = alice.ws().await;
    ws.hello().await;
    ws.send(&ClientFrame::Subscribe { id: None, since: 0 })
        .await;
    let mut titles = Vec::new();
    while titles.len() < 300 {
        let (_, event) = ws.next_event().await;
        titles.push(created_title(&event).to_owned());
    }
    sender.await.unwrap();
    let mut expected: Vec<String> = (0..200).map(|i| format!("early {i}")).collect();
    expected.extend((0..100).map(|i| format!("during {i}")));
    assert_eq!(titles, expected);
    assert!(ws
        .drain(QUIET)
        .await
        .iter()
        .all(|f| !matches!(f, ServerFrame::Event { .. })));
}

#[tokio::test]
async fn cursor_older_than_retention_gets_resync_required() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    admin.notify(&["alice"], "old").await;
    let (mut ws, old_cursor) = WsClient::connect_ready(&server.url(), &alice.token).await;
    admin.notify(&["alice"], "also old").await;
    let (cursor, _) = ws.next_event().await;
    drop(ws);

    // Retention passes over everything so far.
    server.purge_everything().await;

    let (mut ws, _) = WsClient::connect_ready(&server.url(), &alice.token).await;
    ws.send(&ClientFrame::Subscribe {
        id: None,
        since: old_cursor,
    })
    .await;
    match ws.next().await {
        ServerFrame::ResyncRequired { cursor: head } => assert!(head >= cursor),
        other => panic!("expected resync_required, got {other:?}"),
    }
    let polled = alice
        .get(&format!("/api/v1/events?since={old_cursor}"))
        .await;
    assert_eq!(polled.body["resync_required"], true);
    // The newest cursor is still valid: nothing was missed after it.
    let polled = alice.get(&format!("/api/v1/events?since={cursor}")).await;
    assert_eq!(polled.body["resync_required"], false);
}

#[tokio::test]
async fn desktop_notifications_also_arrive_as_desktop_frames() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let (mut alice_ws, _) = WsClient::connect_ready(&server.url(), &alice.token).await;
    let (mut bob_ws, _) = WsClient::connect_ready(&server.url(), &bob.token).await;

    let stored = admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["alice"], "title": "Nightly failed", "content": "12 tests", "desktop": true, "priority": 5}),
        )
        .await;
    let id = stored.body["id"].as_i64().unwrap();
    let frames = alice_ws.drain(QUIET).await;
    assert!(frames.iter().any(|f| matches!(f,
        ServerFrame::Desktop { title, content, priority: 5, id: Some(i), .. }
            if title == "Nightly failed" && content == "12 tests" && *i == id)));

    let ephemeral = admin
        .post(
            "/api/v1/notifications",
            json!({"broadcast": true, "title": "Lunch is here", "desktop": true, "persist": false}),
        )
        .await;
    assert_eq!(ephemeral.status, 201);
    for ws in [&mut alice_ws, &mut bob_ws] {
        let frames = ws.drain(QUIET).await;
        assert!(frames.iter().any(|f| matches!(f,
            ServerFrame::Desktop { title, id: None, .. } if title == "Lunch is here")));
        assert!(
            !frames
                .iter()
                .any(|f| matches!(f, ServerFrame::Event { .. })),
            "ephemeral pushes are not events"
        );
    }
}

#[tokio::test]
async fn long_poll_returns_as_soon_as_an_event_commits() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let head = alice.get("/api/v1/events").await;
    assert_eq!(head.body["events"], json!([]));
    let since = head.body["cursor"].as_i64().unwrap();

    let poll = {
        let alice = alice.clone();
        tokio::spawn(async move {
            alice
                .get(&format!("/api/v1/events?since={since}&wait=30"))
                .await
        })
    };
    tokio::time::sleep(Duration::from_millis(200)).await;
    admin.notify(&["alice"], "wake up").await;
    let page = poll.await.unwrap();
    assert_eq!(page.status, 200);
    let events = page.body["events"].as_array().unwrap();
    assert_eq!(events.len(), 1);
    assert_eq!(events[0]["event"]["notification"]["title"], "wake up");
    assert_eq!(page.body["cursor"], events[0]["cursor"]);

    // With nothing new, a short wait returns empty with the same cursor.
    let cursor = page.body["cursor"].as_i64().unwrap();
    let empty = alice
        .get(&format!("/api/v1/events?since={cursor}&wait=1"))
        .await;
    assert_eq!(empty.body["events"], json!([]));
    assert_eq!(empty.body["cursor"], cursor);
}

#[tokio::test]
async fn a_quiet_pollers_cursor_moves_past_everyone_elses_events() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let since = alice.get("/api/v1/events").await.body["cursor"]
        .as_i64()
        .unwrap();
    admin.notify(&["admin"], "for the admin only").await;
    // The fan-out publishes just after the commit; poll until it has.
    let mut moved = since;
    for _ in 0..100 {
        let page = alice.get(&format!("/api/v1/events?since={since}")).await;
        assert_eq!(page.body["events"], json!([]));
        moved = page.body["cursor"].as_i64().unwrap();
        if moved > since {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(moved > since, "cursor stayed at {since}");
    // Nothing of Alice's was skipped: her next event comes after it.
    admin.notify(&["alice"], "for alice").await;
    let page = alice.get(&format!("/api/v1/events?since={moved}")).await;
    assert_eq!(
        page.body["events"][0]["event"]["notification"]["title"],
        "for alice"
    );
}

#[tokio::test]
async fn a_slow_consumer_is_disconnected_without_slowing_others_and_resumes() {
    let server = TestServer::spawn_with(|c| c.send_queue = 16).await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let mut stalled = WsClient::connect_with_small_buffer(&server.url(), &alice.token).await;
    let start = stalled.hello().await;
    let (mut healthy, _) = WsClient::connect_ready(&server.url(), &bob.token).await;

    // Alice stops reading; bob keeps up with every broadcast. Enough bytes to fill
    // the kernel's socket buffers (up to tcp_wmem's maximum) and then the queue.
    let content = "x".repeat(10_000);
    let total = socket_buffer_max() * 2 / content.len() + 100;
    for i in 0..total {
        let sent = admin
            .post(
                "/api/v1/notifications",
                json!({"broadcast": true, "title": format!("burst {i}"), "content": content}),
            )
            .await;
        assert_eq!(sent.status, 201);
        let (_, event) = healthy.next_event().await;
        assert_eq!(created_title(&event), format!("burst {i}"));
    }

    // Alice's session was closed (1013) once her queue overflowed...
    let mut received = Vec::new();
    let code = loop {
        let next = tokio::time::timeout(Duration::from_secs(10), stalled.stream.next());
        match next
            .await
            .expect("alice's session is closed, not left hanging")
        {
            Some(Ok(Message::Text(text))) => {
                if let Ok(ServerFrame::Event { cursor, .. }) = serde_json::from_str(text.as_str()) {
                    received.push(cursor);
                }
            }
            Some(Ok(Message::Close(frame))) => break frame.map(|f| u16::from(f.code)),
            Some(Ok(_)) => continue,
            // A session stuck writing to a stalled peer is dropped without a close
            // frame once its write times out.
            None | Some(Err(_)) => break None,
        }
    };
    assert!(matches!(code, Some(1013) | None), "closed with {code:?}");
    assert!(received.len() < total, "alice was cut off before the end");
    let metrics = server.anonymous().get("/metrics").await;
    assert!(metrics
        .body
        .as_str()
        .unwrap()
        .contains("herald_slow_consumers_total 1"));

    // ...and resuming from her last cursor brings exactly the rest.
    let last = received.last().copied().unwrap_or(start);
    let (mut resumed, _) = WsClient::connect_ready(&server.url(), &alice.token).await;
    resumed
        .send(&ClientFrame::Subscribe {
            id: None,
            since: last,
        })
        .await;
    let mut rest = Vec::new();
    while received.len() + rest.len() < total {
        rest.push(resumed.next_event().await.0);
    }
    assert!(rest[0] > last && rest.windows(2).all(|w| w[0] < w[1]));
}

/// The most the kernel buffers for one TCP socket's sends.
fn socket_buffer_max() -> usize {
    std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|s| s.split_whitespace().nth(2)?.parse().ok())
        .unwrap_or(4 << 20)
}

#[tokio::test]
async fn shutdown_closes_websockets_with_going_away() {
    let mut server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let (mut ws, _) = WsClient::connect_ready(&server.url(), &alice.token).await;
    let shutdown = tokio::spawn(async move {
        server.shutdown().await;
        server
    });
    assert_eq!(ws.closed().await, Some(1001));
    let _server = shutdown.await.unwrap();
}
