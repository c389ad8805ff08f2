//! The chat store on a real SQLite file: the denormalised member rows stay exact
//! through thousands of messages, and the list never reads history to get them.

use std::sync::Arc;

use herald_protocol::{Conversation, Message, Role, UserId};
use rusqlite::Connection;
use tokio::task::JoinSet;

use super::{list_sql, PAGE_CONDITION, UNREAD_TOTAL};
use crate::sqlite::SqliteStore;
use crate::{
    ConversationFilter, DeleteScope, HistoryRange, MessageTarget, NewMessage, NewUser, Store,
};

struct Fixture {
    store: Arc<SqliteStore>,
    dir: tempfile::TempDir,
    alice: UserId,
    bob: UserId,
    carol: UserId,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (feed, _commits) = tokio::sync::mpsc::unbounded_channel();
    let store = Arc::new(SqliteStore::open(&dir.path().join("herald.db"), feed).unwrap());
    let mut ids = Vec::new();
    for name in ["alice", "bob", "carol"] {
        let user = store
            .create_user(NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: "not a real hash".into(),
                role: Role::User,
            })
            .await
            .unwrap();
        ids.push(user.id);
    }
    Fixture {
        store,
        dir,
        alice: ids[0],
        bob: ids[1],
        carol: ids[2],
    }
}

fn message(sender: UserId, target: MessageTarget, n: usize) -> NewMessage {
    NewMessage {
        sender,
        target,
        content: format!("message {n}"),
        client_id: format!("c{n}"),
    }
}

/// Every message of a conversation the user can see, newest first, read by
/// paging history: the slow, obviously right answer.
async fn everything(store: &SqliteStore, user: UserId, conversation: i64) -> Vec<Message> {
    let mut all = Vec::new();
    let mut before = None;
    loop {
        let range = HistoryRange {
            before,
            after: None,
            limit: 200,
        };
        let page = store.history(user, conversation, range).await.unwrap();
        all.extend(page.items);
        match page.next_cursor {
            Some(cursor) => before = Some(cursor.parse().unwrap()),
            None => return all,
        }
    }
}

async fn list(store: &SqliteStore, user: UserId) -> Vec<Conversation> {
    let filter = ConversationFilter::Page {
        after: None,
        limit: 200,
    };
    store.conversations(user, filter).await.unwrap().items
}

/// Each list entry agrees with a count over the full history.
async fn assert_list_matches_history(store: &SqliteStore, user: UserId, username: &str) {
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

#[tokio::test]
async fn list_and_counts_stay_exact_over_3000_messages() {
    let f = fixture().await;
    let room = f
        .store
        .create_room(f.alice, "qa".into(), vec!["bob".into(), "carol".into()])
        .await
        .unwrap();
    // Concurrent sends, so the writer folds them into few group commits.
    let mut sends = JoinSet::new();
    for n in 0..3000 {
        let new = match n % 3 {
            0 => message(f.bob, MessageTarget::User("alice".into()), n),
            1 => message(f.carol, MessageTarget::Room(room.id), n),
            _ => message(f.alice, MessageTarget::User("bob".into()), n),
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
        .mark_conversation_read(f.alice, direct, from_bob[500])
        .await
        .unwrap();
    f.store
        .delete_messages(f.alice, vec![from_bob[700], from_bob[999]], DeleteScope::Me)
        .await
        .unwrap();
    let newest_of_alice = *from_alice.last().unwrap();
    f.store
        .delete_messages(f.alice, vec![newest_of_alice], DeleteScope::Natural)
        .await
        .unwrap();
    let carols: Vec<i64> = sent
        .iter()
        .filter(|m| m.conversation_id == room.id)
        .map(|m| m.id)
        .collect();
    f.store
        .delete_messages(f.carol, vec![carols[10]], DeleteScope::Everyone)
        .await
        .unwrap();

    for (user, name) in [(f.alice, "alice"), (f.bob, "bob"), (f.carol, "carol")] {
        assert_list_matches_history(&f.store, user, name).await;
    }
    let alice = list(&f.store, f.alice).await;
    let direct_entry = alice.iter().find(|c| c.id == direct).unwrap();
    assert_eq!(direct_entry.unread_count, 1000 - 501 - 2);
    assert_eq!(direct_entry.peer.as_ref().unwrap().username, "bob");
    let room_entry = alice.iter().find(|c| c.id == room.id).unwrap();
    assert_eq!(room_entry.unread_count, 999);
}

/// The query plan of a statement, one line per step.
fn plan(conn: &Connection, sql: &str, params: impl rusqlite::Params) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let steps: Vec<String> = stmt
        .query_map(params, |row| row.get::<_, String>(3))
        .unwrap()
        .collect::<rusqlite::Result<_>>()
        .unwrap();
    steps.join("\n")
}

#[tokio::test]
async fn the_list_and_the_counts_read_member_rows_not_history() {
    let f = fixture().await;
    f.store
        .send_message(message(f.bob, MessageTarget::User("alice".into()), 1))
        .await
        .unwrap();
    // No ANALYZE, as in production: the plan comes from the schema alone.
    let conn = Connection::open(f.dir.path().join("herald.db")).unwrap();

    let listing = plan(
        &conn,
        &list_sql(PAGE_CONDITION),
        (f.alice, i64::MAX, i64::MAX, None::<String>, 50),
    );
    assert!(listing.contains("members_by_user"), "{listing}");
    assert!(!listing.contains("SCAN"), "the list scans: {listing}");
    assert!(
        !listing.contains("TEMP B-TREE"),
        "the list sorts: {listing}"
    );

    let counting = plan(&conn, UNREAD_TOTAL, [f.alice]);
    assert!(counting.contains("members_by_user"), "{counting}");
    assert!(!counting.contains("messages"), "{counting}");
}
