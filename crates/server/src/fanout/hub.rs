//! The connection hub: a map from user to that user's live connections.

use parking_lot::RwLock;
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::extract::ws::Utf8Bytes;
use herald_protocol::{Cursor, Event, NotificationKind, ServerFrame, UserId};
use herald_store::StoredEvent;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::Transition;
use crate::metrics::Metrics;
use crate::service::principals::PrincipalCache;

/// Tokens whose principals are kept in memory: room for every connection of a
/// large deployment plus its send-only tokens, at a few hundred bytes each.
const CACHED_PRINCIPALS: usize = 65_536;

/// What the hub queues for a connection: built once per event and shared by
/// every connection it goes to, so a delivery is a reference count and a queue
/// slot stays one pointer wide.
#[derive(Debug)]
pub enum Outbound {
    Event {
        seq: Cursor,
        counts: CountsChange,
        frame: Utf8Bytes,
    },
    /// A frame outside the stream (desktop popups, presence).
    Push(Utf8Bytes),
}

/// How an event moves the unread counts of the user it is delivered to. Worked
/// out once per event, so a session keeps its counts exact without asking the
/// store for every event it forwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CountsChange {
    /// A new personal notification: unread for its recipient.
    NewPersonal,
    /// A new broadcast: unread for everyone.
    NewBroadcast,
    /// A new chat message: unread for every member but its sender.
    NewMessage { sender: Option<String> },
    /// It depends on the state before the change (a read, an unread, a
    /// delete…), which only the store knows.
    Unknown,
}

impl CountsChange {
    fn of(event: &Event) -> Self {
        match event {
            Event::NotificationCreated { notification } => match notification.kind {
                NotificationKind::Personal => Self::NewPersonal,
                NotificationKind::Broadcast => Self::NewBroadcast,
            },
            Event::MessageCreated { message } => Self::NewMessage {
                sender: message.sender.clone(),
            },
            _ => Self::Unknown,
        }
    }
}

struct Connection {
    id: u64,
    /// The session token the connection authenticated with, so ending that one
    /// session (logout, a revoked device) closes just its connections.
    token_id: i64,
    queue: mpsc::Sender<Arc<Outbound>>,
    /// Cancelled when the queue overflows: the session closes and the client
    /// resumes from its cursor, instead of the hub waiting on a slow socket.
    kicked: CancellationToken,
    /// Cancelled when the session behind the connection ends (logout, revoked
    /// token, disabled or deleted user): it must stop receiving at once.
    revoked: CancellationToken,
}

pub struct Hub {
    connections: RwLock<HashMap<UserId, Vec<Connection>>>,
    next_id: AtomicU64,
    head: watch::Sender<Cursor>,
    queue_size: usize,
    metrics: Arc<Metrics>,
    /// Where a user's first connection and last disconnection are reported, for
    /// presence. Sent while the map is locked, so transitions arrive in order.
    transitions: Option<mpsc::UnboundedSender<Transition>>,
    /// Authenticated tokens. Here, so that every revocation, local or announced by
    /// another node, reaches it through [`Hub::revoke`].
    principals: PrincipalCache,
    /// Connections one user may hold on this node (`ws_per_user`).
    per_user: usize,
}

/// A registered connection; dropping it removes the connection from the hub.
pub struct Subscription {
    hub: Arc<Hub>,
    user_id: UserId,
    id: u64,
    pub queue: mpsc::Receiver<Arc<Outbound>>,
    pub kicked: CancellationToken,
    pub revoked: CancellationToken,
}

impl Drop for Subscription {
    fn drop(&mut self) {
        self.hub.remove(self.user_id, self.id);
    }
}

impl Hub {
    pub fn new(head: Cursor, queue_size: usize, metrics: Arc<Metrics>) -> Self {
        Self {
            connections: RwLock::default(),
            next_id: AtomicU64::new(1),
            head: watch::Sender::new(head),
            queue_size,
            metrics,
            transitions: None,
            principals: PrincipalCache::new(CACHED_PRINCIPALS),
            per_user: usize::MAX,
        }
    }

    /// Refuses a user's connections beyond `cap` (see [`Hub::register`]).
    pub fn with_connections_per_user(mut self, cap: usize) -> Self {
        self.per_user = cap;
        self
    }

    /// Whether the user holds as many connections as they may.
    pub fn is_full_for(&self, user_id: UserId) -> bool {
        self.connections_of(user_id) >= self.per_user
    }

    pub fn principals(&self) -> &PrincipalCache {
        &self.principals
    }

    /// Reports presence transitions to `transitions`.
    pub fn with_presence(mut self, transitions: mpsc::UnboundedSender<Transition>) -> Self {
        self.transitions = Some(transitions);
        self
    }

    fn transition(&self, user: UserId, online: bool) {
        if let Some(transitions) = &self.transitions {
            // Gone only during shutdown, when nobody listens for presence.
            let _ = transitions.send(Transition { user, online });
        }
    }

    /// Registers a connection. Events committed from now on are queued for it, so a
    /// replay from the store that starts after this call leaves no gap. `None`
    /// when the user already holds as many connections as they may.
    pub fn register(self: &Arc<Self>, user_id: UserId, token_id: i64) -> Option<Subscription> {
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let (queue, rx) = mpsc::channel(self.queue_size);
        let kicked = CancellationToken::new();
        let revoked = CancellationToken::new();
        let connection = Connection {
            id,
            token_id,
            queue,
            kicked: kicked.clone(),
            revoked: revoked.clone(),
        };
        let mut map = self.write();
        let list = map.entry(user_id).or_default();
        if list.len() >= self.per_user {
            return None;
        }
        list.push(connection);
        if list.len() == 1 {
            self.transition(user_id, true);
        }
        drop(map);
        self.metrics.connections.inc();
        Some(Subscription {
            hub: self.clone(),
            user_id,
            id,
            queue: rx,
            kicked,
            revoked,
        })
    }

    /// Closes the user's connections made with `token_id`, or all of them when
    /// `None`, and forgets the user's cached tokens. Call it after the change
    /// that ended the session is committed. The cache is forgotten first: a
    /// connection that registers after the scan below then sees a new epoch.
    pub fn revoke(&self, user_id: UserId, token_id: Option<i64>) {
        self.principals.forget(user_id);
        if let Some(list) = self.read().get(&user_id) {
            list.iter()
                .filter(|c| token_id.is_none_or(|t| c.token_id == t))
                .for_each(|c| c.revoked.cancel());
        }
    }

    fn remove(&self, user_id: UserId, id: u64) {
        let mut map = self.write();
        if let Some(list) = map.get_mut(&user_id) {
            list.retain(|c| c.id != id);
            if list.is_empty() {
                map.remove(&user_id);
                self.transition(user_id, false);
            }
        }
        self.metrics.connections.dec();
    }

    /// Every connected user with the tokens their connections were made with.
    pub fn sessions(&self) -> Vec<(UserId, Vec<i64>)> {
        self.read()
            .iter()
            .map(|(&user, list)| (user, list.iter().map(|c| c.token_id).collect()))
            .collect()
    }

    pub fn metrics(&self) -> &Metrics {
        &self.metrics
    }

    /// Number of live connections of a user.
    pub fn connections_of(&self, user_id: UserId) -> usize {
        self.read().get(&user_id).map_or(0, Vec::len)
    }

    /// Number of users with at least one live connection.
    pub fn connected_users(&self) -> usize {
        self.read().len()
    }

    /// The newest published cursor; long-polls wait on it.
    pub fn watch_head(&self) -> watch::Receiver<Cursor> {
        self.head.subscribe()
    }

    /// Offers committed events to the connections they concern, in order.
    pub fn publish(&self, events: &[StoredEvent]) {
        let Some(last) = events.last() else { return };
        for stored in events {
            self.deliver(
                stored.user_id,
                Outbound::Event {
                    seq: stored.seq,
                    counts: CountsChange::of(&stored.event),
                    frame: event_frame(stored),
                },
            );
            if let Event::NotificationCreated { notification } = &stored.event {
                if notification.desktop {
                    let frame = ServerFrame::Desktop {
                        title: notification.title.clone(),
                        content: notification.content.clone(),
                        link: notification.link.clone(),
                        priority: notification.priority,
                        id: Some(notification.id),
                    };
                    self.deliver(stored.user_id, Outbound::Push(frame.to_json().into()));
                }
            }
        }
        self.metrics.events.inc_by(events.len() as u64);
        self.head.send_replace(last.seq);
    }

    /// Pushes a frame that is not part of the stream to some users (or everyone)
    /// on this node.
    pub fn push(&self, users: Option<&[UserId]>, frame: &ServerFrame) {
        self.push_json(users, frame.to_json());
    }

    /// [`Hub::push`] for a frame already serialized (by the node that sent it).
    pub fn push_json(&self, users: Option<&[UserId]>, frame: String) {
        let item = Outbound::Push(frame.into());
        match users {
            None => self.deliver(None, item),
            Some(users) => self.deliver_to(users.iter().copied().map(Some), &Arc::new(item)),
        }
    }

    fn deliver(&self, user: Option<UserId>, item: Outbound) {
        self.deliver_to(std::iter::once(user), &Arc::new(item));
    }

    /// Offers `item` to the connections of each user (`None`: everyone's) under
    /// one read lock, counting deliveries once at the end: a shared counter
    /// touched per delivery would bounce its cache line between the cores.
    fn deliver_to(&self, users: impl Iterator<Item = Option<UserId>>, item: &Arc<Outbound>) {
        let mut delivered = 0;
        let mut offer = |connection: &Connection| match connection.queue.try_send(item.clone()) {
            Ok(()) => delivered += 1,
            Err(mpsc::error::TrySendError::Full(_)) => {
                if !connection.kicked.is_cancelled() {
                    self.metrics.slow_consumers.inc();
                    connection.kicked.cancel();
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        };
        let map = self.read();
        for user in users {
            match user {
                Some(user) => map.get(&user).into_iter().flatten().for_each(&mut offer),
                None => map.values().flatten().for_each(&mut offer),
            }
        }
        drop(map);
        self.metrics.deliveries.inc_by(delivered);
    }

    fn read(&self) -> parking_lot::RwLockReadGuard<'_, HashMap<UserId, Vec<Connection>>> {
        self.connections.read()
    }

    fn write(&self) -> parking_lot::RwLockWriteGuard<'_, HashMap<UserId, Vec<Connection>>> {
        self.connections.write()
    }
}

/// The `event` frame, built around the event's own JSON so it is serialized once
/// for every receiver.
fn event_frame(stored: &StoredEvent) -> Utf8Bytes {
    let event = serde_json::to_string(&stored.event).expect("events always serialize");
    format!(
        r#"{{"type":"event","cursor":{},"event":{}}}"#,
        stored.seq, event
    )
    .into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use herald_protocol::KindFilter;
    use time::OffsetDateTime;

    fn stored(seq: Cursor, user_id: Option<UserId>) -> StoredEvent {
        StoredEvent {
            seq,
            user_id,
            at: OffsetDateTime::now_utc(),
            event: Event::AllRead {
                kind: KindFilter::All,
                up_to: 7,
            },
        }
    }

    #[test]
    fn event_frame_parses_as_the_protocol_frame() {
        let frame = event_frame(&stored(42, Some(1)));
        let parsed: ServerFrame = serde_json::from_str(frame.as_str()).unwrap();
        assert_eq!(
            parsed,
            ServerFrame::Event {
                cursor: 42,
                event: Event::AllRead {
                    kind: KindFilter::All,
                    up_to: 7
                }
            }
        );
    }

    #[tokio::test]
    async fn personal_events_reach_only_their_user_and_broadcasts_reach_all() {
        let hub = Arc::new(Hub::new(0, 8, Arc::default()));
        let mut alice = hub.register(1, 10).expect("registered");
        let mut bob = hub.register(2, 20).expect("registered");
        hub.publish(&[stored(1, Some(1)), stored(2, None)]);
        let seqs = |sub: &mut Subscription| {
            let mut seqs = Vec::new();
            while let Ok(item) = sub.queue.try_recv() {
                if let Outbound::Event { seq, .. } = *item {
                    seqs.push(seq);
                }
            }
            seqs
        };
        assert_eq!(seqs(&mut alice), vec![1, 2]);
        assert_eq!(seqs(&mut bob), vec![2]);
        assert_eq!(*hub.watch_head().borrow(), 2);
    }

    #[tokio::test]
    async fn a_full_queue_kicks_only_the_slow_connection() {
        let hub = Arc::new(Hub::new(0, 2, Arc::default()));
        let slow = hub.register(1, 10).expect("registered");
        let mut fast = hub.register(1, 11).expect("registered");
        for seq in 1..=3 {
            hub.publish(&[stored(seq, Some(1))]);
            while fast.queue.try_recv().is_ok() {}
        }
        assert!(slow.kicked.is_cancelled());
        assert!(!fast.kicked.is_cancelled());
    }

    #[tokio::test]
    async fn a_user_at_the_cap_is_refused_until_a_connection_closes() {
        let hub = Arc::new(Hub::new(0, 2, Arc::default()).with_connections_per_user(2));
        let first = hub.register(1, 10).expect("registered");
        let _second = hub.register(1, 11).expect("registered");
        assert!(hub.is_full_for(1));
        assert!(hub.register(1, 12).is_none());
        assert!(hub.register(2, 20).is_some());
        drop(first);
        assert!(hub.register(1, 12).is_some());
    }

    #[tokio::test]
    async fn dropping_a_subscription_unregisters_it() {
        let hub = Arc::new(Hub::new(0, 2, Arc::default()));
        let sub = hub.register(5, 50).expect("registered");
        assert_eq!(hub.connections_of(5), 1);
        drop(sub);
        assert_eq!(hub.connections_of(5), 0);
    }

    #[tokio::test]
    async fn only_the_first_connection_and_the_last_disconnection_are_transitions() {
        let (tx, mut transitions) = mpsc::unbounded_channel();
        let hub = Arc::new(Hub::new(0, 2, Arc::default()).with_presence(tx));
        let laptop = hub.register(1, 10).expect("registered");
        let desktop = hub.register(1, 11).expect("registered");
        drop(laptop);
        drop(desktop);
        let seen: Vec<Transition> = std::iter::from_fn(|| transitions.try_recv().ok()).collect();
        assert_eq!(
            seen,
            vec![
                Transition {
                    user: 1,
                    online: true
                },
                Transition {
                    user: 1,
                    online: false
                }
            ]
        );
    }

    #[tokio::test]
    async fn revoking_a_token_ends_only_its_connections() {
        let hub = Arc::new(Hub::new(0, 2, Arc::default()));
        let laptop = hub.register(1, 10).expect("registered");
        let desktop = hub.register(1, 11).expect("registered");
        let bob = hub.register(2, 20).expect("registered");
        hub.revoke(1, Some(10));
        assert!(laptop.revoked.is_cancelled());
        assert!(!desktop.revoked.is_cancelled());
        hub.revoke(1, None);
        assert!(desktop.revoked.is_cancelled());
        assert!(!bob.revoked.is_cancelled());
    }
}
