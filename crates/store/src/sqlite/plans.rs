//! SQLite only: the conversation list and the counts read member rows and
//! indexes, never history, as the query planner sees them. (What they return is
//! tested on both backends in `tests/conformance`.)

use herald_protocol::{Role, UserId};
use rusqlite::Connection;

use crate::chat::conversations::{list_sql, PAGE_CONDITION};
use crate::chat::members::UNREAD_TOTAL;
use crate::notifications::UNREAD_COUNTS;
use crate::sqlite::SqliteStore;
use crate::{MessageTarget, NewMessage, NewUser, Store};

struct Fixture {
    store: SqliteStore,
    dir: tempfile::TempDir,
    bob: UserId,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (feed, _commits) = tokio::sync::mpsc::unbounded_channel();
    let store = SqliteStore::open(&dir.path().join("herald.db"), feed).unwrap();
    let mut bob = 0;
    for name in ["alice", "bob"] {
        bob = store
            .create_user(NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: "not a real hash".into(),
                role: Role::User,
            })
            .await
            .unwrap()
            .id;
    }
    Fixture { store, dir, bob }
}

/// The query plan of a statement, one line per step (parameters unbound: the
/// plan does not depend on their values).
fn plan(conn: &Connection, sql: &str) -> String {
    let mut stmt = conn.prepare(&format!("EXPLAIN QUERY PLAN {sql}")).unwrap();
    let mut rows = stmt.raw_query();
    let mut steps = Vec::new();
    while let Some(row) = rows.next().unwrap() {
        steps.push(row.get::<_, String>(3).unwrap());
    }
    steps.join("\n")
}

#[tokio::test]
async fn the_list_and_the_counts_read_member_rows_and_indexes_not_history() {
    let f = fixture().await;
    f.store
        .send_message(NewMessage {
            sender: f.bob,
            target: MessageTarget::User("alice".into()),
            content: "hello".into(),
            client_id: "c1".into(),
        })
        .await
        .unwrap();
    // No ANALYZE, as in production: the plan comes from the schema alone.
    let conn = Connection::open(f.dir.path().join("herald.db")).unwrap();

    let listing = plan(&conn, &list_sql(PAGE_CONDITION));
    assert!(listing.contains("members_by_user"), "{listing}");
    assert!(!listing.contains("SCAN"), "the list scans: {listing}");
    assert!(
        !listing.contains("TEMP B-TREE"),
        "the list sorts: {listing}"
    );

    let counting = plan(&conn, UNREAD_TOTAL);
    assert!(counting.contains("members_by_user"), "{counting}");
    assert!(!counting.contains("messages"), "{counting}");

    let unread = plan(&conn, UNREAD_COUNTS);
    assert!(unread.contains("recipients_unread"), "{unread}");
}
