//! What the client tells its front ends: connection state and changes to the
//! cached data, as one stream of [`ClientEvent`]s.
//!
//! Every decision a front end would otherwise have to make (is this unread? did
//! the badge change? should this pop up?) is made before an event is sent, so
//! the desktop shell only forwards events to its window and tray. Events are
//! serializable (`{"type":"counts_changed","counts":{…}}`) for exactly that.

use herald_protocol::{
    Contact, ConversationId, Counts, Cursor, MessageId, Notification, NotificationId,
};
use serde::Serialize;
use tokio::sync::broadcast;
use utoipa::ToSchema;

use crate::views::{Action, ChatMessage, ConversationSummary};

/// Whether the client is talking to the server, as the tray icon shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ConnectionState {
    /// A connection attempt is under way (first connect or reconnect).
    Connecting,
    /// Connected: live events arrive as they happen. Right after a connect the
    /// engine may still be catching up; [`ClientEvent::CaughtUp`] says when not.
    Online,
    /// Not connected. `retry_in_ms` is when the next attempt starts (`None`: no
    /// attempt is scheduled, e.g. before login or after logout).
    Offline {
        reason: String,
        retry_in_ms: Option<u64>,
    },
    /// The server refused the token (revoked, expired, user disabled). Retrying
    /// cannot help: the user has to log in again.
    AuthFailed { message: String },
}

impl ConnectionState {
    pub fn is_online(&self) -> bool {
        matches!(self, ConnectionState::Online)
    }
}

/// One change a front end may want to show.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientEvent {
    /// The connection state changed (grey the tray icon when not online).
    ConnectionChanged { state: ConnectionState },
    /// Everything the server had when this connection started is applied: the
    /// cache is current as of `cursor`. Sent once per connection.
    CaughtUp { cursor: Cursor },
    /// Unread counts changed (the badge). Counts are derived from the cache, so
    /// they always agree with what [`crate::Client::list`] returns.
    CountsChanged { counts: Counts },
    /// A notification became visible. `live` is true when it arrived while
    /// connected (pop it up if the user wants that), false when it came from a
    /// catch-up or reload (just list it).
    NotificationAdded {
        notification: Notification,
        live: bool,
    },
    /// A visible notification changed (its read state).
    NotificationChanged { notification: Notification },
    /// A notification is gone (deleted here or elsewhere, or expired).
    NotificationRemoved { id: NotificationId },
    /// Too much changed at once to describe item by item (a full reload, a large
    /// "mark all read"): re-query what is on screen.
    NotificationsReloaded,
    /// Raise a native popup now: a DESKTOP notification arrived live. `id` is
    /// `None` for ephemeral pushes that were never stored.
    DesktopPopup {
        title: String,
        content: String,
        link: Option<String>,
        priority: u8,
        id: Option<NotificationId>,
    },
    /// A chat message became visible: received, written here (pending), or
    /// loaded by a catch-up (`live` as for notifications).
    MessageAdded { message: ChatMessage, live: bool },
    /// A message changed: delivered (it now has its server id) or failed.
    MessageChanged { message: ChatMessage },
    /// A message is gone (deleted by its sender, hidden here, or expired).
    MessageRemoved {
        local_id: i64,
        id: Option<MessageId>,
        conversation_id: Option<ConversationId>,
    },
    /// A conversation's list entry changed (new last message, unread count,
    /// read receipt, room name or members).
    ConversationChanged {
        conversation: Box<ConversationSummary>,
    },
    /// The user left a room (or the conversation is gone after a reload).
    ConversationRemoved { id: ConversationId },
    /// Too much of chat changed at once: re-query conversations and history.
    ChatReloaded,
    /// The contact list was reloaded.
    ContactsChanged { contacts: Vec<Contact> },
    /// A contact went on- or offline.
    Presence { user: String, online: bool },
    /// The server refused an action taken here (the optimistic change has been
    /// undone); `message` is the server's sentence for the user. (`action` is
    /// the outbox's record of it; front ends show `message`.)
    ActionRefused {
        #[schema(value_type = Object)]
        action: Action,
        message: String,
    },
    /// Stream events up to `cursor` were applied and appended to the local event
    /// log ([`crate::Client::events_after`]).
    EventsApplied { cursor: Cursor },
    /// This receiver fell behind and `missed` events were dropped: re-query
    /// everything on screen.
    Lagged { missed: u64 },
}

/// A front end's subscription to [`ClientEvent`]s.
///
/// Backed by a bounded broadcast channel so a stalled window can never stall
/// sync; a receiver that falls behind gets [`ClientEvent::Lagged`] instead of
/// the events it missed.
pub struct EventStream {
    /// The shared channel; every front end holds its own receiver.
    rx: broadcast::Receiver<ClientEvent>,
}

impl EventStream {
    pub(crate) fn new(rx: broadcast::Receiver<ClientEvent>) -> Self {
        Self { rx }
    }

    /// The next event; `None` once the client is gone.
    pub async fn recv(&mut self) -> Option<ClientEvent> {
        match self.rx.recv().await {
            Ok(event) => Some(event),
            Err(broadcast::error::RecvError::Lagged(missed)) => {
                Some(ClientEvent::Lagged { missed })
            }
            Err(broadcast::error::RecvError::Closed) => None,
        }
    }

    /// The next event if one is ready, without waiting.
    pub fn try_recv(&mut self) -> Option<ClientEvent> {
        match self.rx.try_recv() {
            Ok(event) => Some(event),
            Err(broadcast::error::TryRecvError::Lagged(missed)) => {
                Some(ClientEvent::Lagged { missed })
            }
            Err(_) => None,
        }
    }
}
