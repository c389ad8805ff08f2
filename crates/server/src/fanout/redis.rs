//! The link between server nodes: one Redis pub/sub channel (`fanout_channel`).
//!
//! Each node publishes what its own users' changes mean for everyone else's
//! connections (committed events, stream-less pushes, ended sessions, presence)
//! and applies what the others publish. Pub/sub delivers at most once, so nothing
//! here is trusted for exactness: the [`Sequencer`](super::Sequencer) fills event
//! gaps from the store, and after the link drops a node re-checks what it may
//! have missed (see [`Inbound::Relinked`]).

use std::time::Duration;

use futures_util::StreamExt;
use herald_protocol::{Cursor, Event, UserId};
use herald_store::StoredEvent;
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use crate::{Error, Result};

/// How often an idle subscription is pinged, so a dead link is noticed.
const PING_EVERY: Duration = Duration::from_secs(5);
/// Reconnect delays grow to this.
const MAX_BACKOFF: Duration = Duration::from_secs(5);
/// Messages waiting to be published while Redis is unreachable.
const OUTBOX: usize = 16_384;

/// What one node tells the others.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Message {
    /// One commit's events, in cursor order.
    Events { events: Vec<WireEvent> },
    /// A frame outside the stream, for some users or (`None`) everyone.
    Push {
        users: Option<Vec<UserId>>,
        frame: String,
    },
    /// Close the user's connections made with `token`, or all of them.
    Revoke { user: UserId, token: Option<i64> },
    /// The user changed (role, name): cached copies of them are stale.
    Forget { user: UserId },
    /// The sending node's connections of `user` began or ended (after debounce).
    Presence { user: UserId, online: bool },
    /// The sending node's full set of online users: the answer to a node that
    /// (re)joined, and a heartbeat that lets others forget a node that died.
    Roster { users: Vec<UserId> },
    /// A node (re)joined and knows nothing of the others' presence.
    Hello,
}

/// A [`StoredEvent`] as it crosses the link.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    seq: Cursor,
    user_id: Option<UserId>,
    #[serde(with = "time::serde::rfc3339")]
    at: OffsetDateTime,
    event: Event,
}

impl Message {
    pub fn events(batch: &[StoredEvent]) -> Self {
        Message::Events {
            events: batch
                .iter()
                .map(|e| WireEvent {
                    seq: e.seq,
                    user_id: e.user_id,
                    at: e.at,
                    event: e.event.clone(),
                })
                .collect(),
        }
    }
}

impl From<WireEvent> for StoredEvent {
    fn from(e: WireEvent) -> Self {
        StoredEvent {
            seq: e.seq,
            user_id: e.user_id,
            at: e.at,
            event: e.event,
        }
    }
}

#[derive(Serialize, Deserialize)]
struct Envelope {
    /// Who sent it; a node ignores its own messages.
    node: u64,
    #[serde(flatten)]
    message: Message,
}

/// What the link hands to the node.
#[derive(Debug)]
pub enum Inbound {
    /// Another node's message.
    Message { node: u64, message: Message },
    /// The subscription was re-established after a break: whatever was published
    /// meanwhile is lost, so the node must catch up on events and re-check its
    /// sessions.
    Relinked,
}

/// The publishing half, shared by everything that tells other nodes something.
#[derive(Clone)]
pub struct Link {
    node: u64,
    outbox: mpsc::Sender<Envelope>,
}

impl Link {
    /// Connects to `url` (checked at once, so a wrong URL fails the start) and
    /// starts the publisher and subscriber tasks.
    pub async fn open(
        url: &str,
        channel: &str,
        inbound: mpsc::Sender<Inbound>,
    ) -> Result<(Self, Vec<JoinHandle<()>>)> {
        let client = redis::Client::open(url)
            .map_err(|e| Error::Config(format!("fanout_url {url:?}: {e}")))?;
        let publisher = client
            .get_multiplexed_async_connection()
            .await
            .map_err(|e| Error::Config(format!("cannot reach Redis at {url}: {e}")))?;
        let node = rand::random();
        let (outbox, pending) = mpsc::channel(OUTBOX);
        let tasks = vec![
            tokio::spawn(publish(
                client.clone(),
                channel.to_owned(),
                publisher,
                pending,
            )),
            tokio::spawn(subscribe(client, channel.to_owned(), node, inbound)),
        ];
        Ok((Self { node, outbox }, tasks))
    }

    /// Queues `message` for the other nodes. Never waits: when Redis has been
    /// away long enough to fill the outbox the message is dropped, and the other
    /// nodes recover what matters when their own link breaks or from the store.
    pub fn send(&self, message: Message) {
        let envelope = Envelope {
            node: self.node,
            message,
        };
        if self.outbox.try_send(envelope).is_err() {
            tracing::warn!("fan-out outbox full: a message to other nodes was dropped");
        }
    }
}

/// Publishes in order, reconnecting (and retrying the message in hand) after a
/// failure.
async fn publish(
    client: redis::Client,
    channel: String,
    mut connection: redis::aio::MultiplexedConnection,
    mut pending: mpsc::Receiver<Envelope>,
) {
    while let Some(envelope) = pending.recv().await {
        let payload = serde_json::to_string(&envelope).expect("messages always serialize");
        let mut backoff = Backoff::default();
        loop {
            match connection.publish::<_, _, ()>(&channel, &payload).await {
                Ok(()) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "cannot publish to Redis; retrying");
                    backoff.wait().await;
                    match client.get_multiplexed_async_connection().await {
                        Ok(fresh) => connection = fresh,
                        Err(e) => tracing::debug!(error = %e, "Redis still unreachable"),
                    }
                }
            }
        }
    }
}

/// Keeps a subscription open for as long as the node runs.
async fn subscribe(
    client: redis::Client,
    channel: String,
    node: u64,
    inbound: mpsc::Sender<Inbound>,
) {
    let mut backoff = Backoff::default();
    let mut first = true;
    loop {
        match listen(&client, &channel, node, &inbound, &mut first, &mut backoff).await {
            Ok(()) => return, // the node is stopping
            Err(e) => {
                tracing::warn!(error = %e, "Redis fan-out link lost; reconnecting");
                backoff.wait().await;
            }
        }
    }
}

/// Forwards messages until the link fails (`Err`) or the node stops (`Ok`).
async fn listen(
    client: &redis::Client,
    channel: &str,
    node: u64,
    inbound: &mpsc::Sender<Inbound>,
    first: &mut bool,
    backoff: &mut Backoff,
) -> redis::RedisResult<()> {
    let mut pubsub = client.get_async_pubsub().await?;
    pubsub.subscribe(channel).await?;
    let (mut sink, mut stream) = pubsub.split();
    backoff.reset();
    if !std::mem::take(first) {
        tracing::info!("Redis fan-out link restored");
        if inbound.send(Inbound::Relinked).await.is_err() {
            return Ok(());
        }
    }
    let mut ping = tokio::time::interval(PING_EVERY);
    loop {
        tokio::select! {
            message = stream.next() => {
                let Some(message) = message else {
                    return Err(redis::RedisError::from((
                        redis::ErrorKind::Io,
                        "subscription closed",
                    )));
                };
                let envelope: Envelope = match serde_json::from_slice(message.get_payload_bytes()) {
                    Ok(envelope) => envelope,
                    Err(e) => {
                        tracing::warn!(error = %e, "ignoring an unreadable fan-out message");
                        continue;
                    }
                };
                if envelope.node == node {
                    continue;
                }
                let inbound_message = Inbound::Message { node: envelope.node, message: envelope.message };
                if inbound.send(inbound_message).await.is_err() {
                    return Ok(());
                }
            }
            _ = ping.tick() => {
                sink.ping::<redis::Value>().await?;
            }
        }
    }
}

/// Doubling delays from 100 ms up to [`MAX_BACKOFF`].
#[derive(Default)]
struct Backoff {
    attempts: u32,
}

impl Backoff {
    async fn wait(&mut self) {
        let delay = Duration::from_millis(100 << self.attempts.min(6)).min(MAX_BACKOFF);
        self.attempts += 1;
        tokio::time::sleep(delay).await;
    }

    fn reset(&mut self) {
        self.attempts = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_survives_the_wire() {
        let message = Message::Revoke {
            user: 7,
            token: Some(3),
        };
        let envelope = Envelope { node: 42, message };
        let json = serde_json::to_string(&envelope).unwrap();
        assert_eq!(json, r#"{"node":42,"type":"revoke","user":7,"token":3}"#);
        let back: Envelope = serde_json::from_str(&json).unwrap();
        assert_eq!(back.node, 42);
        assert_eq!(
            back.message,
            Message::Revoke {
                user: 7,
                token: Some(3)
            }
        );
    }
}
