//! Accounts and tokens.

use herald_protocol::{Role, TokenKind};
use herald_store::{AccessChange, Error, NewUser, UserChanges};

use crate::harness::Fixture;

async fn a_created_user_is_found_by_name_and_id(f: Fixture) {
    assert_eq!(f.store.user_count().await.unwrap(), 0);
    let alice = f.user("alice").await;
    assert_eq!(alice.username, "alice");
    assert_eq!(alice.role, Role::User);
    assert!(!alice.disabled);
    assert_eq!(f.store.user_count().await.unwrap(), 1);

    let record = f.store.user_by_name("alice").await.unwrap().unwrap();
    assert_eq!(record.user, alice);
    assert_eq!(record.password_hash, "hash of alice");
    assert_eq!(
        f.store.user_by_id(alice.id).await.unwrap(),
        Some(alice.clone())
    );

    assert!(f.store.user_by_name("bob").await.unwrap().is_none());
    assert!(f.store.user_by_id(alice.id + 1000).await.unwrap().is_none());
}

async fn a_taken_username_is_a_conflict_and_changes_nothing(f: Fixture) {
    f.user("alice").await;
    let again = f
        .store
        .create_user(NewUser {
            username: "alice".into(),
            display_name: "Another Alice".into(),
            password_hash: "other".into(),
            role: Role::Admin,
        })
        .await;
    assert!(
        matches!(again, Err(Error::Conflict(ref m)) if m.contains("alice")),
        "{again:?}"
    );
    assert_eq!(f.store.user_count().await.unwrap(), 1);
    let record = f.store.user_by_name("alice").await.unwrap().unwrap();
    assert_eq!(record.user.display_name, "alice");
    // The failed insert spoils nothing after it.
    f.user("bob").await;
    assert_eq!(f.store.user_count().await.unwrap(), 2);
}

async fn search_matches_name_prefixes_and_marks_contacts(f: Fixture) {
    let [alice, ..] = f.users(["alice", "al_x", "alfred", "bob"]).await;
    f.store
        .update_user(
            f.store.user_by_name("bob").await.unwrap().unwrap().user.id,
            UserChanges {
                display_name: Some("Albert Bob".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    f.store.add_contact(alice, "alfred").await.unwrap();

    let names = |found: &[herald_protocol::FoundUser]| {
        found
            .iter()
            .map(|u| (u.user.username.clone(), u.is_contact))
            .collect::<Vec<_>>()
    };
    // By username, display names too, ASCII case folded.
    let found = f.store.search_users(alice, "al", 10).await.unwrap();
    assert_eq!(
        names(&found),
        [
            ("al_x".to_string(), false),
            ("alfred".to_string(), true),
            ("alice".to_string(), false),
            ("bob".to_string(), false),
        ]
    );
    // `_` and `%` are literal, not wildcards.
    let found = f.store.search_users(alice, "al_", 10).await.unwrap();
    assert_eq!(names(&found), [("al_x".to_string(), false)]);
    assert!(f
        .store
        .search_users(alice, "%", 10)
        .await
        .unwrap()
        .is_empty());
    // The limit holds.
    assert_eq!(f.store.search_users(alice, "a", 2).await.unwrap().len(), 2);
}

async fn update_changes_only_what_is_named_and_unknown_ids_are_none(f: Fixture) {
    let alice = f.user("alice").await;
    let updated = f
        .store
        .update_user(
            alice.id,
            UserChanges {
                role: Some(Role::Admin),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.role, Role::Admin);
    assert_eq!(updated.display_name, "alice");
    let missing = f
        .store
        .update_user(alice.id + 1000, UserChanges::default())
        .await
        .unwrap();
    assert!(missing.is_none());
}

async fn disabling_a_user_or_changing_the_password_ends_their_sessions(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    f.store
        .create_token(alice, TokenKind::Session, "laptop", vec![1; 32])
        .await
        .unwrap();
    f.store
        .create_token(bob, TokenKind::Session, "desktop", vec![2; 32])
        .await
        .unwrap();
    let disabled = f
        .store
        .update_user(
            alice,
            UserChanges {
                disabled: Some(true),
                ..Default::default()
            },
        )
        .await
        .unwrap()
        .unwrap();
    assert!(disabled.disabled);
    assert!(f.store.authenticate(vec![1; 32]).await.unwrap().is_none());
    assert!(f.store.list_tokens(alice).await.unwrap().is_empty());

    f.store
        .update_user(
            bob,
            UserChanges {
                password_hash: Some("new".into()),
                ..Default::default()
            },
        )
        .await
        .unwrap();
    assert!(f.store.authenticate(vec![2; 32]).await.unwrap().is_none());
    let record = f.store.user_by_name("bob").await.unwrap().unwrap();
    assert_eq!(record.password_hash, "new");
}

async fn tokens_authenticate_and_only_their_owner_deletes_them(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let session = f
        .store
        .create_token(alice, TokenKind::Session, "laptop", vec![7; 32])
        .await
        .unwrap();
    let send = f
        .store
        .create_token(alice, TokenKind::Send, "jenkins", vec![8; 32])
        .await
        .unwrap();
    assert_eq!(send.kind, TokenKind::Send);

    let principal = f.store.authenticate(vec![7; 32]).await.unwrap().unwrap();
    assert_eq!(principal.user.username, "alice");
    assert_eq!(principal.token, session);
    assert!(f.store.authenticate(vec![9; 32]).await.unwrap().is_none());
    assert_eq!(
        f.store.list_tokens(alice).await.unwrap(),
        [session.clone(), send.clone()]
    );
    assert!(f.store.list_tokens(bob).await.unwrap().is_empty());

    // Bob cannot delete Alice's token; Alice can, once.
    assert!(!f.store.delete_token(bob, session.id).await.unwrap());
    assert!(f.store.authenticate(vec![7; 32]).await.unwrap().is_some());
    assert!(f.store.delete_token(alice, session.id).await.unwrap());
    assert!(!f.store.delete_token(alice, session.id).await.unwrap());
    assert!(f.store.authenticate(vec![7; 32]).await.unwrap().is_none());
    assert_eq!(f.store.list_tokens(alice).await.unwrap(), [send]);
}

async fn a_deleted_user_is_gone_with_their_events_and_tokens(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    f.store
        .create_token(alice, TokenKind::Session, "laptop", vec![3; 32])
        .await
        .unwrap();
    f.notify(&["alice", "bob"], "hello").await;
    assert!(f.store.delete_user(alice).await.unwrap());
    assert!(!f.store.delete_user(alice).await.unwrap());
    assert!(f.store.user_by_id(alice).await.unwrap().is_none());
    assert!(f.store.authenticate(vec![3; 32]).await.unwrap().is_none());
    assert!(f
        .store
        .events_since(alice, 0, 100)
        .await
        .unwrap()
        .is_empty());
    assert_eq!(f.store.events_since(bob, 0, 100).await.unwrap().len(), 1);
    assert_eq!(f.store.user_count().await.unwrap(), 1);
    // The name is free again.
    f.user("alice").await;
}

/// Every committed change to who may do what is announced on the commit feed,
/// whoever made it; what did not change anything is not.
async fn access_changes_are_announced_on_the_commit_feed(mut f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let laptop = f
        .store
        .create_token(alice, TokenKind::Session, "laptop", vec![7; 32])
        .await
        .unwrap();
    assert_eq!(
        f.store.access_changes(),
        0,
        "creating users and tokens ends nothing"
    );

    // Not Bob's token, and an unknown user: nothing committed, nothing said.
    assert!(!f.store.delete_token(bob, laptop.id).await.unwrap());
    let unknown = UserChanges {
        disabled: Some(true),
        ..Default::default()
    };
    assert!(f
        .store
        .update_user(alice + 1000, unknown)
        .await
        .unwrap()
        .is_none());
    assert!(!f.store.delete_user(alice + 1000).await.unwrap());
    assert!(f.access_fed().is_empty());

    assert!(f.store.delete_token(alice, laptop.id).await.unwrap());
    let rename = UserChanges {
        display_name: Some("Alice A.".into()),
        ..Default::default()
    };
    f.store.update_user(alice, rename).await.unwrap().unwrap();
    let new_password = UserChanges {
        password_hash: Some("new".into()),
        ..Default::default()
    };
    f.store
        .update_user(bob, new_password)
        .await
        .unwrap()
        .unwrap();
    assert!(f.store.delete_user(alice).await.unwrap());

    assert_eq!(f.store.access_changes(), 4);
    assert_eq!(
        f.access_fed(),
        [
            AccessChange::SessionsEnded {
                user: alice,
                token: Some(laptop.id)
            },
            AccessChange::Changed { user: alice },
            AccessChange::SessionsEnded {
                user: bob,
                token: None
            },
            AccessChange::SessionsEnded {
                user: alice,
                token: None
            },
        ]
    );
}

on_both_backends!(
    a_created_user_is_found_by_name_and_id,
    a_taken_username_is_a_conflict_and_changes_nothing,
    search_matches_name_prefixes_and_marks_contacts,
    update_changes_only_what_is_named_and_unknown_ids_are_none,
    disabling_a_user_or_changing_the_password_ends_their_sessions,
    tokens_authenticate_and_only_their_owner_deletes_them,
    a_deleted_user_is_gone_with_their_events_and_tokens,
    access_changes_are_announced_on_the_commit_feed,
);
