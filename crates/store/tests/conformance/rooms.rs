//! Rooms: creation, membership changes by owner and members, who is told.

use herald_protocol::{ConversationKind, Event};
use herald_store::{ConversationFilter, Error, MessageTarget, RoomChange};

use crate::harness::{everything, Fixture};

async fn a_room_starts_with_its_creator_as_owner_and_tells_every_member(f: Fixture) {
    let [alice, bob, carol, dave] = f.users(["alice", "bob", "carol", "dave"]).await;
    let room = f
        .store
        .create_room(
            alice,
            "qa".into(),
            vec!["carol".into(), "bob".into(), "alice".into()],
        )
        .await
        .unwrap();
    assert_eq!(room.name, "qa");
    assert_eq!(room.owner.as_deref(), Some("alice"));
    assert_eq!(room.members, ["alice", "bob", "carol"]);
    for user in [alice, bob, carol] {
        let events = f.store.events_since(user, 0, 100).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].event, Event::RoomUpdated { room: room.clone() });
        assert_eq!(
            f.store.rooms(user).await.unwrap(),
            std::slice::from_ref(&room)
        );
        let listed = f
            .store
            .conversations(
                user,
                ConversationFilter::Page {
                    after: None,
                    limit: 50,
                },
            )
            .await
            .unwrap();
        assert_eq!(listed.items.len(), 1);
        assert_eq!(listed.items[0].kind, ConversationKind::Room);
        assert_eq!(listed.items[0].room.as_ref(), Some(&room));
    }
    assert!(f.store.rooms(dave).await.unwrap().is_empty());
    assert!(f.store.events_since(dave, 0, 100).await.unwrap().is_empty());
}

async fn a_room_naming_a_stranger_is_not_created(f: Fixture) {
    let [alice] = f.users(["alice"]).await;
    let result = f
        .store
        .create_room(alice, "qa".into(), vec!["ghost".into()])
        .await;
    match result {
        Err(Error::UnknownUsers(names)) => assert_eq!(names, ["ghost"]),
        other => panic!("{other:?}"),
    }
    assert!(f.store.rooms(alice).await.unwrap().is_empty());
    assert!(f.all_events().await.is_empty());
}

async fn only_the_owner_adds_and_removes_others_and_members_may_leave(f: Fixture) {
    let [alice, bob, carol, _] = f.users(["alice", "bob", "carol", "dave"]).await;
    let room = f
        .store
        .create_room(alice, "qa".into(), vec!["bob".into()])
        .await
        .unwrap();
    let before = f.all_events().await.len();

    let refused = [
        (bob, RoomChange::Add("carol".into()), "forbidden"),
        (bob, RoomChange::Remove("alice".into()), "forbidden"),
        (carol, RoomChange::Add("carol".into()), "not found"),
        (alice, RoomChange::Remove("dave".into()), "not found"),
        (alice, RoomChange::Add("ghost".into()), "unknown"),
    ];
    for (actor, change, expected) in refused {
        let result = f.store.change_room(actor, room.id, change.clone()).await;
        let matched = match expected {
            "forbidden" => matches!(result, Err(Error::Forbidden(_))),
            "not found" => matches!(result, Err(Error::NotFound(_))),
            _ => matches!(result, Err(Error::UnknownUsers(_))),
        };
        assert!(matched, "{change:?} by {actor}: {result:?}");
    }
    assert_eq!(f.all_events().await.len(), before, "refusals tell nobody");
    assert_eq!(
        f.store.rooms(alice).await.unwrap(),
        std::slice::from_ref(&room)
    );

    // The owner adds Carol: she sees the room, the others hear of her only.
    // Adding her again changes nothing.
    let grown = f
        .store
        .change_room(alice, room.id, RoomChange::Add("carol".into()))
        .await
        .unwrap();
    assert_eq!(grown.members, ["alice", "bob", "carol"]);
    let carols = f.store.events_since(carol, 0, 100).await.unwrap();
    assert_eq!(
        carols.last().unwrap().event,
        Event::RoomUpdated {
            room: grown.clone()
        }
    );
    for user in [alice, bob] {
        let events = f.store.events_since(user, 0, 100).await.unwrap();
        assert_eq!(
            events.last().unwrap().event,
            Event::RoomMemberAdded {
                room_id: room.id,
                user: "carol".into()
            }
        );
    }
    let events = f.all_events().await.len();
    let same = f
        .store
        .change_room(alice, room.id, RoomChange::Add("carol".into()))
        .await
        .unwrap();
    assert_eq!(same, grown);
    assert_eq!(f.all_events().await.len(), events);

    // Bob leaves: he is told to drop it, the others hear who left.
    let shrunk = f
        .store
        .change_room(bob, room.id, RoomChange::Remove("bob".into()))
        .await
        .unwrap();
    assert_eq!(shrunk.members, ["alice", "carol"]);
    let bobs = f.store.events_since(bob, 0, 100).await.unwrap();
    assert_eq!(
        bobs.last().unwrap().event,
        Event::RoomLeft { room_id: room.id }
    );
    let carols = f.store.events_since(carol, 0, 100).await.unwrap();
    assert_eq!(
        carols.last().unwrap().event,
        Event::RoomMemberRemoved {
            room_id: room.id,
            user: "bob".into(),
            owner: Some("alice".into())
        }
    );
    assert!(f.store.rooms(bob).await.unwrap().is_empty());
    let speak = f
        .store
        .send_message(crate::harness::message(
            bob,
            MessageTarget::Room(room.id),
            "hello?",
        ))
        .await;
    assert!(matches!(speak, Err(Error::NotFound(_))), "{speak:?}");
}

async fn the_longest_standing_member_takes_over_when_the_owner_leaves(f: Fixture) {
    let [alice, bob, _] = f.users(["alice", "bob", "carol"]).await;
    let room = f
        .store
        .create_room(alice, "qa".into(), vec!["bob".into()])
        .await
        .unwrap();
    f.store
        .change_room(alice, room.id, RoomChange::Add("carol".into()))
        .await
        .unwrap();
    let left = f
        .store
        .change_room(alice, room.id, RoomChange::Remove("alice".into()))
        .await
        .unwrap();
    assert_eq!(left.owner.as_deref(), Some("bob"));
    assert_eq!(left.members, ["bob", "carol"]);
    // Bob may now manage the room.
    let removed = f
        .store
        .change_room(bob, room.id, RoomChange::Remove("carol".into()))
        .await
        .unwrap();
    assert_eq!(removed.members, ["bob"]);
}

async fn a_member_who_joins_later_inherits_no_unread_history(f: Fixture) {
    let [alice, bob, carol] = f.users(["alice", "bob", "carol"]).await;
    let room = f
        .store
        .create_room(alice, "qa".into(), vec!["bob".into()])
        .await
        .unwrap();
    let old = f
        .say(bob, MessageTarget::Room(room.id), "before carol")
        .await
        .message;
    f.store
        .change_room(alice, room.id, RoomChange::Add("carol".into()))
        .await
        .unwrap();
    let carols = f
        .store
        .conversations(
            carol,
            ConversationFilter::Page {
                after: None,
                limit: 50,
            },
        )
        .await
        .unwrap();
    assert_eq!(carols.items[0].unread_count, 0);
    assert_eq!(carols.items[0].read_up_to, old.id);
    assert_eq!(carols.items[0].last_message.as_ref(), Some(&old));
    let new = f
        .say(bob, MessageTarget::Room(room.id), "after carol")
        .await
        .message;
    assert_eq!(f.store.counts(carol).await.unwrap().0.chats, 1);
    assert_eq!(f.store.counts(alice).await.unwrap().0.chats, 2);
    let events = f.store.events_since(carol, 0, 100).await.unwrap();
    assert_eq!(
        events.last().unwrap().event,
        Event::MessageCreated { message: new }
    );
}

async fn deleting_a_user_takes_them_out_of_their_rooms(f: Fixture) {
    let [alice, bob] = f.users(["alice", "bob"]).await;
    let room = f
        .store
        .create_room(alice, "qa".into(), vec!["bob".into()])
        .await
        .unwrap();
    let said = f
        .say(alice, MessageTarget::Room(room.id), "bye")
        .await
        .message;
    f.store.delete_user(alice).await.unwrap();
    let rooms = f.store.rooms(bob).await.unwrap();
    assert_eq!(rooms[0].members, ["bob"]);
    assert_eq!(rooms[0].owner.as_deref(), Some("bob"));
    let events = f.store.events_since(bob, 0, 100).await.unwrap();
    assert_eq!(
        events.last().unwrap().event,
        Event::RoomMemberRemoved {
            room_id: room.id,
            user: "alice".into(),
            owner: Some("bob".into())
        }
    );
    // Their messages stay, without a sender.
    let history = everything(f.store.as_ref(), bob, room.id).await;
    assert_eq!(history.len(), 1);
    assert_eq!(history[0].id, said.id);
    assert_eq!(history[0].sender, None);
}

/// Each change tells each member one small event: growing a room to 200
/// members one add at a time writes O(members) bytes per add, not a member
/// list per member (which made it O(members²) per add).
async fn growing_a_room_one_member_at_a_time_costs_each_add_its_size(f: Fixture) {
    let owner = f.user("owner").await.id;
    let room = f
        .store
        .create_room(owner, "everyone".into(), Vec::new())
        .await
        .unwrap();
    let mut names = Vec::new();
    for n in 1..200 {
        names.push(f.user(&format!("member{n:03}")).await.username);
    }
    let mut largest = 0;
    for (n, name) in names.iter().enumerate() {
        let before = f.event_payload_bytes().await;
        f.store
            .change_room(owner, room.id, RoomChange::Add(name.clone()))
            .await
            .unwrap();
        let members = n as i64 + 2;
        let per_member = (f.event_payload_bytes().await - before) / members;
        largest = largest.max(per_member);
    }
    assert!(
        largest < 100,
        "an add wrote up to {largest} bytes per member of the room"
    );

    // Replayed from the start, the first and the last member see the same room.
    let room = f.store.rooms(owner).await.unwrap().remove(0);
    assert_eq!(room.members.len(), 200);
    let last = f
        .store
        .user_by_name("member199")
        .await
        .unwrap()
        .unwrap()
        .user
        .id;
    // (A replayed room.updated shows the room as it stands; the additions after
    // it are then applied again, which changes nothing.)
    for user in [owner, last] {
        let mut members = std::collections::BTreeSet::new();
        for stored in f.store.events_since(user, 0, 1000).await.unwrap() {
            match stored.event {
                Event::RoomUpdated { room } => members = room.members.into_iter().collect(),
                Event::RoomMemberAdded { user, .. } => {
                    members.insert(user);
                }
                other => panic!("{other:?}"),
            }
        }
        assert!(members.iter().eq(room.members.iter()));
    }
}

on_both_backends!(
    growing_a_room_one_member_at_a_time_costs_each_add_its_size,
    a_room_starts_with_its_creator_as_owner_and_tells_every_member,
    a_room_naming_a_stranger_is_not_created,
    only_the_owner_adds_and_removes_others_and_members_may_leave,
    the_longest_standing_member_takes_over_when_the_owner_leaves,
    a_member_who_joins_later_inherits_no_unread_history,
    deleting_a_user_takes_them_out_of_their_rooms,
);
