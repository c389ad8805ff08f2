//! PostgreSQL only: cursors become visible in commit order across nodes, even
//! though sequence values are handed out in call order; and nodes starting at
//! once migrate one database safely.

use std::collections::BTreeSet;
use std::sync::Arc;

use herald_protocol::{Cursor, Event, Notification, NotificationKind};
use herald_store::postgres::{PostgresStore, WRITE_LOCK_KEY};
use herald_store::{Audience, Committed, Store, StoredEvent};
use tokio::sync::mpsc::unbounded_channel;
use tokio::task::JoinSet;

use crate::harness::{notification, open, TestDatabase};

const NODES: usize = 2;
const WRITERS_PER_NODE: usize = 4;
/// A multiple of three: the writes cycle through three audiences.
const WRITES_PER_WRITER: usize = 60;

/// Reads everything after `cursor`, moving it forward, and records what it saw.
async fn read_on(store: &dyn Store, cursor: &mut Cursor, seen: &mut Vec<StoredEvent>) {
    loop {
        let page = store.events_between(*cursor, None, 50).await.unwrap();
        let Some(last) = page.last() else {
            return;
        };
        assert!(page[0].seq > *cursor);
        *cursor = last.seq;
        seen.extend(page);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_reader_following_the_cursor_misses_nothing_two_nodes_write() {
    let database = TestDatabase::create().await;
    let mut nodes = Vec::new();
    let mut feeds = Vec::new();
    for _ in 0..NODES {
        let (feed, commits) = unbounded_channel();
        nodes.push(Arc::new(open(&database, feed).await));
        feeds.push(commits);
    }
    for name in ["alice", "bob", "carol"] {
        nodes[0]
            .create_user(herald_store::NewUser {
                username: name.into(),
                display_name: name.into(),
                password_hash: String::new(),
                role: herald_protocol::Role::User,
            })
            .await
            .unwrap();
    }

    // Writers of different sizes on both nodes, so batches of one node take
    // their sequence values while the other node's batch is still running.
    let mut writers = JoinSet::new();
    for (node_index, node) in nodes.iter().enumerate() {
        for writer in 0..WRITERS_PER_NODE {
            let node = node.clone();
            writers.spawn(async move {
                for n in 0..WRITES_PER_WRITER {
                    let audience = match (writer + n) % 3 {
                        0 => Audience::Broadcast,
                        1 => Audience::Users(vec!["alice".into()]),
                        _ => Audience::Users(vec!["alice".into(), "bob".into(), "carol".into()]),
                    };
                    let title = format!("node {node_index} writer {writer} #{n}");
                    node.insert_notification(notification(audience, &title))
                        .await
                        .unwrap();
                }
            });
        }
    }

    // The reader follows the stream on the first node while the writers run.
    let reader = nodes[0].clone();
    let mut cursor = 0;
    let mut seen = Vec::new();
    while !writers.is_empty() {
        read_on(&*reader, &mut cursor, &mut seen).await;
        if let Some(done) = writers.try_join_next() {
            done.unwrap();
        } else {
            tokio::task::yield_now().await;
        }
    }
    read_on(&*reader, &mut cursor, &mut seen).await;

    let all = reader.events_between(0, None, 1_000_000).await.unwrap();
    // Per writer, a third of the writes each make 1, 1 and 3 events.
    assert_eq!(
        all.len(),
        NODES * WRITERS_PER_NODE * WRITES_PER_WRITER / 3 * 5
    );
    assert_eq!(
        seen.len(),
        all.len(),
        "the reader skipped or repeated events"
    );
    assert_eq!(seen, all);
    let distinct: BTreeSet<Cursor> = seen.iter().map(|e| e.seq).collect();
    assert_eq!(distinct.len(), seen.len());

    // Each node's feed carried its own commits in cursor order; together they
    // are the whole stream.
    let mut fed = Vec::new();
    for mut commits in feeds {
        let mut node_fed: Vec<StoredEvent> = Vec::new();
        while let Ok(Committed::Events(batch)) = commits.try_recv() {
            node_fed.extend(batch);
        }
        assert!(node_fed.windows(2).all(|w| w[0].seq < w[1].seq));
        fed.extend(node_fed);
    }
    fed.sort_by_key(|e| e.seq);
    assert_eq!(fed, all);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_commit_holds_back_later_writes_until_it_is_visible() {
    let database = TestDatabase::create().await;
    let (feed, mut commits) = unbounded_channel();
    let store = Arc::new(open(&database, feed).await);
    let mut raw = database.connect().await;

    // Another writer takes the lock and a cursor, and does not commit yet.
    let late = raw.transaction().await.unwrap();
    late.execute("SELECT pg_advisory_xact_lock($1)", &[&WRITE_LOCK_KEY])
        .await
        .unwrap();
    let event = Event::NotificationCreated {
        notification: Notification {
            id: 1,
            kind: NotificationKind::Broadcast,
            category: None,
            title: "late".into(),
            content: String::new(),
            link: None,
            priority: 3,
            desktop: false,
            sender: None,
            created_at: time::OffsetDateTime::UNIX_EPOCH,
            read: false,
        },
    };
    let late_seq: i64 = late
        .query_one(
            "INSERT INTO events (user_id, created_at, payload) VALUES (NULL, 0, $1) RETURNING seq",
            &[&serde_json::to_string(&event).unwrap()],
        )
        .await
        .unwrap()
        .get(0);

    // The store's write starts and must wait for the lock.
    let writing = {
        let store = store.clone();
        tokio::spawn(async move {
            store
                .insert_notification(notification(Audience::Broadcast, "early"))
                .await
                .unwrap()
        })
    };
    let observer = database.connect().await;
    let mut waited = false;
    for _ in 0..1000 {
        let waiting: i64 = observer
            .query_one(
                "SELECT count(*) FROM pg_locks
                 WHERE locktype = 'advisory' AND NOT granted AND database =
                       (SELECT oid FROM pg_database WHERE datname = current_database())",
                &[],
            )
            .await
            .unwrap()
            .get(0);
        if waiting > 0 {
            waited = true;
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    assert!(waited, "the store's write never queued behind the lock");
    assert!(!writing.is_finished());
    let cursor_before = store.stream_bounds().await.unwrap().head;
    assert_eq!(cursor_before, 0);
    assert!(store.events_between(0, None, 100).await.unwrap().is_empty());

    late.commit().await.unwrap();
    let inserted = writing.await.unwrap();
    let after = store
        .events_between(cursor_before, None, 100)
        .await
        .unwrap();
    assert_eq!(after.len(), 2);
    assert_eq!(after[0].seq, late_seq);
    assert_eq!(after[0].event, event);
    assert!(
        after[1].seq > late_seq,
        "the store took its cursor after the lock"
    );
    assert_eq!(
        after[1].event,
        Event::NotificationCreated {
            notification: inserted.notification
        }
    );
    assert_eq!(
        commits.try_recv().unwrap(),
        Committed::Events(after[1..].to_vec())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn nodes_starting_at_once_migrate_one_database() {
    let database = TestDatabase::create().await;
    let mut opens = JoinSet::new();
    for _ in 0..4 {
        let url = database.url.clone();
        opens.spawn(async move {
            let (feed, _) = unbounded_channel();
            PostgresStore::open(&url, feed).await
        });
    }
    let stores: Vec<PostgresStore> = opens
        .join_all()
        .await
        .into_iter()
        .map(|opened| opened.unwrap())
        .collect();
    let client = database.connect().await;
    let versions: Vec<i64> = client
        .query(
            "SELECT version FROM schema_migrations ORDER BY version",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|row| row.get(0))
        .collect();
    // Each migration ran once, whichever node got to it.
    assert_eq!(versions, [1, 2]);
    // Every node works on the one schema.
    for (n, store) in stores.iter().enumerate() {
        store
            .create_user(herald_store::NewUser {
                username: format!("u{n}"),
                display_name: String::new(),
                password_hash: String::new(),
                role: herald_protocol::Role::User,
            })
            .await
            .unwrap();
    }
    assert_eq!(stores[0].user_count().await.unwrap(), 4);
}
