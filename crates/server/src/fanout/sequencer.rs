//! Puts committed events in cursor order before they reach the hub.
//!
//! Events reach a node from two places: its own store's commit feed and, in a
//! cluster, the other nodes through Redis. Neither alone is enough to keep a
//! session's stream exact: two nodes publish in the order their commits happened
//! to finish, not in cursor order, and a Redis message can be lost while Redis
//! restarts. A session that saw cursor 11 before 10 arrived and then reconnected
//! with `since=11` would never get 10.
//!
//! So the hub only ever receives a gap-free continuation of what it already
//! published. A batch that continues it is published as it is (the common case,
//! no read); anything else is filled from the store with
//! [`Store::events_between`], which is exact because backends make cursors visible
//! in commit order. A periodic catch-up catches what a lost message never
//! announced.

use std::sync::Arc;

use herald_protocol::Cursor;
use herald_store::{Store, StoredEvent};

use super::Hub;

/// Events read from the store per query while catching up.
const PAGE: u32 = 1000;

pub struct Sequencer {
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    /// Everything up to here has been handed to the hub.
    published: Cursor,
}

impl Sequencer {
    /// Starts after `head`: events up to it are committed and sessions replay them
    /// from the store.
    pub fn new(store: Arc<dyn Store>, hub: Arc<Hub>, head: Cursor) -> Self {
        Self {
            store,
            hub,
            published: head,
        }
    }

    /// Publishes what of `batch` (one commit, in cursor order) is new, first
    /// reading anything committed before it that has not arrived yet.
    pub async fn offer(&mut self, batch: &[StoredEvent]) -> herald_store::Result<()> {
        let fresh = &batch[batch.partition_point(|e| e.seq <= self.published)..];
        let (Some(first), Some(last)) = (fresh.first(), fresh.last()) else {
            return Ok(());
        };
        if first.seq == self.published + 1 {
            self.publish(fresh);
            Ok(())
        } else {
            // A cursor in between was never seen: either it committed on another
            // node and its message is late or lost, or it was rolled back. The
            // store knows which.
            self.catch_up(Some(last.seq)).await
        }
    }

    /// Publishes everything committed after what was published, up to `through`.
    pub async fn catch_up(&mut self, through: Option<Cursor>) -> herald_store::Result<()> {
        loop {
            let page = self
                .store
                .events_between(self.published, through, PAGE)
                .await?;
            self.publish(&page);
            if page.len() < PAGE as usize {
                return Ok(());
            }
        }
    }

    fn publish(&mut self, events: &[StoredEvent]) {
        if let Some(last) = events.last() {
            self.published = last.seq;
            self.hub.publish(events);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fanout::{Outbound, Subscription};
    use herald_protocol::Role;
    use herald_protocol::{Event, KindFilter};
    use herald_store::sqlite::SqliteStore;
    use herald_store::{Audience, Committed, NewNotification, NewUser};

    struct Node {
        store: Arc<dyn Store>,
        committed: tokio::sync::mpsc::UnboundedReceiver<Committed>,
        _dir: tempfile::TempDir,
    }

    async fn node() -> Node {
        let dir = tempfile::tempdir().unwrap();
        let (feed, committed) = tokio::sync::mpsc::unbounded_channel();
        let store = SqliteStore::open(&dir.path().join("herald.db"), feed).unwrap();
        let store: Arc<dyn Store> = Arc::new(store);
        store
            .create_user(NewUser {
                username: "alice".into(),
                display_name: "Alice".into(),
                password_hash: "x".into(),
                role: Role::User,
            })
            .await
            .unwrap();
        Node {
            store,
            committed,
            _dir: dir,
        }
    }

    /// Commits one broadcast and returns its events as the feed carried them.
    async fn commit(node: &mut Node, title: &str) -> Vec<StoredEvent> {
        node.store
            .insert_notification(NewNotification {
                audience: Audience::Broadcast,
                category: None,
                title: title.into(),
                content: String::new(),
                link: None,
                priority: 3,
                desktop: false,
                sender: None,
            })
            .await
            .unwrap();
        match node.committed.recv().await.unwrap() {
            Committed::Events(events) => events,
            other => panic!("a notification announced {other:?}"),
        }
    }

    fn received(sub: &mut Subscription) -> Vec<Cursor> {
        std::iter::from_fn(|| match sub.queue.try_recv().as_deref() {
            Ok(Outbound::Event { seq, .. }) => Some(Some(*seq)),
            Ok(_) => Some(None),
            Err(_) => None,
        })
        .flatten()
        .collect()
    }

    #[tokio::test]
    async fn batches_arriving_out_of_order_are_published_in_cursor_order_once() {
        let mut node = node().await;
        let hub = Arc::new(Hub::new(0, 64, Arc::default()));
        let mut session = hub.register(1, 1).expect("registered");
        let mut sequencer = Sequencer::new(node.store.clone(), hub.clone(), 0);
        let first = commit(&mut node, "one").await;
        let second = commit(&mut node, "two").await;
        let third = commit(&mut node, "three").await;
        // The second commit's message overtakes the first's: the first is read
        // from the store rather than skipped.
        sequencer.offer(&second).await.unwrap();
        sequencer.offer(&first).await.unwrap();
        sequencer.offer(&third).await.unwrap();
        sequencer.offer(&third).await.unwrap();
        let all: Vec<Cursor> = [first, second, third]
            .iter()
            .flatten()
            .map(|e| e.seq)
            .collect();
        assert_eq!(received(&mut session), all);
    }

    #[tokio::test]
    async fn catch_up_publishes_what_no_message_announced() {
        let mut node = node().await;
        let hub = Arc::new(Hub::new(0, 64, Arc::default()));
        let mut session = hub.register(1, 1).expect("registered");
        let mut sequencer = Sequencer::new(node.store.clone(), hub.clone(), 0);
        let lost = commit(&mut node, "lost on the way").await;
        sequencer.catch_up(None).await.unwrap();
        let seqs: Vec<Cursor> = lost.iter().map(|e| e.seq).collect();
        assert_eq!(received(&mut session), seqs);
        assert_eq!(*hub.watch_head().borrow(), *seqs.last().unwrap());
        // Nothing new: nothing published twice.
        sequencer.catch_up(None).await.unwrap();
        assert!(received(&mut session).is_empty());
    }

    #[tokio::test]
    async fn events_at_or_before_the_start_are_not_published_again() {
        let mut node = node().await;
        let early = commit(&mut node, "before the node started").await;
        let head = early.last().unwrap().seq;
        let hub = Arc::new(Hub::new(head, 64, Arc::default()));
        let mut session = hub.register(1, 1).expect("registered");
        let mut sequencer = Sequencer::new(node.store.clone(), hub, head);
        sequencer.offer(&early).await.unwrap();
        assert!(received(&mut session).is_empty());
        let event = StoredEvent {
            seq: head + 1,
            user_id: Some(1),
            at: time::OffsetDateTime::now_utc(),
            event: Event::AllRead {
                kind: KindFilter::All,
                up_to: 1,
            },
        };
        sequencer.offer(std::slice::from_ref(&event)).await.unwrap();
        assert_eq!(received(&mut session), vec![head + 1]);
    }
}
