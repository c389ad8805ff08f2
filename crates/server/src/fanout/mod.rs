//! Who gets each committed event, on this node and (in a cluster) on the others.
//!
//! The store hands every committed batch to one task, which relays it to the
//! other nodes and passes it, with what they relay, through the [`Sequencer`] to
//! the [`Hub`]: the hub serializes each event once per node and offers the bytes
//! to the live connections it concerns. Alone, a node needs no link; with
//! `fanout_url` the nodes share one Redis pub/sub channel ([`redis::Link`]).

mod hub;
pub mod presence;
mod redis;
mod sequencer;

pub use hub::{CountsChange, Hub, Outbound, Subscription};
pub use presence::{Presence, Transition};

use presence::Heard;
pub use sequencer::Sequencer;

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use herald_protocol::{ServerFrame, UserId};
use herald_store::{AccessChange, Committed, Store, StoredEvent};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use self::redis::{Inbound, Link, Message};
use crate::Result;

/// How often a clustered node reads the store for events no message announced
/// (one lost while Redis restarted, say); the bound on how late such an event is.
const CATCH_UP_EVERY: Duration = Duration::from_secs(1);

/// What the rest of the server tells connections outside the event stream; in a
/// cluster it reaches the other nodes' connections too.
pub struct Fanout {
    hub: Arc<Hub>,
    link: Option<Link>,
}

impl Fanout {
    /// Pushes a frame that is not part of the stream to some users (or everyone).
    pub fn push(&self, users: Option<&[UserId]>, frame: &ServerFrame) {
        self.hub.push(users, frame);
        if let Some(link) = &self.link {
            link.send(Message::Push {
                users: users.map(<[UserId]>::to_vec),
                frame: frame.to_json(),
            });
        }
    }
}

/// The running fan-out: its handle for the rest of the server and its tasks.
pub struct Started {
    pub fanout: Arc<Fanout>,
    pub tasks: Vec<JoinHandle<()>>,
}

/// Starts the fan-out from `head` (the store's newest cursor): alone, or linked to
/// the other nodes through `cluster`, a Redis URL and channel.
pub async fn start(
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    head: herald_protocol::Cursor,
    commits: mpsc::UnboundedReceiver<Committed>,
    presence: presence::Setup,
    cluster: Option<(&str, &str)>,
) -> Result<Started> {
    let sequencer = Sequencer::new(store.clone(), hub.clone(), head);
    let Some((url, channel)) = cluster else {
        let mut tasks = vec![tokio::spawn(relay_events(
            commits,
            None,
            None,
            sequencer,
            hub.clone(),
        ))];
        tasks.extend(presence.spawn(store, hub.clone(), None));
        return Ok(Started {
            fanout: Arc::new(Fanout { hub, link: None }),
            tasks,
        });
    };
    let (inbound_tx, inbound) = mpsc::channel(1024);
    let (link, mut tasks) = Link::open(url, channel, inbound_tx).await?;
    let (remote_presence_tx, remote_presence) = mpsc::unbounded_channel();
    let (remote_events_tx, remote_events) = mpsc::unbounded_channel();
    tasks.push(tokio::spawn(dispatch(
        inbound,
        store.clone(),
        hub.clone(),
        remote_events_tx,
        remote_presence_tx,
    )));
    tasks.push(tokio::spawn(relay_events(
        commits,
        Some(link.clone()),
        Some(remote_events),
        sequencer,
        hub.clone(),
    )));
    tasks.extend(presence.spawn(store, hub.clone(), Some((link.clone(), remote_presence))));
    Ok(Started {
        fanout: Arc::new(Fanout {
            hub,
            link: Some(link),
        }),
        tasks,
    })
}

/// What the events task hears from the link.
enum Remote {
    Events(Vec<StoredEvent>),
    /// Events may have been missed: read the store.
    CatchUp,
}

/// Sends this node's commits to the other nodes, and everything (this node's and
/// theirs) through the sequencer to the hub; applies this node's access changes
/// to the hub and announces them to the others.
async fn relay_events(
    mut commits: mpsc::UnboundedReceiver<Committed>,
    link: Option<Link>,
    mut remote: Option<mpsc::UnboundedReceiver<Remote>>,
    mut sequencer: Sequencer,
    hub: Arc<Hub>,
) {
    let mut catch_up = tokio::time::interval(CATCH_UP_EVERY);
    loop {
        let result = tokio::select! {
            committed = commits.recv() => match committed {
                Some(Committed::Events(batch)) => {
                    if let Some(link) = &link {
                        link.send(Message::events(&batch));
                    }
                    sequencer.offer(&batch).await
                }
                Some(Committed::Access { change, number }) => {
                    let message = apply_access_change(&hub, change);
                    hub.principals().caught_up(number);
                    if let Some(link) = &link {
                        link.send(message);
                    }
                    Ok(())
                }
                // The store is gone: the server is stopping.
                None => return,
            },
            Some(remote) = async { remote.as_mut()?.recv().await }, if remote.is_some() => {
                match remote {
                    Remote::Events(batch) => sequencer.offer(&batch).await,
                    Remote::CatchUp => sequencer.catch_up(None).await,
                }
            }
            _ = catch_up.tick(), if link.is_some() => sequencer.catch_up(None).await,
        };
        if let Err(e) = result {
            // Nothing is lost: the sequencer has not moved past what it could
            // not read, so the next batch or catch-up reads it again.
            tracing::warn!(error = %e, "fan-out cannot read events from the store");
        }
    }
}

/// Makes a committed change to a user's access take effect on this node's
/// connections and principal cache; returns the message that tells the others.
fn apply_access_change(hub: &Hub, change: AccessChange) -> Message {
    match change {
        AccessChange::SessionsEnded { user, token } => {
            hub.revoke(user, token);
            Message::Revoke { user, token }
        }
        AccessChange::Changed { user } => {
            hub.principals().forget(user);
            Message::Forget { user }
        }
    }
}

/// Routes what other nodes say to where it takes effect on this one.
async fn dispatch(
    mut inbound: mpsc::Receiver<Inbound>,
    store: Arc<dyn Store>,
    hub: Arc<Hub>,
    events: mpsc::UnboundedSender<Remote>,
    presence: mpsc::UnboundedSender<Heard>,
) {
    while let Some(inbound) = inbound.recv().await {
        // A send fails only while the server stops.
        match inbound {
            Inbound::Relinked => {
                hub.metrics().fanout_relinks.inc();
                let _ = events.send(Remote::CatchUp);
                let _ = presence.send(Heard::Relinked);
                tokio::spawn(recheck_sessions(store.clone(), hub.clone()));
            }
            Inbound::Message { node, message } => match message {
                Message::Events { events: batch } => {
                    let batch = batch.into_iter().map(StoredEvent::from).collect();
                    let _ = events.send(Remote::Events(batch));
                }
                Message::Push { users, frame } => hub.push_json(users.as_deref(), frame),
                Message::Revoke { user, token } => {
                    apply_access_change(&hub, AccessChange::SessionsEnded { user, token });
                }
                Message::Forget { user } => {
                    apply_access_change(&hub, AccessChange::Changed { user });
                }
                message @ (Message::Presence { .. } | Message::Roster { .. } | Message::Hello) => {
                    let _ = presence.send(Heard::From(node, message));
                }
            },
        }
    }
}

/// Ends connections whose session ended while this node could not hear about it
/// (a revocation published while its Redis link was down).
async fn recheck_sessions(store: Arc<dyn Store>, hub: Arc<Hub>) {
    hub.principals().forget_all();
    for (user, tokens) in hub.sessions() {
        let valid = async {
            let active = store.user_by_id(user).await?.is_some_and(|u| !u.disabled);
            let tokens: HashSet<i64> = if active {
                store
                    .list_tokens(user)
                    .await?
                    .iter()
                    .map(|t| t.id)
                    .collect()
            } else {
                HashSet::new()
            };
            Ok::<_, herald_store::Error>(tokens)
        };
        match valid.await {
            Ok(valid) => tokens
                .into_iter()
                .filter(|t| !valid.contains(t))
                .for_each(|t| hub.revoke(user, Some(t))),
            Err(e) => tracing::warn!(error = %e, user, "cannot re-check sessions"),
        }
    }
}
