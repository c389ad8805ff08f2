//! Presence over real sockets: a user's contacts hear when their first device
//! connects and, after the debounce, when their last one leaves.

use std::time::Duration;

use herald_protocol::{Contact, ServerFrame};
use herald_testkit::{TestServer, TestUser, WsClient};

/// Whether `owner`'s contact list shows `username` online.
async fn shown_online(owner: &TestUser, username: &str) -> bool {
    let contacts: Vec<Contact> = owner.get("/api/v1/contacts").await.json();
    contacts
        .iter()
        .find(|c| c.user.username == username)
        .unwrap_or_else(|| panic!("{username} is not a contact of {}", owner.username))
        .online
}

/// Presence frames that arrive within `wait`.
async fn presence_within(ws: &mut WsClient, wait: Duration) -> Vec<(String, bool)> {
    ws.drain(wait)
        .await
        .into_iter()
        .filter_map(|frame| match frame {
            ServerFrame::Presence { user, online } => Some((user, online)),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn contacts_hear_the_first_device_connect_and_the_last_one_leave() {
    let server = TestServer::spawn_with(|c| c.presence_debounce_ms = 300).await;
    let alice = server.user("alice").await;
    let laptop = server.device(&alice, "laptop").await;
    let bob = server.user("bob").await;
    bob.add_contact("alice").await;
    let mut bob_ws = bob.ws_ready().await;
    assert!(!shown_online(&bob, "alice").await);

    let desktop_ws = alice.ws_ready().await;
    assert_eq!(bob_ws.next_presence().await, ("alice".to_owned(), true));
    assert!(shown_online(&bob, "alice").await);

    // A second device, and one of two leaving, change nothing.
    let laptop_ws = laptop.ws_ready().await;
    drop(desktop_ws);
    assert_eq!(
        presence_within(&mut bob_ws, Duration::from_millis(800)).await,
        vec![]
    );
    assert!(shown_online(&bob, "alice").await);

    drop(laptop_ws);
    assert_eq!(bob_ws.next_presence().await, ("alice".to_owned(), false));
    assert!(!shown_online(&bob, "alice").await);
}

#[tokio::test]
async fn a_reconnect_within_the_debounce_is_not_reported() {
    let server = TestServer::spawn_with(|c| c.presence_debounce_ms = 2_000).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    bob.add_contact("alice").await;
    let mut bob_ws = bob.ws_ready().await;
    let alice_ws = alice.ws_ready().await;
    assert_eq!(bob_ws.next_presence().await, ("alice".to_owned(), true));

    drop(alice_ws);
    let _back = alice.ws_ready().await;

    let heard = presence_within(&mut bob_ws, Duration::from_millis(2_500)).await;
    assert_eq!(heard, vec![], "a blip flapped alice's presence");
    assert!(shown_online(&bob, "alice").await);
}

#[tokio::test]
async fn only_users_who_have_them_as_a_contact_hear_presence() {
    let server = TestServer::spawn_with(|c| c.presence_debounce_ms = 200).await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let carol = server.user("carol").await;
    bob.add_contact("alice").await;
    // Alice having Carol as a contact tells Carol nothing about Alice.
    alice.add_contact("carol").await;
    let mut bob_ws = bob.ws_ready().await;
    let mut carol_ws = carol.ws_ready().await;

    let alice_ws = alice.ws_ready().await;
    drop(alice_ws);

    assert_eq!(bob_ws.next_presence().await, ("alice".to_owned(), true));
    assert_eq!(bob_ws.next_presence().await, ("alice".to_owned(), false));
    let carol_heard = presence_within(&mut carol_ws, Duration::from_millis(600)).await;
    assert_eq!(carol_heard, vec![]);
}
