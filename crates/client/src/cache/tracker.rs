//! Turns what a transaction did to the cache into [`ClientEvent`]s.
//!
//! Writers call `touch_*` before they change a row; the tracker remembers how
//! the row looked to the user then. [`Tracker::finish`] compares with how it
//! looks at the end, so a row that was hidden and shown again in one transaction
//! (an event applied, then a pending delete re-applied) produces no event at all.

use std::collections::btree_map::{BTreeMap, Entry};

use herald_protocol::{ConversationId, NotificationId};
use rusqlite::{Connection, OptionalExtension};

use super::chat;
use super::notifications;
use crate::error::Result;
use crate::events::ClientEvent;
use crate::views::{ChatMessage, ConversationSummary};

/// More changed rows than this (of one kind) become one "reload" event: a
/// window re-queries faster than it applies hundreds of single changes, and a
/// broadcast channel would drop most of them anyway.
const RELOAD_THRESHOLD: usize = 200;

/// Before-images of the rows one transaction touched.
pub(crate) struct Tracker {
    /// Notification id → `None` when not visible, else its read flag.
    notifications: BTreeMap<NotificationId, Option<bool>>,
    /// Conversation id → the list entry as it was.
    conversations: BTreeMap<ConversationId, Option<ConversationSummary>>,
    /// Message local id → the message as it was (`None`: not visible).
    messages: BTreeMap<i64, Option<ChatMessage>>,
    /// The contact list was rewritten.
    contacts: bool,
    /// Whether additions arrived live (see [`ClientEvent::NotificationAdded`]).
    live: bool,
}

impl Tracker {
    pub(crate) fn new(live: bool) -> Self {
        Self {
            notifications: BTreeMap::new(),
            conversations: BTreeMap::new(),
            messages: BTreeMap::new(),
            contacts: false,
            live,
        }
    }

    /// Records how notification `id` looks now, unless this transaction already did.
    pub(crate) fn touch(&mut self, conn: &Connection, id: NotificationId) -> Result<()> {
        if let Entry::Vacant(slot) = self.notifications.entry(id) {
            slot.insert(visible(conn, id)?);
        }
        Ok(())
    }

    pub(crate) fn touch_conversation(
        &mut self,
        conn: &Connection,
        id: ConversationId,
    ) -> Result<()> {
        if let Entry::Vacant(slot) = self.conversations.entry(id) {
            slot.insert(chat::conversation(conn, id)?);
        }
        Ok(())
    }

    pub(crate) fn touch_message(&mut self, conn: &Connection, local_id: i64) -> Result<()> {
        if let Entry::Vacant(slot) = self.messages.entry(local_id) {
            slot.insert(chat::message(conn, local_id)?);
        }
        Ok(())
    }

    /// A message row that did not exist before this transaction.
    pub(crate) fn touch_message_new(&mut self, local_id: i64) {
        self.messages.entry(local_id).or_insert(None);
    }

    pub(crate) fn touch_contacts(&mut self) {
        self.contacts = true;
    }

    /// The events describing every difference between before and now.
    pub(crate) fn finish(self, conn: &Connection) -> Result<Vec<ClientEvent>> {
        let mut events = self.notification_events(conn)?;
        events.extend(self.chat_events(conn)?);
        if self.contacts {
            events.push(ClientEvent::ContactsChanged {
                contacts: chat::contacts(conn)?,
            });
        }
        Ok(events)
    }

    fn notification_events(&self, conn: &Connection) -> Result<Vec<ClientEvent>> {
        let mut events = Vec::new();
        for (&id, &before) in &self.notifications {
            let after = visible(conn, id)?;
            if before == after {
                continue;
            }
            if events.len() == RELOAD_THRESHOLD {
                return Ok(vec![ClientEvent::NotificationsReloaded]);
            }
            let event = match (before, after) {
                (_, None) => ClientEvent::NotificationRemoved { id },
                (None, Some(_)) => match notifications::get(conn, id)? {
                    Some(notification) => ClientEvent::NotificationAdded {
                        notification,
                        live: self.live,
                    },
                    None => continue,
                },
                (Some(_), Some(_)) => match notifications::get(conn, id)? {
                    Some(notification) => ClientEvent::NotificationChanged { notification },
                    None => continue,
                },
            };
            events.push(event);
        }
        Ok(events)
    }

    fn chat_events(&self, conn: &Connection) -> Result<Vec<ClientEvent>> {
        let mut events = Vec::new();
        for (&local_id, before) in &self.messages {
            let after = chat::message(conn, local_id)?;
            if *before == after {
                continue;
            }
            events.push(match (before, after) {
                (Some(gone), None) => ClientEvent::MessageRemoved {
                    local_id,
                    id: gone.id,
                    conversation_id: gone.conversation_id,
                },
                (None, Some(message)) => ClientEvent::MessageAdded {
                    message,
                    live: self.live,
                },
                (Some(_), Some(message)) => ClientEvent::MessageChanged { message },
                (None, None) => continue,
            });
        }
        for (&id, before) in &self.conversations {
            let after = chat::conversation(conn, id)?;
            if *before == after {
                continue;
            }
            events.push(match after {
                Some(conversation) => ClientEvent::ConversationChanged {
                    conversation: Box::new(conversation),
                },
                None => ClientEvent::ConversationRemoved { id },
            });
        }
        if events.len() > RELOAD_THRESHOLD {
            return Ok(vec![ClientEvent::ChatReloaded]);
        }
        Ok(events)
    }
}

/// `None` when the user does not see `id` (absent, or deleted here), else its read flag.
fn visible(conn: &Connection, id: NotificationId) -> Result<Option<bool>> {
    let row: Option<(bool, bool)> = conn
        .prepare_cached("SELECT read, hidden FROM notifications WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?;
    Ok(row.and_then(|(read, hidden)| (!hidden).then_some(read)))
}
