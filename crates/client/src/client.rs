//! [`Client`]: the handle front ends hold.
//!
//! Reads (`list`, `counts`, `search`) are answered from the cache and work
//! offline. Actions (`mark_read`, `delete`, …) change the cache at once and queue
//! in the outbox; the sync engine sends them when it can. What changed comes
//! back as [`ClientEvent`]s. Cloning is cheap and every clone is the same client.

use parking_lot::Mutex;
use std::sync::Arc;

use herald_protocol::{
    text, Contact, ConversationId, ConversationKind, Counts, Cursor, FoundUser, HistoryQuery,
    KindFilter, LoginRequest, MessageId, Notification, NotificationId, User, UserSearchQuery,
    MAX_IDS_PER_REQUEST, MAX_MESSAGE_CHARS, MAX_PAGE_LIMIT,
};
use rusqlite::Transaction;
use tokio::sync::{broadcast, watch};

use crate::api::Api;
use crate::cache::chat;
use crate::cache::log::{self, EventLogPage};
use crate::cache::notifications::{self, NotificationFilter};
use crate::cache::outbox;
use crate::cache::search::{self, MessageHit, NotificationHit};
use crate::cache::tracker::Tracker;
use crate::cache::{self, meta, Cache};
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::events::{ClientEvent, ConnectionState, EventStream};
use crate::options::ClientOptions;
use crate::shared::{Shared, Status};
use crate::sync::engine::{self, Command, EngineHandle};
use crate::views::{Action, ChatMessage, ConversationSummary, MessageState};

/// Longest search text, in characters (local searches and the server's user
/// search alike).
pub use herald_protocol::MAX_SEARCH_CHARS;

/// Events a slow front end may fall behind by before it gets
/// [`ClientEvent::Lagged`] and has to re-query.
const EVENT_BUFFER: usize = 1024;

/// Where a chat message goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recipient {
    /// A direct message to this user (the conversation is created if needed).
    User(String),
    /// A conversation the cache knows: a direct one or a room.
    Conversation(ConversationId),
}

/// A handle to Herald's client core. See the [module docs](self).
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    shared: Arc<Shared>,
    /// The running sync engine, if connected (or trying to be).
    engine: Mutex<Option<EngineHandle>>,
    /// The login the engine runs with.
    credentials: Mutex<Option<Credentials>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(engine) = self.engine.lock().take() {
            engine.stop.cancel();
        }
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("cache", &self.inner.shared.cache)
            .field("state", &self.state())
            .finish()
    }
}

impl Client {
    /// Opens the cache; nothing touches the network until [`Client::login`] or
    /// [`Client::connect`], so a window can show cached data at once.
    pub async fn open(options: ClientOptions) -> Result<Self> {
        let path = options.cache_path.clone();
        let cache = tokio::task::spawn_blocking(move || match path {
            Some(path) => Cache::open(&path),
            None => Cache::open_in_memory(),
        })
        .await
        .map_err(|_| Error::Closed)??;
        let (counts, user, unsent) = cache
            .read_async(|conn| {
                Ok((
                    notifications::counts(conn)?,
                    meta::user(conn)?,
                    outbox::unsent(conn)?,
                ))
            })
            .await?;
        let (events, _) = broadcast::channel(EVENT_BUFFER);
        let status = watch::Sender::new(Status {
            state: ConnectionState::Offline {
                reason: "not connected".into(),
                retry_in_ms: None,
            },
            caught_up: false,
            unsent,
        });
        let shared = Arc::new(Shared {
            cache,
            options,
            events,
            status,
            counts: Mutex::new(counts),
            user: Mutex::new(user),
        });
        shared.purge().await?;
        Ok(Self {
            inner: Arc::new(Inner {
                shared,
                engine: Mutex::new(None),
                credentials: Mutex::new(None),
            }),
        })
    }

    fn shared(&self) -> &Arc<Shared> {
        &self.inner.shared
    }

    // ----- session -----

    /// Logs in with a password and starts syncing. Returns the login for the
    /// front end to keep (the desktop app puts it in the OS keyring) and pass to
    /// [`Client::connect`] next time.
    pub async fn login(
        &self,
        server: &str,
        username: &str,
        password: &str,
        device: &str,
    ) -> Result<Credentials> {
        let api = Api::new(server, None)?;
        let response = api
            .login(&LoginRequest {
                username: username.to_string(),
                password: password.to_string(),
                device: Some(device.to_string()),
            })
            .await?;
        let credentials = Credentials {
            server: api.server().to_string(),
            username: response.user.username.clone(),
            token: response.token,
        };
        self.connect(credentials.clone()).await?;
        self.shared().set_user(response.user);
        Ok(credentials)
    }

    /// Starts syncing with a saved login. Returns at once: the engine connects
    /// in the background (and keeps retrying); watch [`ClientEvent`]s or call
    /// [`Client::settled`]. A cache holding another account's data is emptied
    /// first. `username` may be empty when unknown (a token from the
    /// environment); the server's `hello` settles it.
    pub async fn connect(&self, credentials: Credentials) -> Result<()> {
        let api = Api::new(&credentials.server, Some(credentials.token.clone()))?;
        let credentials = Credentials {
            server: api.server().to_string(),
            ..credentials
        };
        self.stop_engine().await;
        let server = credentials.server.clone();
        let username = credentials.username.clone();
        let wiped = self
            .shared()
            .cache
            .write_async(move |tx| {
                let old_server: Option<String> = meta::get(tx, meta::SERVER)?;
                let old_user: Option<String> = meta::get(tx, meta::USERNAME)?;
                let other_server = old_server.is_some_and(|s| s != server);
                let other_user = !username.is_empty() && old_user.is_some_and(|u| u != username);
                if other_server || other_user {
                    cache::wipe(tx)?;
                }
                meta::set(tx, meta::SERVER, &server)?;
                if !username.is_empty() {
                    meta::set(tx, meta::USERNAME, &username)?;
                }
                Ok(other_server || other_user)
            })
            .await?;
        if wiped {
            *self.shared().user.lock() = None;
            self.shared().emit(ClientEvent::NotificationsReloaded);
            self.shared().change(false, |_, _| Ok(())).await?;
        }
        let handle = engine::spawn(self.shared().clone(), api);
        *self.inner.engine.lock() = Some(handle);
        *self.inner.credentials.lock() = Some(credentials);
        Ok(())
    }

    /// Stops syncing and keeps the cache (the app quits, or goes offline on purpose).
    pub async fn disconnect(&self) {
        self.stop_engine().await;
        self.shared().set_state(ConnectionState::Offline {
            reason: "disconnected".into(),
            retry_in_ms: None,
        });
    }

    /// Revokes the session on the server, stops syncing and empties the cache,
    /// including actions not sent yet. Returns whether the server revoked the
    /// token (it could not if unreachable; the local data is gone either way).
    pub async fn logout(&self) -> Result<bool> {
        self.stop_engine().await;
        let credentials = self.inner.credentials.lock().take();
        let revoked = match credentials {
            Some(c) => match Api::new(&c.server, Some(c.token))?.logout().await {
                Ok(()) => true,
                Err(Error::Unauthorized { .. }) => true,
                Err(Error::Unreachable { .. }) => false,
                Err(e) => return Err(e),
            },
            None => false,
        };
        self.shared()
            .change(false, |tx, _| {
                // Removed without events one by one: the window is about to close.
                cache::wipe(tx)
            })
            .await?;
        *self.shared().user.lock() = None;
        self.shared().emit(ClientEvent::NotificationsReloaded);
        self.shared().set_state(ConnectionState::Offline {
            reason: "logged out".into(),
            retry_in_ms: None,
        });
        Ok(revoked)
    }

    async fn stop_engine(&self) {
        let engine = self.inner.engine.lock().take();
        if let Some(engine) = engine {
            engine.stop.cancel();
            let _ = engine.task.await;
        }
    }

    fn command(&self, command: Command) {
        if let Some(engine) = self.inner.engine.lock().as_ref() {
            let _ = engine.commands.send(command);
        }
    }

    /// Drops the current connection (or the wait before the next attempt) and
    /// connects again now. Call it when the OS resumes from sleep or the network
    /// changes: the old socket is most likely dead, and waiting to notice costs
    /// up to a minute.
    pub fn reconnect_now(&self) {
        self.command(Command::ReconnectNow);
    }

    /// Reloads everything from the server on the current (or next) connection.
    pub fn resync(&self) {
        self.command(Command::Resync);
    }

    pub fn state(&self) -> ConnectionState {
        self.shared().status.borrow().state.clone()
    }

    /// The logged-in user as the server describes them (known after the first
    /// connection; remembered by the cache).
    pub fn user(&self) -> Option<User> {
        self.shared().user.lock().clone()
    }

    /// The login the client syncs with.
    pub fn credentials(&self) -> Option<Credentials> {
        self.inner.credentials.lock().clone()
    }

    /// A REST client for what the cache does not cover (sending, tokens, users).
    pub fn api(&self) -> Option<Api> {
        let credentials = self.credentials()?;
        Api::new(&credentials.server, Some(credentials.token)).ok()
    }

    /// A new subscription to [`ClientEvent`]s from now on.
    pub fn events(&self) -> EventStream {
        EventStream::new(self.shared().events.subscribe())
    }

    /// Waits until the client is online, caught up, and has sent everything in
    /// its outbox. (It may be out of date again a moment later; this is for
    /// tests and for a CLI that wants to exit with nothing left behind.)
    pub async fn settled(&self) {
        let mut status = self.shared().status.subscribe();
        let _ = status
            .wait_for(|s| s.state.is_online() && s.caught_up && s.unsent == 0)
            .await;
    }

    // ----- reads (from the cache) -----

    /// Notifications newest first, from the cache.
    pub async fn list(&self, filter: NotificationFilter) -> Result<Vec<Notification>> {
        self.shared()
            .cache
            .read_async(move |conn| notifications::list(conn, &filter))
            .await
    }

    /// One notification, if the user can see it.
    pub async fn get(&self, id: NotificationId) -> Result<Option<Notification>> {
        self.shared()
            .cache
            .read_async(move |conn| notifications::get(conn, id))
            .await
    }

    /// Unread counts (with pending actions already applied).
    pub async fn counts(&self) -> Result<Counts> {
        self.shared().cache.read_async(notifications::counts).await
    }

    /// Full-text search over cached titles and contents; best matches first.
    pub async fn search(&self, query: &str, limit: u32) -> Result<Vec<NotificationHit>> {
        let query = search_text(query, limit)?;
        self.shared()
            .cache
            .read_async(move |conn| search::notifications(conn, &query, limit))
            .await
    }

    /// The stream position the cache is at (`None` before the first sync).
    pub async fn cursor(&self) -> Result<Option<Cursor>> {
        self.shared().cache.read_async(meta::cursor).await
    }

    /// Actions not yet confirmed by the server.
    pub async fn pending_actions(&self) -> Result<usize> {
        self.shared().cache.read_async(outbox::unsent).await
    }

    /// Applied events after `position`, from the local event log.
    pub async fn events_after(&self, position: Cursor, limit: u32) -> Result<EventLogPage> {
        self.shared()
            .cache
            .read_async(move |conn| log::after(conn, position, limit))
            .await
    }

    // ----- actions (optimistic, queued) -----

    async fn queue<F>(&self, build: F) -> Result<()>
    where
        F: FnOnce(&Transaction, &mut Tracker) -> Result<Vec<Action>> + Send + 'static,
    {
        let me = self.shared().me();
        let queued = self
            .shared()
            .change(false, move |tx, tracker| {
                let actions = build(tx, tracker)?;
                for action in &actions {
                    outbox::push(tx, action)?;
                    cache::apply_local(tx, action, &me, tracker)?;
                }
                Ok(!actions.is_empty())
            })
            .await?;
        if queued {
            self.command(Command::Flush);
        }
        Ok(())
    }

    fn per_chunk(ids: &[NotificationId], make: fn(Vec<NotificationId>) -> Action) -> Vec<Action> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        ids.chunks(MAX_IDS_PER_REQUEST)
            .map(|chunk| make(chunk.to_vec()))
            .collect()
    }

    pub async fn mark_read(&self, ids: &[NotificationId]) -> Result<()> {
        let actions = Self::per_chunk(ids, |ids| Action::MarkRead { ids });
        self.queue(move |_, _| Ok(actions)).await
    }

    pub async fn mark_unread(&self, ids: &[NotificationId]) -> Result<()> {
        let actions = Self::per_chunk(ids, |ids| Action::MarkUnread { ids });
        self.queue(move |_, _| Ok(actions)).await
    }

    /// Marks read everything of `kind` the user can see now (see
    /// [`Action::MarkAllRead`] for what happens to what arrives meanwhile).
    pub async fn mark_all_read(&self, kind: KindFilter) -> Result<()> {
        self.queue(move |tx, _| {
            Ok(notifications::newest_id(tx)?
                .map(|up_to| Action::MarkAllRead { kind, up_to })
                .into_iter()
                .collect())
        })
        .await
    }

    pub async fn delete(&self, ids: &[NotificationId]) -> Result<()> {
        let actions = Self::per_chunk(ids, |ids| Action::Delete { ids });
        self.queue(move |_, _| Ok(actions)).await
    }

    // ----- chat -----

    /// The conversation list, most recent first (from the cache).
    pub async fn conversations(&self) -> Result<Vec<ConversationSummary>> {
        self.shared().cache.read_async(chat::conversations).await
    }

    pub async fn conversation(&self, id: ConversationId) -> Result<Option<ConversationSummary>> {
        self.shared()
            .cache
            .read_async(move |conn| chat::conversation(conn, id))
            .await
    }

    /// Messages of a conversation, newest first, older than `before` (or the
    /// newest, with messages not delivered yet first). Scrolling back past what
    /// the cache holds fetches the older page from the server when online;
    /// offline it returns what the cache has.
    pub async fn history(
        &self,
        conversation_id: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>> {
        let cache = &self.shared().cache;
        let cached = cache
            .read_async(move |conn| chat::history(conn, conversation_id, before, limit))
            .await?;
        if cached.len() >= limit as usize {
            return Ok(cached);
        }
        let Some(api) = self.api().filter(|_| self.state().is_online()) else {
            return Ok(cached);
        };
        let oldest = cache
            .read_async(move |conn| chat::oldest_id(conn, conversation_id))
            .await?;
        let from = match (before, oldest) {
            (Some(b), Some(o)) => Some(b.min(o)),
            (b, o) => b.or(o),
        };
        let query = HistoryQuery {
            before: from,
            after: None,
            limit: Some(limit.clamp(1, MAX_PAGE_LIMIT)),
        };
        let page = api.history(conversation_id, &query).await?;
        if !page.items.is_empty() {
            self.shared()
                .change(false, move |tx, tracker| {
                    for message in &page.items {
                        chat::upsert_message(tx, message, tracker)?;
                    }
                    Ok(())
                })
                .await?;
        }
        cache
            .read_async(move |conn| chat::history(conn, conversation_id, before, limit))
            .await
    }

    /// Writes a message: it shows in its conversation at once (pending) and is
    /// delivered by the outbox, exactly once, when the server is reachable.
    pub async fn send_message(&self, to: Recipient, content: &str) -> Result<ChatMessage> {
        // The server's rules, checked before the outbox takes a message it
        // would refuse on every retry.
        text::multi_line("message", content, MAX_MESSAGE_CHARS)?;
        text::not_blank("message", content)?;
        let me = self.shared().me();
        let content = content.to_string();
        let local_id = self
            .shared()
            .change(true, move |tx, tracker| {
                write_message(tx, tracker, &me, to, content)
            })
            .await?;
        self.sent(local_id).await
    }

    /// Sends a message the server refused (state `failed`) once more: it is
    /// written again as a new pending message in its place, as if just typed
    /// (the server may accept it now: the peer's account is back, the sender
    /// was added to the room again).
    pub async fn retry_failed(&self, local_id: i64) -> Result<ChatMessage> {
        let me = self.shared().me();
        let local_id = self
            .shared()
            .change(true, move |tx, tracker| {
                let failed = chat::message(tx, local_id)?
                    .filter(|m| m.state == MessageState::Failed)
                    .ok_or_else(|| Error::NotFound {
                        message: "that message is not waiting to be sent again".into(),
                    })?;
                let to = match (failed.conversation_id, failed.peer) {
                    (Some(conversation), _) => Recipient::Conversation(conversation),
                    (None, Some(peer)) => Recipient::User(peer),
                    (None, None) => {
                        return Err(Error::NotFound {
                            message: "that message has no recipient".into(),
                        })
                    }
                };
                chat::discard_unsent(tx, local_id, tracker)?;
                write_message(tx, tracker, &me, to, failed.content)
            })
            .await?;
        self.sent(local_id).await
    }

    /// A message just written, after asking the engine to send it.
    async fn sent(&self, local_id: i64) -> Result<ChatMessage> {
        self.command(Command::Flush);
        self.shared()
            .cache
            .read_async(move |conn| chat::message(conn, local_id))
            .await?
            .ok_or(Error::Closed)
    }

    /// Marks a conversation read up to its newest message.
    pub async fn mark_conversation_read(&self, conversation_id: ConversationId) -> Result<()> {
        self.queue(move |tx, _| {
            let known = chat::conversation(tx, conversation_id)?;
            Ok(known
                .and_then(|c| {
                    c.last_message
                        .and_then(|m| m.id)
                        .filter(|&id| id > c.read_up_to)
                })
                .map(|up_to| Action::ReadConversation {
                    conversation_id,
                    up_to,
                })
                .into_iter()
                .collect())
        })
        .await
    }

    /// Deletes chat messages: one's own for everyone, others' for oneself (or
    /// as `for_everyone` says, like the server's `DELETE /messages`).
    pub async fn delete_messages(
        &self,
        ids: &[MessageId],
        for_everyone: Option<bool>,
    ) -> Result<()> {
        let mut ids = ids.to_vec();
        ids.sort_unstable();
        ids.dedup();
        let actions: Vec<Action> = ids
            .chunks(MAX_IDS_PER_REQUEST)
            .map(|chunk| Action::DeleteMessages {
                ids: chunk.to_vec(),
                for_everyone,
            })
            .collect();
        self.queue(move |_, _| Ok(actions)).await
    }

    /// Removes a message the server refused (state `failed`) from the cache;
    /// false when there was no such message (sent meanwhile, or already gone).
    pub async fn discard_failed(&self, local_id: i64) -> Result<bool> {
        self.shared()
            .change(false, move |tx, tracker| {
                chat::discard_unsent(tx, local_id, tracker)
            })
            .await
    }

    /// Contacts with their presence, from the cache.
    pub async fn contacts(&self) -> Result<Vec<Contact>> {
        self.shared().cache.read_async(chat::contacts).await
    }

    /// Adds a contact (online only: the server answers with their presence).
    pub async fn add_contact(&self, username: &str) -> Result<Contact> {
        let api = self.api().ok_or(Error::NotLoggedIn)?;
        let contact = api.add_contact(username).await?;
        self.reload_contacts(&api).await?;
        Ok(contact)
    }

    /// Removes a contact (online only).
    pub async fn remove_contact(&self, username: &str) -> Result<()> {
        let api = self.api().ok_or(Error::NotLoggedIn)?;
        api.remove_contact(username).await?;
        self.reload_contacts(&api).await
    }

    /// Users whose username or display name starts with `query`, each saying
    /// whether they are already a contact (online only: the directory is the
    /// server's, not cached).
    pub async fn search_users(&self, query: &str, limit: u32) -> Result<Vec<FoundUser>> {
        let query = search_text(query, limit)?;
        let api = self.api().ok_or(Error::NotLoggedIn)?;
        api.search_users(&UserSearchQuery {
            q: Some(query),
            limit: Some(limit),
        })
        .await
    }

    async fn reload_contacts(&self, api: &Api) -> Result<()> {
        let contacts = api.contacts().await?;
        self.shared()
            .change(false, move |tx, tracker| {
                chat::replace_contacts(tx, &contacts, tracker)
            })
            .await
    }

    /// Full-text search over cached chat messages; best matches first.
    pub async fn search_messages(&self, query: &str, limit: u32) -> Result<Vec<MessageHit>> {
        let query = search_text(query, limit)?;
        self.shared()
            .cache
            .read_async(move |conn| search::messages(conn, &query, limit))
            .await
    }
}

/// Stores a message written here as pending and queues it in the outbox, in the
/// caller's transaction; its local id.
fn write_message(
    tx: &Transaction<'_>,
    tracker: &mut Tracker,
    me: &str,
    to: Recipient,
    content: String,
) -> Result<i64> {
    let (conversation, to, room) = match to {
        Recipient::User(name) => (chat::direct_with(tx, &name)?, Some(name), None),
        Recipient::Conversation(id) => {
            let known = chat::conversation(tx, id)?.ok_or_else(|| Error::NotFound {
                message: format!("conversation {id} not found"),
            })?;
            match known.kind {
                ConversationKind::Room => (Some(id), None, Some(id)),
                ConversationKind::Direct => {
                    let peer = known.peer.map(|p| p.username).unwrap_or(known.title);
                    (Some(id), Some(peer), None)
                }
            }
        }
    };
    let peer = to.clone().filter(|_| conversation.is_none());
    let client_id = new_client_id();
    let local_id = chat::insert_pending(
        tx,
        conversation,
        peer.as_deref(),
        me,
        &client_id,
        &content,
        tracker,
    )?;
    outbox::push(
        tx,
        &Action::SendMessage {
            client_id,
            to,
            room,
            content,
        },
    )?;
    Ok(local_id)
}

/// The trimmed text of a search. An empty one is refused rather than answered
/// with everything, and a very long one is a paste accident, not a search.
fn search_text(query: &str, limit: u32) -> Result<String> {
    let query = query.trim();
    if query.is_empty() {
        return Err(Error::Usage("type something to search for".into()));
    }
    if query.chars().count() > MAX_SEARCH_CHARS {
        return Err(Error::Usage(format!(
            "a search is at most {MAX_SEARCH_CHARS} characters"
        )));
    }
    if !(1..=MAX_PAGE_LIMIT).contains(&limit) {
        return Err(Error::Usage(format!(
            "a search returns between 1 and {MAX_PAGE_LIMIT} results"
        )));
    }
    Ok(query.to_string())
}

/// A fresh idempotency key for a message: 128 random bits, hex.
fn new_client_id() -> String {
    use rand::Rng;
    let bits: u128 = rand::rng().random();
    format!("{bits:032x}")
}
