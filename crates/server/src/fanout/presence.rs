//! Presence: telling a user's contacts when they come online or go offline.
//!
//! The hub reports a user's first connection and last disconnection as a
//! [`Transition`]. One task turns those into announcements: online at once,
//! offline only after the user stayed away for the debounce, so a reconnect
//! blip (a laptop changing networks, a server-side kick and resume) never
//! flaps. Announcements go as `presence` frames to every user who has them as a
//! contact. Presence is per node: a cluster would share it through the fan-out.

use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::{Arc, RwLock};
use std::time::Duration;

use herald_protocol::{ServerFrame, UserId};
use herald_store::Store;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;

use super::Hub;

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
    online: RwLock<HashSet<UserId>>,
}

impl Presence {
    pub fn is_online(&self, user: UserId) -> bool {
        self.online
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .contains(&user)
    }

    /// Records the state; `true` when it changed (and so must be announced).
    fn set(&self, user: UserId, online: bool) -> bool {
        let mut set = self.online.write().unwrap_or_else(|p| p.into_inner());
        if online {
            set.insert(user)
        } else {
            set.remove(&user)
        }
    }
}

/// Announces presence changes; the server aborts the task when it stops.
pub fn spawn(
    transitions: mpsc::UnboundedReceiver<Transition>,
    debounce: Duration,
    presence: Arc<Presence>,
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
) -> JoinHandle<()> {
    let announce = move |user, online| {
        let store = store.clone();
        let hub = hub.clone();
        async move { announce(store.as_ref(), &hub, user, online).await }
    };
    tokio::spawn(debounce_transitions(
        transitions,
        debounce,
        presence,
        announce,
    ))
}

/// Pushes `presence{user, online}` to everyone who has `user` as a contact.
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

/// The debounce itself, apart from what an announcement does, so it can be
/// tested on paused time.
async fn debounce_transitions<F, Fut>(
    mut transitions: mpsc::UnboundedReceiver<Transition>,
    debounce: Duration,
    presence: Arc<Presence>,
    mut announce: F,
) where
    F: FnMut(UserId, bool) -> Fut,
    Fut: Future<Output = ()>,
{
    // Users whose last device left, and when they count as offline.
    let mut leaving: HashMap<UserId, Instant> = HashMap::new();
    loop {
        let next = leaving.values().min().copied();
        // Disabled when nobody is leaving; the deadline is then never reached.
        let deadline = next.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            transition = transitions.recv() => {
                let Some(Transition { user, online }) = transition else { break };
                if !online {
                    leaving.insert(user, Instant::now() + debounce);
                } else if leaving.remove(&user).is_none() && presence.set(user, true) {
                    // Back within the debounce needs nothing: nobody heard it left.
                    announce(user, true).await;
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
                    if presence.set(user, false) {
                        announce(user, false).await;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The debounce task on paused time, with announcements collected.
    struct Harness {
        transitions: mpsc::UnboundedSender<Transition>,
        announced: mpsc::UnboundedReceiver<(UserId, bool)>,
        presence: Arc<Presence>,
    }

    fn harness(debounce: Duration) -> Harness {
        let (transitions, rx) = mpsc::unbounded_channel();
        let (out, announced) = mpsc::unbounded_channel();
        let presence = Arc::new(Presence::default());
        let announce = move |user, online| {
            let out = out.clone();
            async move {
                let _ = out.send((user, online));
            }
        };
        tokio::spawn(debounce_transitions(
            rx,
            debounce,
            presence.clone(),
            announce,
        ));
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
}
