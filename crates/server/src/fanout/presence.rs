//! Presence: telling a user's contacts when they come online or go offline.
//!
//! The hub reports a user's first connection and last disconnection on this node
//! as a [`Transition`]. The debounce turns those into the node's view: online at
//! once, offline only after the user stayed away for the debounce, so a reconnect
//! blip (a laptop changing networks, a server-side kick and resume) never flaps.
//!
//! In a cluster a user is online when any node has them, so each node keeps the
//! others' rosters too (sent over the fan-out link, refreshed by heartbeat, and
//! forgotten when a node falls silent). Whenever the cluster-wide answer for a
//! user changes, every node tells its own connected contacts of that user with a
//! `presence` frame; presence frames themselves never cross the link.

use parking_lot::RwLock;
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::Duration;

use herald_protocol::{ServerFrame, UserId};
use herald_store::Store;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::redis::{Link, Message};
use super::Hub;

/// How often a node sends its roster to the others.
const HEARTBEAT: Duration = Duration::from_secs(10);
/// A node not heard from for this long is gone, and its users with it.
const NODE_TIMEOUT: Duration = Duration::from_secs(35);

/// A user's first device connected (`online`) or their last one left.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transition {
    pub user: UserId,
    pub online: bool,
}

/// Who is online as far as their contacts were told, so `GET /contacts` agrees
/// with the `presence` frames.
#[derive(Default)]
pub struct Presence {
    view: RwLock<View>,
}

#[derive(Default)]
struct View {
    /// Online on this node (after the debounce).
    local: HashSet<UserId>,
    /// Online on other nodes, by node.
    remote: HashMap<u64, Roster>,
}

struct Roster {
    users: HashSet<UserId>,
    heard: Instant,
}

impl View {
    fn is_online(&self, user: UserId) -> bool {
        self.local.contains(&user) || self.remote.values().any(|r| r.users.contains(&user))
    }
}

impl Presence {
    pub fn is_online(&self, user: UserId) -> bool {
        self.read().is_online(user)
    }

    /// Users other nodes report online, for counting who a cluster-wide push
    /// reached beyond this node's own connections.
    pub fn online_elsewhere(&self) -> HashSet<UserId> {
        let view = self.read();
        view.remote
            .values()
            .flat_map(|r| r.users.iter().copied())
            .collect()
    }

    /// Applies `change`, which may affect `users`, and returns the transitions
    /// of the cluster-wide view among them.
    fn update(
        &self,
        users: impl IntoIterator<Item = UserId>,
        change: impl FnOnce(&mut View),
    ) -> Vec<Transition> {
        let mut view = self.view.write();
        let users: HashSet<UserId> = users.into_iter().collect();
        let before: Vec<(UserId, bool)> = users.iter().map(|&u| (u, view.is_online(u))).collect();
        change(&mut view);
        before
            .into_iter()
            .filter_map(|(user, was)| {
                let online = view.is_online(user);
                (online != was).then_some(Transition { user, online })
            })
            .collect()
    }

    fn set_local(&self, Transition { user, online }: Transition) -> Vec<Transition> {
        self.update([user], |view| {
            if online {
                view.local.insert(user);
            } else {
                view.local.remove(&user);
            }
        })
    }

    fn set_remote(&self, node: u64, Transition { user, online }: Transition) -> Vec<Transition> {
        self.update([user], |view| {
            let roster = view.remote.entry(node).or_insert_with(Roster::new);
            roster.heard = Instant::now();
            if online {
                roster.users.insert(user);
            } else {
                roster.users.remove(&user);
            }
        })
    }

    fn replace_roster(&self, node: u64, users: Vec<UserId>) -> Vec<Transition> {
        let users: HashSet<UserId> = users.into_iter().collect();
        let old = self
            .read()
            .remote
            .get(&node)
            .map(|r| r.users.clone())
            .unwrap_or_default();
        let affected: Vec<UserId> = old.symmetric_difference(&users).copied().collect();
        self.update(affected, |view| {
            view.remote.insert(
                node,
                Roster {
                    users,
                    heard: Instant::now(),
                },
            );
        })
    }

    /// Drops the rosters of nodes that fell silent (killed, or cut off).
    fn expire(&self, now: Instant) -> Vec<Transition> {
        let view = self.read();
        let silent: Vec<u64> = view
            .remote
            .iter()
            .filter(|(_, r)| now.duration_since(r.heard) > NODE_TIMEOUT)
            .map(|(&node, _)| node)
            .collect();
        let affected: Vec<UserId> = silent
            .iter()
            .flat_map(|node| view.remote[node].users.iter().copied())
            .collect();
        drop(view);
        if silent.is_empty() {
            return Vec::new();
        }
        self.update(affected, |view| {
            for node in &silent {
                tracing::warn!(node, "fan-out: node silent, forgetting its users' presence");
                view.remote.remove(node);
            }
        })
    }

    fn local_users(&self) -> Vec<UserId> {
        self.read().local.iter().copied().collect()
    }

    fn read(&self) -> parking_lot::RwLockReadGuard<'_, View> {
        self.view.read()
    }
}

impl Roster {
    fn new() -> Self {
        Self {
            users: HashSet::new(),
            heard: Instant::now(),
        }
    }
}

/// What reaches presence from the fan-out link.
#[derive(Debug)]
pub enum Heard {
    /// Another node's presence message.
    From(u64, Message),
    /// The link came back after a break: what the others said meanwhile is lost.
    Relinked,
}

/// Everything presence needs to start; [`Setup::spawn`] starts it once the
/// fan-out link (if any) is up.
pub struct Setup {
    pub transitions: mpsc::UnboundedReceiver<Transition>,
    pub debounce: Duration,
    pub presence: Arc<Presence>,
}

impl Setup {
    /// Runs the debounce and the view; the server aborts both when it stops.
    pub fn spawn(
        self,
        store: Arc<dyn Store>,
        hub: Arc<Hub>,
        cluster: Option<(Link, mpsc::UnboundedReceiver<Heard>)>,
    ) -> [JoinHandle<()>; 2] {
        let (decided, decisions) = mpsc::unbounded_channel();
        [
            tokio::spawn(debounce_transitions(
                self.transitions,
                self.debounce,
                decided,
            )),
            tokio::spawn(maintain(decisions, self.presence, store, hub, cluster)),
        ]
    }
}

/// Keeps the view current from this node's decisions and the other nodes'
/// messages, and announces every change of it to this node's connections.
async fn maintain(
    mut decisions: mpsc::UnboundedReceiver<Transition>,
    presence: Arc<Presence>,
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    cluster: Option<(Link, mpsc::UnboundedReceiver<Heard>)>,
) {
    let (link, mut heard) = match cluster {
        Some((link, heard)) => (Some(link), Some(heard)),
        None => (None, None),
    };
    let roster = |link: &Link| {
        link.send(Message::Roster {
            users: presence.local_users(),
        })
    };
    let introduce = |link: &Link| {
        link.send(Message::Hello);
        roster(link);
    };
    if let Some(link) = &link {
        introduce(link);
    }
    let mut heartbeat = tokio::time::interval(HEARTBEAT);
    loop {
        let changes = tokio::select! {
            decision = decisions.recv() => {
                let Some(decision) = decision else { break };
                if let Some(link) = &link {
                    link.send(Message::Presence { user: decision.user, online: decision.online });
                }
                presence.set_local(decision)
            }
            Some(heard) = async { heard.as_mut()?.recv().await }, if heard.is_some() => {
                match (heard, &link) {
                    (Heard::From(node, Message::Presence { user, online }), _) => {
                        presence.set_remote(node, Transition { user, online })
                    }
                    (Heard::From(node, Message::Roster { users }), _) => {
                        presence.replace_roster(node, users)
                    }
                    (Heard::From(_, Message::Hello), Some(link)) => {
                        roster(link);
                        Vec::new()
                    }
                    (Heard::Relinked, Some(link)) => {
                        introduce(link);
                        Vec::new()
                    }
                    _ => Vec::new(),
                }
            }
            _ = heartbeat.tick(), if link.is_some() => {
                if let Some(link) = &link {
                    roster(link);
                }
                presence.expire(Instant::now())
            }
        };
        for Transition { user, online } in changes {
            announce(store.as_ref(), &hub, user, online).await;
        }
    }
}

/// Pushes `presence{user, online}` to this node's connections of everyone who has
/// `user` as a contact.
async fn announce(store: &dyn Store, hub: &Hub, user: UserId, online: bool) {
    let found = async {
        let account = store.user_by_id(user).await?;
        let owners = store.contact_owners(user).await?;
        Ok::<_, herald_store::Error>(account.map(|account| (account.username, owners)))
    };
    match found.await {
        Ok(Some((username, owners))) => {
            let frame = ServerFrame::Presence {
                user: username,
                online,
            };
            hub.push(Some(&owners), &frame);
        }
        // Deleted meanwhile: there is nobody to announce.
        Ok(None) => {}
        Err(e) => tracing::warn!(error = %e, user, "cannot announce presence"),
    }
}

/// The debounce itself: this node's raw transitions in, its decided ones out.
async fn debounce_transitions(
    mut transitions: mpsc::UnboundedReceiver<Transition>,
    debounce: Duration,
    decided: mpsc::UnboundedSender<Transition>,
) {
    // Users whose last device left, and when they count as offline.
    let mut leaving: HashMap<UserId, Instant> = HashMap::new();
    // Users this node has decided are online.
    let mut online_here: HashSet<UserId> = HashSet::new();
    let decide = |user, online| {
        // Gone only while the server stops.
        let _ = decided.send(Transition { user, online });
    };
    loop {
        let next = leaving.values().min().copied();
        // Disabled when nobody is leaving; the deadline is then never reached.
        let deadline = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            transition = transitions.recv() => {
                let Some(Transition { user, online }) = transition else { break };
                if !online {
                    leaving.insert(user, Instant::now() + debounce);
                } else if leaving.remove(&user).is_none() && online_here.insert(user) {
                    // Back within the debounce needs nothing: nobody heard it left.
                    decide(user, true);
                }
            }
            _ = tokio::time::sleep_until(deadline), if next.is_some() => {
                let now = Instant::now();
                let gone: Vec<UserId> = leaving
                    .iter()
                    .filter(|(_, at)| **at <= now)
                    .map(|(user, _)| *user)
                    .collect();
                for user in gone {
                    leaving.remove(&user);
                    if online_here.remove(&user) {
                        decide(user, false);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The debounce on paused time, its decisions applied to a view and the
    /// view's changes collected.
    struct Harness {
        transitions: mpsc::UnboundedSender<Transition>,
        announced: mpsc::UnboundedReceiver<(UserId, bool)>,
        presence: Arc<Presence>,
    }

    fn harness(debounce: Duration) -> Harness {
        let (transitions, rx) = mpsc::unbounded_channel();
        let (decided, mut decisions) = mpsc::unbounded_channel();
        let (out, announced) = mpsc::unbounded_channel();
        let presence = Arc::new(Presence::default());
        tokio::spawn(debounce_transitions(rx, debounce, decided));
        let view = presence.clone();
        tokio::spawn(async move {
            while let Some(decision) = decisions.recv().await {
                for t in view.set_local(decision) {
                    let _ = out.send((t.user, t.online));
                }
            }
        });
        Harness {
            transitions,
            announced,
            presence,
        }
    }

    impl Harness {
        async fn send(&self, user: UserId, online: bool) {
            self.transitions.send(Transition { user, online }).unwrap();
            // Lets the task take the transition before time moves on.
            tokio::time::sleep(Duration::from_millis(1)).await;
        }

        fn heard(&mut self) -> Vec<(UserId, bool)> {
            std::iter::from_fn(|| self.announced.try_recv().ok()).collect()
        }
    }

    #[tokio::test(start_paused = true)]
    async fn online_is_announced_at_once_and_offline_after_the_debounce() {
        let mut h = harness(Duration::from_secs(3));
        h.send(7, true).await;
        assert_eq!(h.heard(), vec![(7, true)]);
        assert!(h.presence.is_online(7));

        h.send(7, false).await;
        tokio::time::sleep(Duration::from_millis(2900)).await;
        assert_eq!(h.heard(), vec![]);
        assert!(h.presence.is_online(7), "still online within the debounce");

        tokio::time::sleep(Duration::from_millis(200)).await;
        assert_eq!(h.heard(), vec![(7, false)]);
        assert!(!h.presence.is_online(7));
    }

    #[tokio::test(start_paused = true)]
    async fn a_reconnect_within_the_debounce_is_never_announced() {
        let mut h = harness(Duration::from_secs(3));
        h.send(7, true).await;
        h.heard();

        h.send(7, false).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        h.send(7, true).await;
        tokio::time::sleep(Duration::from_secs(60)).await;

        assert_eq!(h.heard(), vec![]);
        assert!(h.presence.is_online(7));
    }

    #[tokio::test(start_paused = true)]
    async fn users_leave_on_their_own_clocks() {
        let mut h = harness(Duration::from_secs(3));
        h.send(1, true).await;
        h.send(2, true).await;
        h.heard();

        h.send(1, false).await;
        tokio::time::sleep(Duration::from_secs(2)).await;
        h.send(2, false).await;
        tokio::time::sleep(Duration::from_millis(1500)).await;
        assert_eq!(h.heard(), vec![(1, false)]);
        tokio::time::sleep(Duration::from_secs(2)).await;
        assert_eq!(h.heard(), vec![(2, false)]);
    }

    fn t(user: UserId, online: bool) -> Transition {
        Transition { user, online }
    }

    #[tokio::test(start_paused = true)]
    async fn a_user_is_online_while_any_node_has_them() {
        let presence = Presence::default();
        assert_eq!(presence.set_local(t(1, true)), vec![t(1, true)]);
        // Online on another node too: nothing changes for their contacts.
        assert_eq!(presence.set_remote(9, t(1, true)), vec![]);
        assert_eq!(presence.set_local(t(1, false)), vec![]);
        assert!(presence.is_online(1));
        assert_eq!(presence.set_remote(9, t(1, false)), vec![t(1, false)]);
        assert!(!presence.is_online(1));
    }

    #[tokio::test(start_paused = true)]
    async fn a_roster_replaces_what_was_known_of_its_node() {
        let presence = Presence::default();
        presence.replace_roster(9, vec![1, 2]);
        let mut changes = presence.replace_roster(9, vec![2, 3]);
        changes.sort_by_key(|t| t.user);
        assert_eq!(changes, vec![t(1, false), t(3, true)]);
    }

    #[tokio::test(start_paused = true)]
    async fn a_silent_node_is_forgotten_with_its_users() {
        let presence = Presence::default();
        presence.replace_roster(9, vec![1]);
        presence.set_local(t(2, true));
        presence.set_remote(8, t(2, true));
        tokio::time::advance(NODE_TIMEOUT / 2).await;
        presence.replace_roster(8, vec![2]);
        assert_eq!(presence.expire(Instant::now()), vec![]);
        tokio::time::advance(NODE_TIMEOUT).await;
        let mut changes = presence.expire(Instant::now());
        changes.sort_by_key(|t| t.user);
        // User 2 is still here, on this node.
        assert_eq!(changes, vec![t(1, false)]);
        assert!(presence.is_online(2));
    }
}
