//! The sync engine: one background task per logged-in client.
//!
//! The outer loop connects, runs a [`Link`] until the connection ends, then
//! waits (exponential backoff with jitter, cut short by
//! [`Client::reconnect_now`]) and connects again. An authentication failure stops
//! the loop: no retry can fix a revoked token.
//!
//! A [`Link`] is one connection and moves through three phases:
//!
//! ```text
//!  hello ──(cursor stored)──▶ Subscribing ──reply──▶ Live
//!    │                           │ resync_required      ▲
//!    └──(no cursor)──▶ Resyncing ◀┘                     │
//!                           └────── reload applied ─────┘
//! ```
//!
//! - **Subscribing**: `subscribe{since}` makes the server replay what we missed,
//!   then continue live. Live events the server forwarded before it read our
//!   subscribe (all newer than `hello`'s cursor) arrive *before* the replay of
//!   older ones, so events newer than `hello` are held back and applied, sorted,
//!   when the replay is done (the server's `reply`). Applying them at once would
//!   move the cursor past events still to be replayed.
//! - **Resyncing**: a full reload over REST runs in a task while frames keep
//!   being read (so pings are answered); events are held and applied on top of
//!   the reload, in one transaction with it.
//! - **Live**: events are applied as they come, a batch per transaction. The
//!   outbox is sent, one action at a time, in order.
//!
//! Every event is applied at most once per cache (the cursor is checked in the
//! same transaction that applies it), and applying one is idempotent anyway.
//!
//! [`Client::reconnect_now`]: crate::Client::reconnect_now

use std::sync::Arc;
use std::time::Duration;

use futures_util::{FutureExt, StreamExt};
use herald_protocol::{ClientFrame, Cursor, Event, NotificationId, ServerFrame};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;
use tokio::time::Instant;
use tokio_tungstenite::tungstenite::{self, Message};
use tokio_util::sync::CancellationToken;

use super::backoff::Backoff;
use super::connection::{self, Hello, Socket};
use super::flush::{self, Outcome};
use super::liveness::{Liveness, Verdict};
use super::resync::{self, Details, Snapshot};
use super::SyncOptions;
use crate::api::Api;
use crate::cache::{self, chat, log, meta, notifications, outbox};
use crate::error::{Error, Result};
use crate::events::{ClientEvent, ConnectionState};
use crate::shared::Shared;
use crate::views::Action;

/// Frames read in one go and applied in one transaction when they are already
/// waiting (a replay arrives in bursts; one commit per event would be slow).
const MAX_BATCH: usize = 256;
/// Events held back during a catch-up before the link is given up as hopeless
/// (the server forwards faster than we can catch up); the next attempt starts
/// from the stored cursor.
const MAX_HELD: usize = 100_000;
/// How often housekeeping runs (expiring acked actions, retrying the outbox).
const TICK: Duration = Duration::from_secs(1);
/// How often the cache drops notifications past retention while running.
const PURGE_EVERY: Duration = Duration::from_secs(3600);
/// Bound on writing one frame to the socket.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);
/// Longest pause between retries of an outbox action that failed for a
/// reason that may pass (server error, no route).
const FLUSH_RETRY_MAX: Duration = Duration::from_secs(30);

/// What a front end asks the engine to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Command {
    /// Drop the connection (or the wait) and connect now.
    ReconnectNow,
    /// The outbox has something new.
    Flush,
    /// Reload everything from the server.
    Resync,
}

/// The running engine, owned by the client.
pub(crate) struct EngineHandle {
    pub commands: mpsc::UnboundedSender<Command>,
    pub stop: CancellationToken,
    pub task: JoinHandle<()>,
}

pub(crate) fn spawn(shared: Arc<Shared>, api: Api) -> EngineHandle {
    let (commands, rx) = mpsc::unbounded_channel();
    let stop = CancellationToken::new();
    let task = tokio::spawn(run(shared, api, rx, stop.clone()));
    EngineHandle {
        commands,
        stop,
        task,
    }
}

/// Why a connection ended.
#[derive(Debug)]
enum End {
    /// The client stopped the engine.
    Stopped,
    /// Asked to reconnect now.
    Reconnect,
    /// The server refused our token.
    AuthFailed(String),
    /// The link broke (or could not be made); retry after a delay.
    Lost(String),
}

impl From<Error> for End {
    fn from(err: Error) -> Self {
        match err {
            Error::Unauthorized { message } | Error::Forbidden { message } => {
                End::AuthFailed(message)
            }
            Error::NotLoggedIn => End::AuthFailed(err.to_string()),
            other => End::Lost(other.to_string()),
        }
    }
}

async fn run(
    shared: Arc<Shared>,
    api: Api,
    mut commands: mpsc::UnboundedReceiver<Command>,
    stop: CancellationToken,
) {
    let options = shared.options.sync.clone();
    let mut backoff = Backoff::new(options.backoff_initial, options.backoff_max);
    let mut resync_requested = false;
    loop {
        shared.set_state(ConnectionState::Connecting);
        let attempt = tokio::select! {
            _ = stop.cancelled() => return,
            attempt = connection::open(&api, options.connect_timeout) => attempt,
        };
        let end = match attempt {
            Ok((socket, hello)) => {
                let mut link = Link::new(&shared, &api, socket, &options);
                let force = std::mem::take(&mut resync_requested);
                link.run(hello, force, &mut commands, &stop, &mut backoff)
                    .await
            }
            Err(e) => End::from(e),
        };
        tracing::debug!(?end, "connection ended");
        match end {
            End::Stopped => return,
            End::Reconnect => backoff.reset(),
            End::AuthFailed(message) => {
                shared.set_state(ConnectionState::AuthFailed { message });
                // Only an explicit reconnect (say, after the user fixed the
                // account on the server) tries again.
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        command = commands.recv() => match command {
                            None => return,
                            Some(Command::ReconnectNow) => break,
                            Some(Command::Resync) => resync_requested = true,
                            Some(Command::Flush) => {}
                        },
                    }
                }
                backoff.reset();
            }
            End::Lost(reason) => {
                let delay = backoff.next_delay();
                shared.set_state(ConnectionState::Offline {
                    reason,
                    retry_in_ms: Some(delay.as_millis() as u64),
                });
                let deadline = Instant::now() + delay;
                loop {
                    tokio::select! {
                        _ = stop.cancelled() => return,
                        _ = tokio::time::sleep_until(deadline) => break,
                        command = commands.recv() => match command {
                            None => return,
                            Some(Command::ReconnectNow) => {
                                backoff.reset();
                                break;
                            }
                            Some(Command::Resync) => resync_requested = true,
                            Some(Command::Flush) => {}
                        },
                    }
                }
            }
        }
    }
}

/// Where a connection is in its life (see the module docs).
enum Phase {
    Subscribing {
        /// Id of our `subscribe`; its `reply` ends the replay.
        request: u64,
        /// `hello`'s cursor: newer events are held until the replay is done.
        head: Cursor,
        held: Vec<(Cursor, Event)>,
    },
    Resyncing {
        /// The stream position the reload is applied at.
        head: Cursor,
        held: Vec<(Cursor, Event)>,
    },
    Live,
}

/// What woke the link up.
enum Step {
    Stop,
    Command(Option<Command>),
    Message(Option<std::result::Result<Message, tungstenite::Error>>),
    Silence,
    Reloaded(Option<Result<Snapshot>>),
    Refreshed(Option<Result<Details>>),
    Flushed(Option<(i64, Outcome)>),
    Tick,
}

/// One connection.
struct Link<'a> {
    shared: &'a Arc<Shared>,
    api: &'a Api,
    options: &'a SyncOptions,
    socket: Socket,
    phase: Phase,
    liveness: Liveness,
    /// Ids for our requests (`subscribe`, `ping`).
    next_request: u64,
    /// The full reload in flight, if any.
    reload: Option<JoinHandle<Result<Snapshot>>>,
    /// A fetch of conversation details and contacts in flight, if any.
    refresh: Option<JoinHandle<Result<Details>>>,
    /// Another fetch is wanted when the one in flight is done.
    refresh_again: bool,
    /// A reload asked for while not live; started once caught up.
    reload_wanted: bool,
    /// The outbox action in flight: its sequence number and how it went.
    flush: Option<JoinHandle<(i64, Outcome)>>,
    /// After a failed send, the outbox waits until then.
    flush_not_before: Option<Instant>,
    /// Failed sends in a row, for the retry delay.
    flush_failures: u32,
    last_purge: Instant,
}

impl Drop for Link<'_> {
    fn drop(&mut self) {
        // A request cut off here is resent on the next connection (the outbox
        // marks in-flight actions pending again when a connection starts).
        if let Some(task) = self.reload.take() {
            task.abort();
        }
        if let Some(task) = self.flush.take() {
            task.abort();
        }
        if let Some(task) = self.refresh.take() {
            task.abort();
        }
    }
}

/// Waits for an optional task; pends forever when there is none.
async fn join<T>(task: &mut Option<JoinHandle<T>>) -> Option<T> {
    let handle = task.as_mut()?;
    let result = handle.await.ok();
    *task = None;
    result
}

impl<'a> Link<'a> {
    fn new(
        shared: &'a Arc<Shared>,
        api: &'a Api,
        socket: Socket,
        options: &'a SyncOptions,
    ) -> Self {
        Self {
            shared,
            api,
            options,
            socket,
            phase: Phase::Live,
            liveness: Liveness::new(Instant::now(), options.ping_after, options.dead_after),
            next_request: 1,
            reload: None,
            refresh: None,
            refresh_again: false,
            reload_wanted: false,
            flush: None,
            flush_not_before: None,
            flush_failures: 0,
            last_purge: Instant::now(),
        }
    }

    async fn run(
        &mut self,
        hello: Hello,
        force_reload: bool,
        commands: &mut mpsc::UnboundedReceiver<Command>,
        stop: &CancellationToken,
        backoff: &mut Backoff,
    ) -> End {
        if let Err(end) = self.start(hello, force_reload).await {
            return end;
        }
        let mut tick = tokio::time::interval(TICK);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let step = tokio::select! {
                _ = stop.cancelled() => Step::Stop,
                command = commands.recv() => Step::Command(command),
                message = self.socket.next() => Step::Message(message),
                _ = tokio::time::sleep_until(self.liveness.deadline()) => Step::Silence,
                reloaded = join(&mut self.reload), if self.reload.is_some() => Step::Reloaded(reloaded),
                refreshed = join(&mut self.refresh), if self.refresh.is_some() => Step::Refreshed(refreshed),
                flushed = join(&mut self.flush), if self.flush.is_some() => Step::Flushed(flushed),
                _ = tick.tick() => Step::Tick,
            };
            let result = match step {
                Step::Stop => Err(End::Stopped),
                Step::Command(command) => self.on_command(command).await,
                Step::Message(message) => self.on_message(message, backoff).await,
                Step::Silence => self.on_silence().await,
                Step::Reloaded(result) => self.on_reloaded(result, backoff).await,
                Step::Refreshed(result) => self.on_refreshed(result).await,
                Step::Flushed(result) => self.on_flushed(result).await,
                Step::Tick => self.on_tick().await,
            };
            if let Err(end) = result {
                if let End::Stopped = end {
                    let _ = self.socket.close(None).await;
                }
                return end;
            }
        }
    }

    fn request_id(&mut self) -> u64 {
        let id = self.next_request;
        self.next_request += 1;
        id
    }

    async fn send(&mut self, frame: ClientFrame) -> Result<(), End> {
        connection::send(&mut self.socket, &frame, WRITE_TIMEOUT)
            .await
            .map_err(|e| End::Lost(e.to_string()))
    }

    /// After `hello`: make sure the cache is this user's, then resume or reload.
    async fn start(&mut self, hello: Hello, force_reload: bool) -> Result<(), End> {
        let user = hello.user.clone();
        let server = self.api.server().to_string();
        let (cursor, wiped) = self
            .shared
            .cache
            .write_async(move |tx| {
                let other = meta::user(tx)?.is_some_and(|known| known.id != user.id);
                if other {
                    cache::wipe(tx)?;
                    meta::set(tx, meta::SERVER, &server)?;
                }
                meta::set_user(tx, &user)?;
                outbox::reset_in_flight(tx)?;
                Ok((meta::cursor(tx)?, other))
            })
            .await?;
        if wiped {
            self.shared.emit(ClientEvent::NotificationsReloaded);
            self.shared.change(false, |_, _| Ok(())).await?;
        }
        self.shared.set_user(hello.user);
        self.shared.set_state(ConnectionState::Online);
        match cursor {
            Some(since) if !force_reload => {
                let request = self.request_id();
                self.send(ClientFrame::Subscribe {
                    id: Some(request),
                    since,
                })
                .await?;
                self.phase = Phase::Subscribing {
                    request,
                    head: hello.head,
                    held: Vec::new(),
                };
            }
            _ => self.begin_reload(hello.head, Vec::new()),
        }
        Ok(())
    }

    fn begin_reload(&mut self, head: Cursor, held: Vec<(Cursor, Event)>) {
        if let Some(task) = self.reload.take() {
            task.abort();
        }
        self.reload = Some(tokio::spawn(resync::fetch_all(self.api.clone())));
        self.phase = Phase::Resyncing { head, held };
    }

    async fn on_command(&mut self, command: Option<Command>) -> Result<(), End> {
        match command {
            None => Err(End::Stopped),
            Some(Command::ReconnectNow) => Err(End::Reconnect),
            Some(Command::Flush) => self.flush_next().await,
            Some(Command::Resync) => {
                match self.phase {
                    // Caught up: every event after the cursor still comes live,
                    // so the cursor is a valid position to reload at.
                    Phase::Live => {
                        let cursor = self.shared.cache.read_async(meta::cursor).await?;
                        self.begin_reload(cursor.unwrap_or(0), Vec::new());
                    }
                    _ => self.reload_wanted = true,
                }
                Ok(())
            }
        }
    }

    async fn on_message(
        &mut self,
        first: Option<std::result::Result<Message, tungstenite::Error>>,
        backoff: &mut Backoff,
    ) -> Result<(), End> {
        // Take what is already waiting too, to apply it in one transaction.
        let mut messages = Vec::new();
        let mut next = first;
        let mut end = None;
        loop {
            match next {
                None => {
                    end = Some(End::Lost("the server closed the connection".into()));
                    break;
                }
                Some(Err(e)) => {
                    end = Some(End::Lost(connection::read_error(&e)));
                    break;
                }
                Some(Ok(message)) => messages.push(message),
            }
            if messages.len() >= MAX_BATCH {
                break;
            }
            match self.socket.next().now_or_never() {
                Some(more) => next = more,
                None => break,
            }
        }
        self.liveness.heard(Instant::now());

        let mut events = Vec::new();
        for message in messages {
            let text = match message {
                Message::Text(text) => text,
                Message::Close(frame) => {
                    self.on_events(std::mem::take(&mut events)).await?;
                    return Err(End::from(connection::close_error(frame.as_ref())));
                }
                // Pings are answered by tungstenite; any frame counts as life.
                _ => continue,
            };
            match serde_json::from_str::<ServerFrame>(text.as_str()) {
                Ok(ServerFrame::Event { cursor, event }) => events.push((cursor, event)),
                Ok(frame) => {
                    self.on_events(std::mem::take(&mut events)).await?;
                    self.on_frame(frame, backoff).await?;
                }
                // A frame this version does not know (a newer server): skip it,
                // so old clients keep working.
                Err(e) => tracing::debug!(error = %e, "skipping an unknown frame"),
            }
        }
        self.on_events(events).await?;
        match end {
            Some(end) => Err(end),
            None => Ok(()),
        }
    }

    /// Applies or holds a run of events, depending on the phase.
    async fn on_events(&mut self, events: Vec<(Cursor, Event)>) -> Result<(), End> {
        if events.is_empty() {
            return Ok(());
        }
        let (now, live) = match &mut self.phase {
            Phase::Live => (events, true),
            Phase::Subscribing { head, held, .. } => {
                let head = *head;
                let (replayed, newer): (Vec<_>, Vec<_>) =
                    events.into_iter().partition(|(cursor, _)| *cursor <= head);
                held.extend(newer);
                (replayed, false)
            }
            Phase::Resyncing { held, .. } => {
                held.extend(events);
                (Vec::new(), false)
            }
        };
        if let Phase::Subscribing { held, .. } | Phase::Resyncing { held, .. } = &self.phase {
            if held.len() > MAX_HELD {
                return Err(End::Lost(
                    "too many events arrived while catching up".into(),
                ));
            }
        }
        if now.is_empty() {
            return Ok(());
        }
        if apply(self.shared, now, live).await? {
            self.refresh_details();
        }
        if live {
            self.flush_next().await?;
        }
        Ok(())
    }

    async fn on_frame(&mut self, frame: ServerFrame, backoff: &mut Backoff) -> Result<(), End> {
        match frame {
            ServerFrame::Reply { id, ok, error, .. } => {
                let Phase::Subscribing { request, .. } = &self.phase else {
                    return Ok(()); // a ping's answer, or a subscribe overtaken by a reload
                };
                if id != *request {
                    return Ok(());
                }
                if !ok {
                    let reason = error.map(|e| e.message).unwrap_or_default();
                    return Err(End::Lost(format!("the server refused to replay: {reason}")));
                }
                let Phase::Subscribing { mut held, .. } =
                    std::mem::replace(&mut self.phase, Phase::Live)
                else {
                    unreachable!("checked above");
                };
                held.sort_by_key(|(cursor, _)| *cursor);
                held.dedup_by_key(|(cursor, _)| *cursor);
                apply(self.shared, held, true).await?;
                // Names, rooms and presence may have changed while we were away.
                self.refresh_details();
                self.caught_up(backoff).await
            }
            ServerFrame::ResyncRequired { cursor } => {
                let held = match std::mem::replace(&mut self.phase, Phase::Live) {
                    Phase::Subscribing { held, .. } | Phase::Resyncing { held, .. } => held,
                    Phase::Live => Vec::new(),
                };
                self.begin_reload(cursor, held);
                Ok(())
            }
            ServerFrame::Desktop {
                title,
                content,
                link,
                priority,
                id,
            } => {
                if !self.already_handled(id).await? {
                    self.shared.emit(ClientEvent::DesktopPopup {
                        title,
                        content,
                        link,
                        priority,
                        id,
                    });
                }
                Ok(())
            }
            ServerFrame::Presence { user, online } => {
                let name = user.clone();
                self.shared
                    .cache
                    .write_async(move |tx| chat::set_online(tx, &name, online))
                    .await?;
                self.shared.emit(ClientEvent::Presence { user, online });
                Ok(())
            }
            ServerFrame::Error(detail) if connection::is_auth_code(&detail.code) => {
                Err(End::AuthFailed(detail.message))
            }
            ServerFrame::Error(detail) => {
                tracing::warn!(code = %detail.code, message = %detail.message, "server error frame");
                Ok(())
            }
            // Counts are derived from the cache (they must agree with the list,
            // pending actions included), so the server's are not needed.
            ServerFrame::Counts(_) | ServerFrame::Hello { .. } | ServerFrame::Event { .. } => {
                Ok(())
            }
        }
    }

    /// A DESKTOP push for a notification the user already read or deleted (on
    /// another device, before the push got here) is not news any more.
    async fn already_handled(&self, id: Option<NotificationId>) -> Result<bool, End> {
        let Some(id) = id else { return Ok(false) };
        let handled = self
            .shared
            .cache
            .read_async(move |conn| {
                let row: Option<(bool, bool)> = conn
                    .query_row(
                        "SELECT read, hidden FROM notifications WHERE id = ?1",
                        [id],
                        |r| Ok((r.get(0)?, r.get(1)?)),
                    )
                    .ok();
                Ok(row.is_some_and(|(read, hidden)| read || hidden))
            })
            .await?;
        Ok(handled)
    }

    async fn on_reloaded(
        &mut self,
        result: Option<Result<Snapshot>>,
        backoff: &mut Backoff,
    ) -> Result<(), End> {
        let snapshot = match result {
            None => return Err(End::Lost("the reload stopped unexpectedly".into())),
            Some(Err(e)) if e.is_auth() => return Err(End::from(e)),
            Some(Err(e)) => return Err(End::Lost(format!("reloading failed: {e}"))),
            Some(Ok(snapshot)) => snapshot,
        };
        let Phase::Resyncing { head, mut held } = std::mem::replace(&mut self.phase, Phase::Live)
        else {
            return Ok(());
        };
        held.sort_by_key(|(cursor, _)| *cursor);
        held.dedup_by_key(|(cursor, _)| *cursor);
        let keep = self.shared.options.event_log_limit;
        let me = self.shared.me();
        let (cursor, unknown) = self
            .shared
            .change(false, move |tx, tracker| {
                notifications::replace_all(tx, &snapshot.notifications, tracker)?;
                chat::replace_all(tx, &snapshot.chat, tracker)?;
                log::restart_at(tx, head)?;
                let mut cursor = head;
                let mut unknown = false;
                for (at, event) in held.iter().filter(|(at, _)| *at > head) {
                    unknown |= cache::apply_event(tx, event, &me, tracker)?.unknown_conversation;
                    log::append(tx, *at, event)?;
                    outbox::note_event(tx, event, &me)?;
                    cursor = *at;
                }
                meta::set(tx, meta::CURSOR, cursor)?;
                log::trim(tx, keep)?;
                cache::rebase(tx, &me, tracker)?;
                Ok((cursor, unknown))
            })
            .await?;
        if unknown {
            self.refresh_details();
        }
        self.shared.emit(ClientEvent::EventsApplied { cursor });
        self.caught_up(backoff).await
    }

    /// Fetches conversation details and contacts in the background (a message
    /// from an unknown conversation, or presence that changed while away).
    fn refresh_details(&mut self) {
        if self.refresh.is_some() {
            self.refresh_again = true;
            return;
        }
        self.refresh = Some(tokio::spawn(resync::fetch_details(self.api.clone())));
    }

    async fn on_refreshed(&mut self, result: Option<Result<Details>>) -> Result<(), End> {
        match result {
            Some(Ok(details)) => {
                self.shared
                    .change(false, move |tx, tracker| {
                        chat::refresh_details(tx, &details.conversations, tracker)?;
                        chat::replace_contacts(tx, &details.contacts, tracker)
                    })
                    .await?;
            }
            // Details are a nicety: the next connection fetches them again.
            Some(Err(e)) => tracing::debug!(error = %e, "fetching conversation details failed"),
            None => {}
        }
        if std::mem::take(&mut self.refresh_again) {
            self.refresh_details();
        }
        Ok(())
    }

    /// The connection has applied everything the server had when it started.
    async fn caught_up(&mut self, backoff: &mut Backoff) -> Result<(), End> {
        backoff.reset();
        // Actions confirmed before this connection had their events replayed by
        // now: their overlays are no longer needed.
        let me = self.shared.me();
        let cursor = self
            .shared
            .change(false, move |tx, tracker| {
                if outbox::drop_acked(tx, None)? > 0 {
                    cache::rebase(tx, &me, tracker)?;
                }
                meta::cursor(tx)
            })
            .await?;
        self.shared.set_caught_up(cursor.unwrap_or(0));
        if std::mem::take(&mut self.reload_wanted) {
            self.begin_reload(cursor.unwrap_or(0), Vec::new());
            return Ok(());
        }
        self.flush_next().await
    }

    async fn on_silence(&mut self) -> Result<(), End> {
        match self.liveness.check(Instant::now()) {
            Verdict::Quiet => Ok(()),
            Verdict::Ping => {
                let id = self.request_id();
                self.send(ClientFrame::Ping { id: Some(id) }).await
            }
            Verdict::Dead => Err(End::Lost(format!(
                "no data from the server for {}s",
                self.liveness.dead_after().as_secs_f32()
            ))),
        }
    }

    /// Sends the next outbox action, if the link is live and none is in flight.
    async fn flush_next(&mut self) -> Result<(), End> {
        if !matches!(self.phase, Phase::Live) || self.flush.is_some() {
            return Ok(());
        }
        if self.flush_not_before.is_some_and(|t| Instant::now() < t) {
            return Ok(());
        }
        let next = self
            .shared
            .cache
            .write_async(|tx| {
                let Some(queued) = outbox::next_pending(tx)? else {
                    return Ok(None);
                };
                let plan = flush::plan(tx, &queued.action)?;
                outbox::set_state(tx, queued.seq, outbox::State::Sent)?;
                Ok(Some((queued.seq, plan)))
            })
            .await?;
        if let Some((seq, plan)) = next {
            let api = self.api.clone();
            self.flush = Some(tokio::spawn(
                async move { (seq, flush::send(&api, plan).await) },
            ));
        }
        Ok(())
    }

    async fn on_flushed(&mut self, result: Option<(i64, Outcome)>) -> Result<(), End> {
        let Some((seq, outcome)) = result else {
            // The task died; the action is still marked in flight. Send it again.
            self.shared
                .cache
                .write_async(|tx| outbox::reset_in_flight(tx))
                .await?;
            return self.flush_next().await;
        };
        if let Outcome::Failed(e) = outcome {
            tracing::debug!(error = %e, "sending an outbox action failed; will retry");
            self.shared
                .cache
                .write_async(move |tx| outbox::set_state(tx, seq, outbox::State::Pending))
                .await?;
            self.flush_failures = self.flush_failures.saturating_add(1);
            let delay = Duration::from_secs(1)
                .saturating_mul(2u32.saturating_pow(self.flush_failures.min(10)))
                .min(FLUSH_RETRY_MAX);
            self.flush_not_before = Some(Instant::now() + delay);
            return Ok(());
        }
        self.flush_failures = 0;
        self.flush_not_before = None;
        let me = self.shared.me();
        let refused = self
            .shared
            .change(false, move |tx, tracker| {
                let Some(queued) = outbox::get(tx, seq)? else {
                    return Ok(None);
                };
                let refused = match outcome {
                    Outcome::Done {
                        changed,
                        gone,
                        message,
                    } => {
                        if let Some(message) = message {
                            chat::upsert_message(tx, &message, tracker)?;
                        }
                        match queued.action {
                            Action::DeleteMessages { .. } => {
                                chat::forget_messages(tx, &gone, tracker)?
                            }
                            _ => notifications::forget(tx, &gone, tracker)?,
                        }
                        if changed == 0 || queued.event_seen {
                            outbox::remove(tx, seq)?;
                        } else {
                            outbox::set_state(tx, seq, outbox::State::Acked)?;
                        }
                        None
                    }
                    Outcome::Refused(message) => {
                        outbox::remove(tx, seq)?;
                        if let Action::SendMessage { client_id, .. } = &queued.action {
                            chat::mark_failed(tx, client_id, tracker)?;
                        }
                        Some((queued.action, message))
                    }
                    Outcome::Failed(_) => None,
                };
                cache::rebase(tx, &me, tracker)?;
                Ok(refused)
            })
            .await?;
        if let Some((action, message)) = refused {
            tracing::info!(?action, %message, "the server refused an action");
            self.shared
                .emit(ClientEvent::ActionRefused { action, message });
        }
        self.flush_next().await
    }

    async fn on_tick(&mut self) -> Result<(), End> {
        if !matches!(self.phase, Phase::Live) {
            return Ok(());
        }
        let grace = self.options.ack_grace.as_millis() as i64;
        let me = self.shared.me();
        let removed = self
            .shared
            .change(false, move |tx, tracker| {
                let removed = outbox::drop_acked(tx, Some(outbox::now() - grace))?;
                if removed > 0 {
                    cache::rebase(tx, &me, tracker)?;
                }
                Ok(removed)
            })
            .await?;
        if removed > 0 {
            tracing::debug!(removed, "acked actions expired before their events arrived");
        }
        if self.last_purge.elapsed() >= PURGE_EVERY {
            self.last_purge = Instant::now();
            self.shared.purge().await?;
        }
        self.flush_next().await
    }
}

/// Applies a run of stream events in one transaction: each newer than the
/// stored cursor is applied, logged and matched against the outbox; then the
/// cursor moves and pending actions are re-applied on top. Returns whether a
/// message came from a conversation the cache did not know.
async fn apply(
    shared: &Arc<Shared>,
    events: Vec<(Cursor, Event)>,
    live: bool,
) -> Result<bool, End> {
    if events.is_empty() {
        return Ok(false);
    }
    let keep = shared.options.event_log_limit;
    let me = shared.me();
    let (applied, unknown) = shared
        .change(live, move |tx, tracker| {
            let mut cursor = meta::cursor(tx)?;
            let mut applied = None;
            let mut unknown = false;
            for (at, event) in &events {
                if cursor.is_some_and(|seen| *at <= seen) {
                    continue;
                }
                unknown |= cache::apply_event(tx, event, &me, tracker)?.unknown_conversation;
                log::append(tx, *at, event)?;
                outbox::note_event(tx, event, &me)?;
                cursor = Some(*at);
                applied = Some(*at);
            }
            if let Some(at) = applied {
                meta::set(tx, meta::CURSOR, at)?;
                log::trim(tx, keep)?;
                cache::rebase(tx, &me, tracker)?;
            }
            Ok((applied, unknown))
        })
        .await?;
    if let Some(cursor) = applied {
        shared.emit(ClientEvent::EventsApplied { cursor });
    }
    Ok(unknown)
}
