//! Contacts: each user's own list, and who hears of whose presence.

use herald_protocol::{UserId, MAX_CONTACTS};
use herald_store::{Error, UserChanges};
use tokio::task::JoinSet;

use crate::harness::Fixture;

fn names(entries: &[herald_store::ContactEntry]) -> Vec<&str> {
    entries.iter().map(|e| e.user.username.as_str()).collect()
}

async fn contacts_are_added_once_listed_by_name_and_removed(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let (entry, added) = f.store.add_contact(alice, "carol").await.unwrap();
    assert!(added);
    assert_eq!(entry.user.id, carol);
    let (again, added) = f.store.add_contact(alice, "carol").await.unwrap();
    assert!(!added);
    assert_eq!(again, entry);
    f.store.add_contact(alice, "bob").await.unwrap();
    f.store.add_contact(carol, "bob").await.unwrap();

    assert_eq!(
        names(&f.store.list_contacts(alice).await.unwrap()),
        ["bob", "carol"]
    );
    assert!(f.store.list_contacts(bob).await.unwrap().is_empty());
    let mut owners: Vec<UserId> = f.store.contact_owners(bob).await.unwrap();
    owners.sort_unstable();
    assert_eq!(owners, [alice, carol]);
    assert!(f.store.contact_owners(alice).await.unwrap().is_empty());

    assert!(f.store.remove_contact(alice, "carol").await.unwrap());
    assert!(!f.store.remove_contact(alice, "carol").await.unwrap());
    assert!(!f.store.remove_contact(alice, "ghost").await.unwrap());
    assert_eq!(names(&f.store.list_contacts(alice).await.unwrap()), ["bob"]);
    assert!(f.store.contact_owners(carol).await.unwrap().is_empty());
}

async fn oneself_strangers_and_disabled_users_are_no_contacts(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
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
    let myself = f.store.add_contact(alice, "alice").await;
    assert!(matches!(myself, Err(Error::Invalid(_))), "{myself:?}");
    for name in ["bob", "ghost"] {
        match f.store.add_contact(alice, name).await {
            Err(Error::UnknownUsers(unknown)) => assert_eq!(unknown, [name]),
            other => panic!("{name}: {other:?}"),
        }
    }
    assert!(f.store.list_contacts(alice).await.unwrap().is_empty());
}

async fn a_full_contact_list_refuses_more_but_not_a_re_add(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    // Concurrently, so group commits keep the set-up short.
    let mut users = JoinSet::new();
    for n in 0..=MAX_CONTACTS {
        let store = f.store.clone();
        users.spawn(async move {
            let name = format!("u{n}");
            store
                .create_user(herald_store::NewUser {
                    username: name.clone(),
                    display_name: name,
                    password_hash: String::new(),
                    role: herald_protocol::Role::User,
                })
                .await
                .unwrap()
        });
    }
    users.join_all().await;
    let mut adds = JoinSet::new();
    for n in 0..MAX_CONTACTS {
        let store = f.store.clone();
        adds.spawn(async move { store.add_contact(alice, &format!("u{n}")).await.unwrap().1 });
    }
    assert!(adds.join_all().await.into_iter().all(|added| added));
    let full = f
        .store
        .add_contact(alice, &format!("u{MAX_CONTACTS}"))
        .await;
    assert!(matches!(full, Err(Error::Invalid(_))), "{full:?}");
    let (_, added) = f.store.add_contact(alice, "u0").await.unwrap();
    assert!(!added);
    assert_eq!(
        f.store.list_contacts(alice).await.unwrap().len(),
        MAX_CONTACTS
    );
}

on_both_backends!(
    contacts_are_added_once_listed_by_name_and_removed,
    oneself_strangers_and_disabled_users_are_no_contacts,
    a_full_contact_list_refuses_more_but_not_a_re_add,
);
