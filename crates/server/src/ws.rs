//! One WebSocket connection, from authentication to close.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use futures_util::SinkExt;
use herald_protocol::{
    ClientFrame, Counts, Cursor, ErrorDetail, HistoryQuery, MarkRequest, SendMessage, ServerFrame,
    TokenKind, User,
};
use herald_store::Principal;
use tokio::time::Instant;

use crate::fanout::{CountsChange, Outbound, Subscription};
use crate::limits::Pending;
use crate::service::principals::Epoch;
use crate::service::{accounts, chat, events, notifications};
use crate::state::AppState;
use crate::Error;

/// How long an unauthenticated socket may wait before sending `auth`.
const AUTH_TIMEOUT: Duration = Duration::from_secs(10);
/// Events read from the store per query while replaying.
const REPLAY_PAGE: u32 = 500;
/// How long after `hello` live events wait for the client's `subscribe`.
const SUBSCRIBE_GRACE: Duration = Duration::from_secs(2);
/// Queued frames written with one flush, so a burst costs one syscall, not many.
const MAX_COALESCED: usize = 64;
/// Close reason when the session behind a connection ends.
const SESSION_ENDED: &str = "session ended; log in again";

mod close {
    pub const GOING_AWAY: u16 = 1001;
    pub const INVALID_PAYLOAD: u16 = 1007;
    pub const POLICY: u16 = 1008;
    pub const TOO_BIG: u16 = 1009;
    pub const TRY_AGAIN_LATER: u16 = 1013;
}

/// Why a session ended from the server's side; each maps to a close code.
enum End {
    /// The peer closed or the link broke: nothing left to send.
    Gone,
    Close(u16, &'static str),
}

/// How a connection arrives from the upgrade.
pub(super) enum Admission {
    /// The upgrade carried a valid session token.
    Authenticated(Principal, Epoch),
    /// No token yet: the first frame must be `auth`. Holds the connection's
    /// place under `ws_unauthenticated_per_ip` until then.
    Pending(Pending),
}

/// Every idle connection keeps this future for its whole life, so the one-time
/// and rare steps (admission, the greeting, client requests, closing) run boxed:
/// their state is allocated while they run instead of sizing every connection.
pub(super) async fn run(socket: WebSocket, state: AppState, admission: Admission) {
    let Some(mut session) = Box::pin(admit(socket, state, admission)).await else {
        return;
    };
    let end = session.serve().await;
    Box::pin(finish(session.socket, end)).await;
}

/// Authenticates (unless the upgrade did) and registers with the hub; `None`
/// when the connection was refused and closed.
async fn admit(mut socket: WebSocket, state: AppState, admission: Admission) -> Option<Session> {
    let (principal, epoch) = match admission {
        Admission::Authenticated(principal, epoch) => (principal, epoch),
        Admission::Pending(pending) => {
            let authenticated = authenticate(&mut socket, &state).await;
            drop(pending);
            match authenticated {
                Ok(principal) => principal,
                Err(end) => {
                    finish(socket, end).await;
                    return None;
                }
            }
        }
    };
    // Checked before the upgrade too; this catches parallel upgrades and
    // sockets that authenticated with their first frame.
    let Some(subscription) = state.hub.register(principal.user.id, principal.token.id) else {
        state.metrics.ws_refused("per_user");
        let end = End::Close(close::TRY_AGAIN_LATER, "too many connections for this user");
        finish(socket, end).await;
        return None;
    };
    // A session that ended between authentication and registering was revoked
    // before this connection could hear of it: check once more.
    let refused = match accounts::still_valid(&state, &principal, epoch).await {
        Ok(true) => None,
        Ok(false) => Some(End::Close(close::POLICY, SESSION_ENDED)),
        Err(_) => Some(End::Close(close::TRY_AGAIN_LATER, "storage unavailable")),
    };
    if let Some(end) = refused {
        finish(socket, end).await;
        return None;
    }
    Some(Session {
        socket,
        state,
        user: principal.user,
        subscription,
        last_sent: 0,
        counts: Counts::default(),
        counts_as_of: 0,
        last_heard: Instant::now(),
    })
}

async fn finish(mut socket: WebSocket, end: End) {
    if let End::Close(code, reason) = end {
        let frame = CloseFrame {
            code,
            reason: reason.into(),
        };
        let _ = written(socket.send(Message::Close(Some(frame)))).await;
    }
}

/// A peer that stops reading must not pin its session (and a graceful shutdown)
/// forever: a write that cannot finish in this time ends the connection.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

async fn written(
    write: impl std::future::Future<Output = Result<(), axum::Error>>,
) -> Result<(), End> {
    match tokio::time::timeout(WRITE_TIMEOUT, write).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(_)) | Err(_) => Err(End::Gone),
    }
}

/// Waits for `{"type":"auth","token":…}` as the first frame.
async fn authenticate(socket: &mut WebSocket, state: &AppState) -> Result<(Principal, Epoch), End> {
    let first = tokio::time::timeout(AUTH_TIMEOUT, socket.recv()).await;
    let refuse = |message: &str| {
        ServerFrame::Error(ErrorDetail {
            code: "unauthorized".into(),
            message: message.into(),
        })
    };
    let token = match first {
        Ok(Some(Ok(Message::Text(text)))) => match serde_json::from_str(text.as_str()) {
            Ok(ClientFrame::Auth { token }) => token,
            _ => {
                let frame = refuse("the first frame must be {\"type\":\"auth\",\"token\":…}");
                let _ = socket.send(Message::Text(frame.to_json().into())).await;
                return Err(End::Close(close::POLICY, "authentication required"));
            }
        },
        Ok(Some(Err(e))) => return Err(read_error(e)),
        Ok(_) => return Err(End::Gone),
        Err(_) => return Err(End::Close(close::POLICY, "authentication timed out")),
    };
    match accounts::authenticate_at(state, &token).await {
        Ok((principal, epoch)) if principal.token.kind == TokenKind::Session => {
            Ok((principal, epoch))
        }
        Ok(_) => {
            let frame = refuse("send-only tokens cannot open the event stream");
            let _ = socket.send(Message::Text(frame.to_json().into())).await;
            Err(End::Close(close::POLICY, "forbidden"))
        }
        Err(e) => {
            let frame = refuse(&e.to_string());
            let _ = socket.send(Message::Text(frame.to_json().into())).await;
            Err(End::Close(close::POLICY, "unauthorized"))
        }
    }
}

struct Session {
    socket: WebSocket,
    state: AppState,
    user: User,
    /// Registered before anything is read from the store, so no event falls
    /// between the replay and the live queue.
    subscription: Subscription,
    /// Newest cursor sent; queued events at or below it were already replayed.
    last_sent: Cursor,
    counts: Counts,
    /// The cursor `counts` is exact at; later events adjust or refresh them.
    counts_as_of: Cursor,
    last_heard: Instant,
}

/// What an event means for the counts this session holds.
#[derive(PartialEq)]
enum CountsEffect {
    None,
    Changed,
    Refresh,
}

impl Session {
    async fn serve(&mut self) -> End {
        if let Err(end) = Box::pin(self.greet()).await {
            return end;
        }
        let heartbeat = Duration::from_secs(self.state.config.heartbeat_s.into());
        let idle_timeout = Duration::from_secs(self.state.config.idle_timeout_s.into());
        let mut ticks = tokio::time::interval_at(Instant::now() + heartbeat, heartbeat);
        let shutdown = self.state.shutdown.clone();
        let kicked = self.subscription.kicked.clone();
        let revoked = self.subscription.revoked.clone();
        // Live events wait until the client's first frame (normally `subscribe`)
        // or the grace period: a replay must come before them, or the client
        // would see them twice and out of order.
        let mut live = false;
        let hold = tokio::time::sleep(SUBSCRIBE_GRACE);
        tokio::pin!(hold);
        loop {
            let step = tokio::select! {
                biased;
                _ = shutdown.cancelled() => Err(End::Close(close::GOING_AWAY, "server shutting down")),
                _ = revoked.cancelled() => Err(End::Close(close::POLICY, SESSION_ENDED)),
                _ = kicked.cancelled() => Err(End::Close(
                    close::TRY_AGAIN_LATER,
                    "too slow to keep up; reconnect and resume from your cursor",
                )),
                _ = &mut hold, if !live => {
                    live = true;
                    Ok(())
                }
                item = self.subscription.queue.recv(), if live => match item {
                    Some(item) => self.forward(item).await,
                    None => Err(End::Close(close::GOING_AWAY, "server shutting down")),
                },
                incoming = self.socket.recv() => {
                    live = true;
                    Box::pin(self.receive(incoming)).await
                }
                _ = ticks.tick() => {
                    if self.last_heard.elapsed() > idle_timeout {
                        Err(End::Close(close::GOING_AWAY, "no heartbeat"))
                    } else {
                        self.send_raw(Message::Ping(Default::default())).await
                    }
                }
            };
            if let Err(end) = step {
                return end;
            }
        }
    }

    /// `hello` with the head cursor, then the counts.
    async fn greet(&mut self) -> Result<(), End> {
        self.refresh_counts().await?;
        self.last_sent = self.counts_as_of;
        let hello = ServerFrame::Hello {
            user: self.user.clone(),
            cursor: self.counts_as_of,
            heartbeat_s: self.state.config.heartbeat_s,
        };
        self.send(&hello).await?;
        self.send(&ServerFrame::Counts(self.counts)).await
    }

    /// Sends a queued item and whatever else is already queued, in one flush.
    async fn forward(&mut self, first: Arc<Outbound>) -> Result<(), End> {
        let mut effect = self.feed(first).await?;
        for _ in 1..MAX_COALESCED {
            let Ok(item) = self.subscription.queue.try_recv() else {
                break;
            };
            effect = match (effect, self.feed(item).await?) {
                (CountsEffect::Refresh, _) | (_, CountsEffect::Refresh) => CountsEffect::Refresh,
                (CountsEffect::Changed, _) | (_, CountsEffect::Changed) => CountsEffect::Changed,
                _ => CountsEffect::None,
            };
        }
        if effect == CountsEffect::Refresh {
            self.refresh_counts().await?;
        }
        if effect != CountsEffect::None {
            let frame = ServerFrame::Counts(self.counts).to_json();
            written(self.socket.feed(Message::Text(frame.into()))).await?;
        }
        written(self.socket.flush()).await
    }

    async fn feed(&mut self, item: Arc<Outbound>) -> Result<CountsEffect, End> {
        let (frame, effect) = match &*item {
            Outbound::Push(frame) => (frame, CountsEffect::None),
            Outbound::Event { seq, counts, frame } => {
                if *seq <= self.last_sent {
                    return Ok(CountsEffect::None);
                }
                self.last_sent = *seq;
                (frame, self.counts_effect(*seq, counts))
            }
        };
        written(self.socket.feed(Message::Text(frame.clone()))).await?;
        Ok(effect)
    }

    /// Applies an event's change to the counts, which stay exact because every
    /// event after `counts_as_of` passes through here in cursor order.
    fn counts_effect(&mut self, seq: Cursor, change: &CountsChange) -> CountsEffect {
        if seq <= self.counts_as_of {
            return CountsEffect::None;
        }
        let Counts {
            personal,
            broadcast,
            chats,
            ..
        } = self.counts;
        self.counts = match change {
            CountsChange::NewPersonal => Counts::new(personal + 1, broadcast, chats),
            CountsChange::NewBroadcast => Counts::new(personal, broadcast + 1, chats),
            CountsChange::NewMessage { sender }
                if sender.as_deref() == Some(&self.user.username) =>
            {
                self.counts
            }
            CountsChange::NewMessage { .. } => Counts::new(personal, broadcast, chats + 1),
            CountsChange::Unknown => return CountsEffect::Refresh,
        };
        self.counts_as_of = seq;
        CountsEffect::Changed
    }

    async fn refresh_counts(&mut self) -> Result<(), End> {
        let (counts, as_of) = self
            .state
            .store
            .counts(self.user.id)
            .await
            .map_err(|_| End::Close(close::TRY_AGAIN_LATER, "storage unavailable"))?;
        self.counts = counts;
        self.counts_as_of = as_of;
        Ok(())
    }

    async fn receive(&mut self, incoming: Option<Result<Message, axum::Error>>) -> Result<(), End> {
        let message = match incoming {
            None => return Err(End::Gone),
            Some(Err(e)) => return Err(read_error(e)),
            Some(Ok(message)) => message,
        };
        self.last_heard = Instant::now();
        match message {
            Message::Text(text) => match serde_json::from_str::<ClientFrame>(text.as_str()) {
                Ok(frame) => self.handle(frame).await,
                Err(e) => {
                    self.send_error("bad_frame", &format!("unreadable frame: {e}"))
                        .await
                }
            },
            Message::Binary(_) => {
                self.send_error(
                    "bad_frame",
                    "binary frames are not supported; send JSON text",
                )
                .await
            }
            Message::Close(_) => Err(End::Gone),
            Message::Ping(_) | Message::Pong(_) => Ok(()),
        }
    }

    async fn handle(&mut self, frame: ClientFrame) -> Result<(), End> {
        match frame {
            ClientFrame::Auth { .. } => self.send_error("bad_frame", "already authenticated").await,
            ClientFrame::Ping { id } => match id {
                Some(id) => {
                    self.reply(id, Ok(serde_json::json!({ "pong": true })))
                        .await
                }
                None => Ok(()),
            },
            ClientFrame::Subscribe { id, since } => {
                let cursor = self.subscribe(since).await?;
                match id {
                    Some(id) => {
                        self.reply(id, Ok(serde_json::json!({ "cursor": cursor })))
                            .await
                    }
                    None => Ok(()),
                }
            }
            ClientFrame::MarkRead { id, ids, all, kind } => {
                let request = MarkRequest { ids, all, kind };
                let result = notifications::mark(&self.state, self.user.id, request, true)
                    .await
                    .map(|changed| serde_json::json!(changed));
                self.reply(id, result).await
            }
            ClientFrame::SendMessage {
                id,
                to,
                room,
                content,
                client_id,
            } => {
                let request = SendMessage {
                    to,
                    room,
                    content,
                    client_id,
                };
                let result = chat::send(&self.state, &self.user, request)
                    .await
                    .map(|sent| serde_json::json!(sent.message));
                self.reply(id, result).await
            }
            ClientFrame::GetMessages {
                id,
                conversation_id,
                before,
                after,
                limit,
            } => {
                let query = HistoryQuery {
                    before,
                    after,
                    limit,
                };
                let result = chat::history(&self.state, &self.user, conversation_id, query)
                    .await
                    .map(|page| serde_json::json!(page));
                self.reply(id, result).await
            }
            ClientFrame::DeleteMessage {
                id,
                message_id,
                for_everyone,
            } => {
                let result = chat::delete(&self.state, &self.user, vec![message_id], for_everyone)
                    .await
                    .map(|changed| serde_json::json!(changed));
                self.reply(id, result).await
            }
        }
    }

    /// Replays every event after `since`, then lets the live queue continue from
    /// the last replayed cursor. Returns the cursor the client is now at. (A
    /// `subscribe` that comes after live events began may repeat some of them;
    /// clients apply events idempotently by cursor.)
    async fn subscribe(&mut self, since: Cursor) -> Result<Cursor, End> {
        // Every event after `last_sent` is in the live queue (`hello`'s cursor was
        // read after the subscription was registered, and a replay or the queue
        // only moves it forward), so a client already there, as every client is
        // when it subscribes from `hello`'s cursor, needs nothing checked or
        // replayed: a reconnect storm saves two store reads per client.
        if since != self.last_sent {
            if let Some(head) = self.replay(since).await? {
                return Ok(head);
            }
        }
        // Replayed events did not pass through `counts_effect`: the counts need a
        // fresh read only if the replay went past what they already reflect.
        if self.last_sent > self.counts_as_of {
            self.refresh_counts().await?;
        }
        self.send(&ServerFrame::Counts(self.counts)).await?;
        Ok(self.last_sent)
    }

    /// Sends every stored event after `since` and moves `last_sent` to the last
    /// one; or, if the stream cannot resume there, sends `resync_required` and
    /// returns the head the client should reload at.
    async fn replay(&mut self, since: Cursor) -> Result<Option<Cursor>, End> {
        fn storage(_: herald_store::Error) -> End {
            End::Close(close::TRY_AGAIN_LATER, "storage unavailable")
        }
        if let Err(head) = events::can_resume(&self.state, since)
            .await
            .map_err(|_| End::Close(close::TRY_AGAIN_LATER, "storage unavailable"))?
        {
            self.last_sent = self.last_sent.max(head);
            self.send(&ServerFrame::ResyncRequired { cursor: head })
                .await?;
            return Ok(Some(head));
        }
        self.last_sent = since;
        loop {
            let page = self
                .state
                .store
                .events_since(self.user.id, self.last_sent, REPLAY_PAGE)
                .await
                .map_err(storage)?;
            let complete = (page.len() as u32) < REPLAY_PAGE;
            for stored in page {
                self.last_sent = stored.seq;
                let frame = ServerFrame::Event {
                    cursor: stored.seq,
                    event: stored.event,
                };
                written(self.socket.feed(Message::Text(frame.to_json().into()))).await?;
            }
            written(self.socket.flush()).await?;
            if complete {
                return Ok(None);
            }
        }
    }

    async fn reply(
        &mut self,
        id: u64,
        result: Result<serde_json::Value, Error>,
    ) -> Result<(), End> {
        let frame = match result {
            Ok(result) => ServerFrame::Reply {
                id,
                ok: true,
                result: Some(result),
                error: None,
            },
            Err(e) => ServerFrame::Reply {
                id,
                ok: false,
                result: None,
                error: Some(e.detail()),
            },
        };
        self.send(&frame).await
    }

    async fn send_error(&mut self, code: &str, message: &str) -> Result<(), End> {
        let frame = ServerFrame::Error(ErrorDetail {
            code: code.into(),
            message: message.into(),
        });
        self.send(&frame).await
    }

    async fn send(&mut self, frame: &ServerFrame) -> Result<(), End> {
        self.send_raw(Message::Text(Utf8Bytes::from(frame.to_json())))
            .await
    }

    async fn send_raw(&mut self, message: Message) -> Result<(), End> {
        written(self.socket.send(message)).await
    }
}

/// A frame over the size limit closes with 1009, a text frame that is not UTF-8
/// with 1007 (RFC 6455 §8.1); other read errors mean the link is gone.
fn read_error(error: axum::Error) -> End {
    let inner = error.into_inner();
    match inner.downcast_ref::<tungstenite::Error>() {
        Some(tungstenite::Error::Capacity(_)) => {
            End::Close(close::TOO_BIG, "frame larger than 64 KiB")
        }
        Some(tungstenite::Error::Utf8(_)) => {
            End::Close(close::INVALID_PAYLOAD, "text frame is not valid UTF-8")
        }
        _ => End::Gone,
    }
}
