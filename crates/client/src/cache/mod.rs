//! The local cache: one SQLite file (WAL) holding what the user can see, the
//! stream cursor, the outbox and a log of applied events.
//!
//! It is what makes the app open instantly and work offline: every read a front
//! end makes ([`crate::Client::list`], counts, search) is answered from here, and
//! the sync engine is the only writer of server state. Everything in it can be
//! rebuilt from the server except the outbox, which is why writes are
//! `synchronous = FULL` and the schema is migrated, never recreated.
//!
//! The functions in the submodules take a `&Connection` (or a transaction) and
//! are synchronous; [`Cache`] owns the connection and runs them on the blocking
//! pool so async callers never stall their runtime on disk I/O.

pub(crate) mod chat;
pub(crate) mod log;
pub(crate) mod meta;
pub(crate) mod notifications;
pub(crate) mod outbox;
pub mod schema;
pub(crate) mod search;
pub(crate) mod tracker;

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use rusqlite::{Connection, Transaction, TransactionBehavior};

use crate::credentials::create_private_dir;
use crate::error::{Error, Result};
use crate::views::Action;

/// How long a write waits for another process (a second `herald watch` on the
/// same cache) to finish its transaction before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// A handle to the cache database; clones share one connection.
#[derive(Clone)]
pub struct Cache {
    /// One connection behind a mutex: the cache is small and its transactions
    /// short, so a pool would add contention bookkeeping and nothing else.
    conn: Arc<Mutex<Connection>>,
    /// The file, or `None` for an in-memory cache.
    path: Option<PathBuf>,
}

impl std::fmt::Debug for Cache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cache").field("path", &self.path).finish()
    }
}

impl Cache {
    /// Opens (creating and migrating as needed) the cache at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            create_private_dir(dir)?;
        }
        let conn = Connection::open(path)?;
        #[cfg(unix)]
        restrict_permissions(path);
        configure(&conn)?;
        schema::migrate(&conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: Some(path.to_path_buf()),
        })
    }

    /// A cache that lives only as long as this handle (tests, one-shot tools).
    pub fn open_in_memory() -> Result<Self> {
        let conn = Connection::open_in_memory()?;
        configure(&conn)?;
        schema::migrate(&conn)?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
            path: None,
        })
    }

    /// Where the cache lives (`None` in memory).
    pub fn path(&self) -> Option<&Path> {
        self.path.as_deref()
    }

    /// The schema version of the open file.
    pub fn schema_version(&self) -> Result<i64> {
        self.read(schema::version)
    }

    /// Runs `f` on the connection (reads).
    pub(crate) fn read<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        f(&self.conn.lock())
    }

    /// Runs `f` in an immediate transaction and commits when it returns `Ok`.
    /// Immediate, so two writers (two processes on one file) queue up at the
    /// start instead of failing at commit.
    pub(crate) fn write<T>(&self, f: impl FnOnce(&Transaction) -> Result<T>) -> Result<T> {
        let mut conn = self.conn.lock();
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        let value = f(&tx)?;
        tx.commit()?;
        Ok(value)
    }

    /// [`Cache::read`] on the blocking pool.
    pub(crate) async fn read_async<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Connection) -> Result<T> + Send + 'static,
    {
        let cache = self.clone();
        tokio::task::spawn_blocking(move || cache.read(f))
            .await
            .map_err(|_| Error::Closed)?
    }

    /// [`Cache::write`] on the blocking pool.
    pub(crate) async fn write_async<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Transaction) -> Result<T> + Send + 'static,
    {
        let cache = self.clone();
        tokio::task::spawn_blocking(move || cache.write(f))
            .await
            .map_err(|_| Error::Closed)?
    }

    /// Deletes a cache file and its WAL companions (after logout, or when the
    /// file belongs to another account). A missing file is not an error.
    pub fn remove_files(path: &Path) -> Result<()> {
        for suffix in ["", "-wal", "-shm"] {
            let mut name = path.as_os_str().to_owned();
            name.push(suffix);
            let file = PathBuf::from(name);
            match std::fs::remove_file(&file) {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(Error::File {
                        action: "cannot remove",
                        path: file,
                        source,
                    })
                }
            }
        }
        Ok(())
    }
}

/// Applies one stream event to the server layer (notifications or chat).
/// `me` is the user's name. Call [`rebase`] before the transaction ends.
pub(crate) fn apply_event(
    conn: &Connection,
    event: &herald_protocol::Event,
    me: &str,
    tracker: &mut tracker::Tracker,
) -> Result<chat::Effect> {
    use herald_protocol::Event;
    match event {
        Event::MessageCreated { .. }
        | Event::MessagesDeleted { .. }
        | Event::ConversationRead { .. }
        | Event::RoomUpdated { .. }
        | Event::RoomMemberAdded { .. }
        | Event::RoomMemberRemoved { .. }
        | Event::RoomLeft { .. } => chat::apply_event(conn, event, me, tracker),
        _ => {
            notifications::apply_event(conn, event, tracker)?;
            Ok(chat::Effect::default())
        }
    }
}

/// Applies one outbox action to the user's layer.
pub(crate) fn apply_local(
    conn: &Connection,
    action: &Action,
    me: &str,
    tracker: &mut tracker::Tracker,
) -> Result<()> {
    notifications::apply_local(conn, action, tracker)?;
    chat::apply_local(conn, action, me, tracker)
}

/// Recomputes what the user sees: the server's state, then every action still
/// in the outbox, in order. This is how an action the server refused is undone
/// (it is no longer in the outbox), and why applying a server event never
/// clobbers an optimistic change still on its way.
pub(crate) fn rebase(conn: &Connection, me: &str, tracker: &mut tracker::Tracker) -> Result<()> {
    notifications::reset_overlay(conn, tracker)?;
    chat::reset_overlay(conn, tracker)?;
    for action in outbox::actions(conn)? {
        apply_local(conn, &action, me, tracker)?;
    }
    Ok(())
}

/// Empties every table: the data belonged to another account (or the user logged
/// out). The schema stays.
pub(crate) fn wipe(tx: &Transaction) -> Result<()> {
    tx.execute_batch(
        "DELETE FROM notifications;
         DELETE FROM outbox;
         DELETE FROM event_log;
         DELETE FROM meta;
         DELETE FROM contacts;
         DELETE FROM conversations;
         DELETE FROM messages;",
    )?;
    Ok(())
}

fn configure(conn: &Connection) -> Result<()> {
    conn.busy_timeout(BUSY_TIMEOUT)?;
    // WAL: readers (the window) never wait for the writer (the sync engine).
    // FULL: a committed outbox entry survives a power cut, not just a crash.
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         PRAGMA synchronous = FULL;
         PRAGMA foreign_keys = OFF;",
    )?;
    Ok(())
}

/// The cache holds the user's messages: readable by its owner only. Best effort,
/// since SQLite created the file and a failure here loses nothing.
#[cfg(unix)]
fn restrict_permissions(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
}

#[cfg(test)]
mod tests {
    use herald_protocol::{Event, KindFilter, Notification, NotificationKind};
    use time::OffsetDateTime;

    use super::notifications::{self, NotificationFilter};
    use super::outbox;
    use super::tracker::Tracker;
    use super::*;
    use crate::events::ClientEvent;

    fn note(id: i64, title: &str) -> Notification {
        Notification {
            id,
            kind: NotificationKind::Personal,
            category: Some("test-run".into()),
            title: title.into(),
            content: format!("content of {title}"),
            link: None,
            priority: 3,
            desktop: false,
            sender: Some("bob".into()),
            created_at: OffsetDateTime::now_utc(),
            read: false,
        }
    }

    fn created(id: i64, title: &str) -> Event {
        Event::NotificationCreated {
            notification: note(id, title),
        }
    }

    /// Applies events (and re-applies the outbox) the way the engine does.
    fn apply(cache: &Cache, events: &[Event]) -> Vec<ClientEvent> {
        cache
            .write(|tx| {
                let mut tracker = Tracker::new(true);
                for event in events {
                    apply_event(tx, event, "me", &mut tracker)?;
                }
                rebase(tx, "me", &mut tracker)?;
                tracker.finish(tx)
            })
            .unwrap()
    }

    fn act(cache: &Cache, action: Action) -> Vec<ClientEvent> {
        cache
            .write(|tx| {
                let mut tracker = Tracker::new(false);
                outbox::push(tx, &action)?;
                apply_local(tx, &action, "me", &mut tracker)?;
                tracker.finish(tx)
            })
            .unwrap()
    }

    /// Every column of every row, to compare states exactly.
    fn dump(cache: &Cache) -> Vec<String> {
        cache
            .read(|conn| {
                let rows = conn
                    .prepare("SELECT * FROM notifications ORDER BY id")?
                    .query_map([], |row| {
                        let mut cells = Vec::new();
                        for i in 0..row.as_ref().column_count() {
                            let value: rusqlite::types::Value = row.get(i)?;
                            cells.push(format!("{value:?}"));
                        }
                        Ok(cells.join("|"))
                    })?
                    .collect::<rusqlite::Result<_>>()?;
                Ok(rows)
            })
            .unwrap()
    }

    fn shown(cache: &Cache) -> Vec<(i64, bool)> {
        let filter = NotificationFilter::default();
        cache
            .read(|conn| notifications::list(conn, &filter))
            .unwrap()
            .iter()
            .map(|n| (n.id, n.read))
            .collect()
    }

    #[test]
    fn the_bundled_sqlite_has_fts5() {
        let cache = Cache::open_in_memory().unwrap();
        let enabled: bool = cache
            .read(|conn| {
                Ok(
                    conn.query_row("SELECT sqlite_compileoption_used('ENABLE_FTS5')", [], |r| {
                        r.get(0)
                    })?,
                )
            })
            .unwrap();
        assert!(enabled);
    }

    #[test]
    fn applying_every_event_a_second_time_changes_nothing() {
        let events = vec![
            created(1, "one"),
            created(2, "two"),
            created(3, "three"),
            Event::NotificationsRead { ids: vec![1, 2] },
            Event::NotificationsUnread { ids: vec![2] },
            Event::NotificationsDeleted { ids: vec![3] },
            created(4, "four"),
            Event::AllRead {
                kind: KindFilter::All,
                up_to: 4,
            },
            Event::AllUnread {
                kind: KindFilter::Personal,
                up_to: 1,
            },
        ];
        let once = Cache::open_in_memory().unwrap();
        let twice = Cache::open_in_memory().unwrap();
        for event in &events {
            apply(&once, std::slice::from_ref(event));
            apply(&twice, std::slice::from_ref(event));
            let again = apply(&twice, std::slice::from_ref(event));
            assert!(
                again.is_empty(),
                "{event:?} announced changes again: {again:?}"
            );
            assert_eq!(
                dump(&twice),
                dump(&once),
                "{event:?} changed the state again"
            );
        }
        assert_eq!(shown(&once), vec![(4, true), (2, true), (1, false)]);
        // A replay that overlaps what was applied (any suffix of the stream,
        // applied again in order) ends in the same state.
        let end = dump(&once);
        for k in 0..events.len() {
            apply(&once, &events[k..]);
            assert_eq!(dump(&once), end, "replaying from event {k}");
        }
    }

    #[test]
    fn chat_events_applied_twice_count_once() {
        let message = |id: i64, sender: &str| herald_protocol::Message {
            id,
            conversation_id: 5,
            sender: Some(sender.into()),
            content: format!("message {id}"),
            client_id: format!("c{id}"),
            created_at: OffsetDateTime::now_utc(),
        };
        let events = vec![
            Event::MessageCreated {
                message: message(1, "bob"),
            },
            Event::MessageCreated {
                message: message(2, "me"),
            },
            Event::MessageCreated {
                message: message(3, "bob"),
            },
            Event::MessageCreated {
                message: message(4, "bob"),
            },
            Event::ConversationRead {
                conversation_id: 5,
                user: "me".into(),
                up_to: 3,
            },
            Event::ConversationRead {
                conversation_id: 5,
                user: "bob".into(),
                up_to: 2,
            },
            Event::MessagesDeleted {
                conversation_id: 5,
                ids: vec![4],
            },
        ];
        let once = Cache::open_in_memory().unwrap();
        let twice = Cache::open_in_memory().unwrap();
        let summary = |cache: &Cache| {
            let c = cache
                .read(|conn| chat::conversation(conn, 5))
                .unwrap()
                .unwrap();
            (
                c.unread_count,
                c.read_up_to,
                c.peer_read_up_to,
                c.last_message.and_then(|m| m.id),
            )
        };
        for event in &events {
            apply(&once, std::slice::from_ref(event));
            apply(&twice, std::slice::from_ref(event));
            apply(&twice, std::slice::from_ref(event));
            assert_eq!(summary(&twice), summary(&once), "after {event:?}");
        }
        assert_eq!(summary(&once), (0, 3, Some(2), Some(3)));
        let history = once.read(|conn| chat::history(conn, 5, None, 10)).unwrap();
        assert_eq!(history.len(), 3);
    }

    #[test]
    fn changes_are_announced_as_added_changed_and_removed() {
        let cache = Cache::open_in_memory().unwrap();
        let added = apply(&cache, &[created(1, "one")]);
        assert!(matches!(
            &added[..],
            [ClientEvent::NotificationAdded { notification, live: true }] if notification.id == 1
        ));
        let changed = apply(&cache, &[Event::NotificationsRead { ids: vec![1] }]);
        assert!(matches!(
            &changed[..],
            [ClientEvent::NotificationChanged { notification }] if notification.read
        ));
        assert!(apply(&cache, &[Event::NotificationsRead { ids: vec![1] }]).is_empty());
        let removed = apply(&cache, &[Event::NotificationsDeleted { ids: vec![1] }]);
        assert_eq!(removed, vec![ClientEvent::NotificationRemoved { id: 1 }]);
    }

    #[test]
    fn pending_actions_stay_on_top_of_server_events_and_are_undone_when_dropped() {
        let cache = Cache::open_in_memory().unwrap();
        apply(&cache, &[created(1, "one"), created(2, "two")]);
        act(&cache, Action::MarkRead { ids: vec![1] });
        act(&cache, Action::Delete { ids: vec![2] });
        assert_eq!(shown(&cache), vec![(1, true)]);

        // Another device marks 1 unread before our read is sent: ours comes
        // later on the server too, so the screen keeps showing it read.
        let events = apply(&cache, &[Event::NotificationsUnread { ids: vec![1] }]);
        assert!(events.is_empty(), "{events:?}");
        assert_eq!(shown(&cache), vec![(1, true)]);

        // The server refuses both: dropping them restores the server's state.
        let events = cache
            .write(|tx| {
                tx.execute("DELETE FROM outbox", [])?;
                let mut tracker = Tracker::new(false);
                rebase(tx, "me", &mut tracker)?;
                tracker.finish(tx)
            })
            .unwrap();
        assert_eq!(shown(&cache), vec![(2, false), (1, false)]);
        assert_eq!(events.len(), 2, "{events:?}");
    }

    #[test]
    fn mark_all_read_covers_only_what_was_there_when_it_was_clicked() {
        let cache = Cache::open_in_memory().unwrap();
        apply(&cache, &[created(1, "one"), created(2, "two")]);
        act(
            &cache,
            Action::MarkAllRead {
                kind: KindFilter::All,
                up_to: 2,
            },
        );
        apply(&cache, &[created(3, "three")]);
        assert_eq!(shown(&cache), vec![(3, false), (2, true), (1, true)]);
        let counts = cache.read(notifications::counts).unwrap();
        assert_eq!(counts.unread_total, 1);
    }

    #[test]
    fn a_row_of_an_unknown_kind_is_reported_as_corrupt_not_shown_as_personal() {
        let cache = Cache::open_in_memory().unwrap();
        apply(&cache, &[created(1, "one")]);
        cache
            .write(|tx| {
                // As a newer client (or a damaged file) might have left it.
                tx.execute_batch(
                    "PRAGMA ignore_check_constraints = ON;
                     UPDATE notifications SET kind = 'topic' WHERE id = 1;",
                )?;
                Ok(())
            })
            .unwrap();
        let listed = cache.read(|conn| notifications::list(conn, &NotificationFilter::default()));
        let error = listed.unwrap_err().to_string();
        assert!(
            error.contains("unknown notification kind \"topic\""),
            "{error}"
        );
    }

    #[test]
    fn a_reload_changes_only_what_differs() {
        let cache = Cache::open_in_memory().unwrap();
        apply(
            &cache,
            &[created(1, "one"), created(2, "two"), created(3, "three")],
        );
        let mut two = note(2, "two");
        two.read = true;
        let listing = vec![note(4, "four"), note(3, "three"), two, note(1, "one")];
        let events = cache
            .write(|tx| {
                let mut tracker = Tracker::new(false);
                notifications::replace_all(tx, &listing[..2], &mut tracker)?;
                notifications::replace_all(tx, &listing, &mut tracker)?;
                tracker.finish(tx)
            })
            .unwrap();
        let mut kinds: Vec<String> = events
            .iter()
            .map(|e| match e {
                ClientEvent::NotificationAdded { notification, .. } => {
                    format!("added {}", notification.id)
                }
                ClientEvent::NotificationChanged { notification } => {
                    format!("changed {}", notification.id)
                }
                ClientEvent::NotificationRemoved { id } => format!("removed {id}"),
                other => format!("{other:?}"),
            })
            .collect();
        kinds.sort();
        assert_eq!(kinds, vec!["added 4", "changed 2"]);
        assert_eq!(
            shown(&cache),
            vec![(4, false), (3, false), (2, true), (1, false)]
        );
    }

    #[test]
    fn the_event_log_is_bounded_and_says_when_events_are_missing() {
        let cache = Cache::open_in_memory().unwrap();
        cache
            .write(|tx| {
                log::restart_at(tx, 10)?;
                for cursor in 11..=20 {
                    log::append(tx, cursor, &Event::NotificationsRead { ids: vec![cursor] })?;
                }
                log::trim(tx, 5)
            })
            .unwrap();
        let page = cache.read(|conn| log::after(conn, 12, 100)).unwrap();
        assert!(page.missed);
        assert_eq!(page.from, 15);
        let cursors: Vec<i64> = page.events.iter().map(|e| e.cursor).collect();
        assert_eq!(cursors, vec![16, 17, 18, 19, 20]);
        let page = cache.read(|conn| log::after(conn, 18, 100)).unwrap();
        assert!(!page.missed);
        assert_eq!(page.events.len(), 2);
    }

    #[test]
    fn a_cache_from_the_first_schema_version_is_migrated_in_place() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        {
            let conn = Connection::open(&path).unwrap();
            schema::migrate_to(&conn, 1).unwrap();
            assert_eq!(schema::version(&conn).unwrap(), 1);
            conn.execute_batch(
                "INSERT INTO meta (key, value) VALUES ('cursor', '42'), ('server', 'http://h');
                 INSERT INTO notifications
                   (id, kind, category, title, content, link, priority, desktop, sender,
                    created_at, server_read, read, hidden)
                 VALUES (7, 'personal', NULL, 'Nightly build failed', 'see the log', NULL, 4, 0,
                         'ci', strftime('%s', 'now') * 1000, 0, 1, 0);
                 INSERT INTO outbox (action, created_at)
                 VALUES ('{\"type\":\"mark_read\",\"ids\":[7]}', 0);",
            )
            .unwrap();
        }
        let cache = Cache::open(&path).unwrap();
        assert_eq!(cache.schema_version().unwrap(), schema::SCHEMA_VERSION);
        assert_eq!(cache.read(meta::cursor).unwrap(), Some(42));
        assert_eq!(shown(&cache), vec![(7, true)]);
        assert_eq!(
            cache.read(outbox::actions).unwrap(),
            vec![Action::MarkRead { ids: vec![7] }]
        );
        let hits = cache
            .read(|conn| search::notifications(conn, "nightly", 10))
            .unwrap();
        assert_eq!(hits.len(), 1);
        // The chat tables of version 2 are there and searchable.
        cache
            .read(|conn| {
                conn.execute_batch(
                    "SELECT count(*) FROM conversations;
                     SELECT count(*) FROM messages_fts WHERE messages_fts MATCH 'x';",
                )?;
                Ok(())
            })
            .unwrap();
        // A second open finds nothing to do.
        drop(cache);
        assert_eq!(
            Cache::open(&path).unwrap().schema_version().unwrap(),
            schema::SCHEMA_VERSION
        );
    }

    #[test]
    fn a_cache_from_a_newer_client_is_refused_not_damaged() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("cache.db");
        Connection::open(&path)
            .unwrap()
            .execute_batch("PRAGMA user_version = 999")
            .unwrap();
        let err = Cache::open(&path).unwrap_err();
        assert!(matches!(err, Error::CacheCorrupt(_)), "{err}");
    }
}
