//! SQLite only: the conversation list and the counts read member rows, never
//! history, as the query planner sees it. (What the list returns is tested on
//! both backends in `tests/conformance`.)

use herald_protocol::{Role, UserId};
use rusqlite::Connection;

use super::{list_sql, PAGE_CONDITION, UNREAD_TOTAL};
use crate::sqlite::SqliteStore;
use crate::{MessageTarget, NewMessage, NewUser, Store};

struct Fixture {
    store: SqliteStore,
    dir: tempfile::TempDir,
    alice: UserId,
    bob: UserId,
}

async fn fixture() -> Fixture {
    let dir = tempfile::tempdir().unwrap();
    let (feed, _commits) = tokio::sync::mpsc::unbounded_channel();
    let store = SqliteStore::open(&dir.path().join("herald.db"), feed).unwrap();
    let mut ids = Vec::new();
    for name in ["alice", "bob"] {
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
    }
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
