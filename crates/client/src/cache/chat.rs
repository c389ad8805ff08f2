//! Chat rows: contacts, conversations and recent messages.
//!
//! As with notifications, conversations carry two layers: `server_unread` and
//! `server_read_up_to` follow the server (events and reloads), `unread_count`
//! and `read_up_to` are what the user sees with pending read marks applied.
//! Messages written here live in the table from the moment they are written
//! (`state = 'pending'`), so the conversation shows them at once; the server's
//! `message.created` with the same `client_id` turns them into sent messages.

use std::collections::HashSet;

use herald_protocol::{
    Contact, Conversation, ConversationId, ConversationKind, Event, Message, MessageId, Room, User,
};
use rusqlite::{Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

use super::notifications::{from_millis, to_millis};
use super::tracker::Tracker;
use crate::error::{Error, Result};
use crate::unread;
use crate::views::{Action, ChatMessage, ConversationSummary, MessageState};

impl MessageState {
    fn parse(s: &str) -> Self {
        match s {
            "pending" => MessageState::Pending,
            "failed" => MessageState::Failed,
            _ => MessageState::Sent,
        }
    }
}

/// What the server said about the peer or room, kept as JSON.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
struct Details {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    peer: Option<User>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    room: Option<Room>,
}

/// Everything a chat reload fetched.
#[derive(Debug, Clone, Default)]
pub(crate) struct ChatSnapshot {
    pub conversations: Vec<Conversation>,
    /// Recent messages of (the most recent) conversations.
    pub messages: Vec<Message>,
    pub contacts: Vec<Contact>,
}

const MESSAGE_COLUMNS: &str =
    "local_id, id, conversation_id, peer, sender, content, client_id, created_at, state";

pub(crate) fn message_from_row(row: &Row<'_>) -> rusqlite::Result<ChatMessage> {
    let state: String = row.get(8)?;
    Ok(ChatMessage {
        local_id: row.get(0)?,
        id: row.get(1)?,
        conversation_id: row.get(2)?,
        peer: row.get(3)?,
        sender: row.get(4)?,
        content: row.get(5)?,
        client_id: row.get(6)?,
        created_at: from_millis(row.get(7)?),
        state: MessageState::parse(&state),
    })
}

fn title_of(conversation: &Conversation) -> String {
    match (&conversation.room, &conversation.peer) {
        (Some(room), _) => room.name.clone(),
        (None, Some(peer)) => peer.username.clone(),
        (None, None) => String::new(),
    }
}

// ----- reads -----------------------------------------------------------------

pub(crate) fn message(conn: &Connection, local_id: i64) -> Result<Option<ChatMessage>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages WHERE local_id = ?1 AND hidden = 0"
        ))?
        .query_row([local_id], message_from_row)
        .optional()?)
}

fn local_id_of(conn: &Connection, id: MessageId) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT local_id FROM messages WHERE id = ?1")?
        .query_row([id], |r| r.get(0))
        .optional()?)
}

pub(crate) fn conversation(
    conn: &Connection,
    id: ConversationId,
) -> Result<Option<ConversationSummary>> {
    let row = conn
        .prepare_cached(
            "SELECT id, kind, title, unread_count, read_up_to, peer_read_up_to,
                    last_message_id, last_time, data
             FROM conversations WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok((
                r.get::<_, i64>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?,
                r.get::<_, i64>(4)?,
                r.get::<_, Option<i64>>(5)?,
                r.get::<_, Option<i64>>(6)?,
                r.get::<_, i64>(7)?,
                r.get::<_, String>(8)?,
            ))
        })
        .optional()?;
    let Some((id, kind, title, unread, read_up_to, peer_read, last_id, last_time, data)) = row
    else {
        return Ok(None);
    };
    let details: Details = serde_json::from_str(&data)
        .map_err(|e| Error::CacheCorrupt(format!("conversation {id}: {e}")))?;
    let last_message = match last_id.and_then(|m| local_id_of(conn, m).transpose()) {
        Some(local) => message(conn, local?)?,
        None => None,
    };
    Ok(Some(ConversationSummary {
        id,
        kind: ConversationKind::parse(&kind)
            .ok_or_else(|| Error::CacheCorrupt(format!("conversation {id} has kind {kind:?}")))?,
        title,
        peer: details.peer,
        room: details.room,
        unread_count: unread,
        read_up_to,
        peer_read_up_to: peer_read,
        last_message,
        last_time: from_millis(last_time),
    }))
}

/// The conversation list, most recent first.
pub(crate) fn conversations(conn: &Connection) -> Result<Vec<ConversationSummary>> {
    let ids: Vec<ConversationId> = conn
        .prepare_cached("SELECT id FROM conversations ORDER BY last_time DESC, id DESC")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut list = Vec::with_capacity(ids.len());
    for id in ids {
        list.extend(conversation(conn, id)?);
    }
    Ok(list)
}

/// Cached history, newest first; messages not delivered yet come first.
pub(crate) fn history(
    conn: &Connection,
    conversation: ConversationId,
    before: Option<MessageId>,
    limit: u32,
) -> Result<Vec<ChatMessage>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM messages
             WHERE conversation_id = ?1 AND hidden = 0
               AND (?2 IS NULL AND id IS NULL OR id < coalesce(?2, 9223372036854775807))
             ORDER BY id IS NULL DESC, id DESC, local_id DESC LIMIT ?3"
        ))?
        .query_map((conversation, before, limit), message_from_row)?
        .collect::<rusqlite::Result<_>>()?)
}

/// The oldest cached message id of a conversation (where scroll-back continues).
pub(crate) fn oldest_id(
    conn: &Connection,
    conversation: ConversationId,
) -> Result<Option<MessageId>> {
    Ok(conn
        .prepare_cached("SELECT min(id) FROM messages WHERE conversation_id = ?1")?
        .query_row([conversation], |r| r.get(0))?)
}

/// The direct conversation with `peer`, if the cache knows it.
pub(crate) fn direct_with(conn: &Connection, peer: &str) -> Result<Option<ConversationId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM conversations WHERE kind = 'direct' AND title = ?1")?
        .query_row([peer], |r| r.get(0))
        .optional()?)
}

pub(crate) fn contacts(conn: &Connection) -> Result<Vec<Contact>> {
    let rows: Vec<(String, bool)> = conn
        .prepare_cached("SELECT data, online FROM contacts ORDER BY username")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    rows.into_iter()
        .map(|(data, online)| {
            let mut contact: Contact = serde_json::from_str(&data)
                .map_err(|e| Error::CacheCorrupt(format!("contact: {e}")))?;
            contact.online = online;
            Ok(contact)
        })
        .collect()
}

// ----- the server layer ----------------------------------------------------------

/// Stores a message the server sent. A pending message with the same
/// `client_id` becomes it. Returns whether the message is new here.
pub(crate) fn upsert_message(
    conn: &Connection,
    m: &Message,
    tracker: &mut Tracker,
) -> Result<bool> {
    if local_id_of(conn, m.id)?.is_some() {
        return Ok(false);
    }
    let pending: Option<i64> = conn
        .prepare_cached(
            "SELECT local_id FROM messages
             WHERE id IS NULL AND client_id = ?1 AND sender IS ?2",
        )?
        .query_row((&m.client_id, &m.sender), |r| r.get(0))
        .optional()?;
    if let Some(local_id) = pending {
        tracker.touch_message(conn, local_id)?;
        conn.prepare_cached(
            "UPDATE messages SET id = ?2, conversation_id = ?3, created_at = ?4,
                    state = 'sent', peer = NULL
             WHERE local_id = ?1",
        )?
        .execute((local_id, m.id, m.conversation_id, to_millis(m.created_at)))?;
        return Ok(false);
    }
    conn.prepare_cached(
        "INSERT INTO messages (id, conversation_id, client_id, sender, content, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
    )?
    .execute((
        m.id,
        m.conversation_id,
        &m.client_id,
        &m.sender,
        &m.content,
        to_millis(m.created_at),
    ))?;
    tracker.touch_message_new(conn.last_insert_rowid());
    Ok(true)
}

/// A message of `me`'s own does not count as unread.
fn conversation_exists(conn: &Connection, id: ConversationId) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT 1 FROM conversations WHERE id = ?1")?
        .query_row([id], |_| Ok(()))
        .optional()?
        .is_some())
}

/// Stores a conversation as the server listed it (both layers).
fn upsert_conversation(conn: &Connection, c: &Conversation, tracker: &mut Tracker) -> Result<()> {
    tracker.touch_conversation(conn, c.id)?;
    let details = serde_json::to_string(&Details {
        peer: c.peer.clone(),
        room: c.room.clone(),
    })
    .expect("conversation details always serialize");
    conn.prepare_cached(
        "INSERT INTO conversations
            (id, kind, title, server_unread, unread_count, server_read_up_to, read_up_to,
             peer_read_up_to, last_message_id, last_time, data)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT (id) DO UPDATE SET
            kind = excluded.kind, title = excluded.title,
            server_unread = excluded.server_unread, server_read_up_to = excluded.server_read_up_to,
            peer_read_up_to = excluded.peer_read_up_to, last_message_id = excluded.last_message_id,
            last_time = excluded.last_time, data = excluded.data",
    )?
    .execute((
        c.id,
        c.kind.as_str(),
        title_of(c),
        c.unread_count,
        c.read_up_to,
        c.peer_read_up_to,
        c.last_message.as_ref().map(|m| m.id),
        to_millis(c.last_time),
        details,
    ))?;
    Ok(())
}

fn forget_conversation(conn: &Connection, id: ConversationId, tracker: &mut Tracker) -> Result<()> {
    tracker.touch_conversation(conn, id)?;
    let locals: Vec<i64> = conn
        .prepare_cached(
            "SELECT local_id FROM messages WHERE conversation_id = ?1 AND id IS NOT NULL",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for local_id in locals {
        tracker.touch_message(conn, local_id)?;
    }
    conn.prepare_cached("DELETE FROM messages WHERE conversation_id = ?1 AND id IS NOT NULL")?
        .execute([id])?;
    conn.prepare_cached("DELETE FROM conversations WHERE id = ?1")?
        .execute([id])?;
    Ok(())
}

/// Unread messages from others after `after`, as far as the cache holds them:
/// the rule of [`unread::is_unread`], in SQL.
fn count_unread(
    conn: &Connection,
    id: ConversationId,
    after: MessageId,
    me: &str,
    visible_only: bool,
) -> Result<i64> {
    Ok(conn
        .prepare_cached(
            "SELECT count(*) FROM messages
             WHERE conversation_id = ?1 AND id > ?2 AND sender IS NOT ?3
               AND (?4 = 0 OR hidden = 0)",
        )?
        .query_row((id, after, me, visible_only), |r| r.get(0))?)
}

/// What applying a chat event found out that needs the network.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct Effect {
    /// A message arrived for a conversation the cache does not know: the list
    /// should be fetched for its details (peer, room).
    pub unknown_conversation: bool,
}

/// Applies one chat event to the server layer; idempotent like notification
/// events. `me` is the user's name (own messages are never unread).
pub(crate) fn apply_event(
    conn: &Connection,
    event: &Event,
    me: &str,
    tracker: &mut Tracker,
) -> Result<Effect> {
    let mut effect = Effect::default();
    match event {
        Event::MessageCreated { message: m } => {
            let new = upsert_message(conn, m, tracker)?;
            if !conversation_exists(conn, m.conversation_id)? {
                effect.unknown_conversation = true;
                let title = m.sender.as_deref().filter(|s| *s != me).unwrap_or_default();
                conn.prepare_cached(
                    "INSERT INTO conversations (id, kind, title, last_time) VALUES (?1, 'direct', ?2, ?3)",
                )?
                .execute((m.conversation_id, title, to_millis(m.created_at)))?;
            }
            tracker.touch_conversation(conn, m.conversation_id)?;
            let read_up_to: MessageId = conn
                .prepare_cached("SELECT server_read_up_to FROM conversations WHERE id = ?1")?
                .query_row([m.conversation_id], |r| r.get(0))?;
            // Counted once, when the cache first hears of it (a late replay of a
            // known message is not new).
            let unread = new && unread::is_unread(m.sender.as_deref(), me, m.id, read_up_to);
            conn.prepare_cached(
                "UPDATE conversations SET
                    last_message_id = max(coalesce(last_message_id, 0), ?2),
                    last_time = max(last_time, ?3),
                    server_unread = server_unread + ?4
                 WHERE id = ?1",
            )?
            .execute((
                m.conversation_id,
                m.id,
                to_millis(m.created_at),
                i64::from(unread),
            ))?;
        }
        Event::MessagesDeleted {
            conversation_id,
            ids,
        } => {
            tracker.touch_conversation(conn, *conversation_id)?;
            for &id in ids {
                let Some(local_id) = local_id_of(conn, id)? else {
                    continue;
                };
                tracker.touch_message(conn, local_id)?;
                let (sender, read_up_to): (Option<String>, MessageId) = conn
                    .prepare_cached(
                        "SELECT m.sender, c.server_read_up_to FROM messages m
                         JOIN conversations c ON c.id = m.conversation_id
                         WHERE m.local_id = ?1",
                    )?
                    .query_row([local_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
                if unread::is_unread(sender.as_deref(), me, id, read_up_to) {
                    conn.prepare_cached(
                        "UPDATE conversations SET server_unread = max(0, server_unread - 1)
                         WHERE id = ?1",
                    )?
                    .execute([conversation_id])?;
                }
                conn.prepare_cached("DELETE FROM messages WHERE local_id = ?1")?
                    .execute([local_id])?;
            }
            // The newest message may be gone: the newest one left takes its place.
            conn.prepare_cached(
                "UPDATE conversations SET last_message_id =
                   (SELECT max(id) FROM messages WHERE conversation_id = ?1)
                 WHERE id = ?1 AND last_message_id NOT IN
                   (SELECT id FROM messages WHERE conversation_id = ?1 AND id IS NOT NULL)",
            )?
            .execute([conversation_id])?;
        }
        Event::ConversationRead {
            conversation_id,
            user,
            up_to,
        } => {
            tracker.touch_conversation(conn, *conversation_id)?;
            if user == me {
                let read: Option<MessageId> = conn
                    .prepare_cached(
                        "UPDATE conversations SET server_read_up_to = max(server_read_up_to, ?2)
                         WHERE id = ?1 RETURNING server_read_up_to",
                    )?
                    .query_row((conversation_id, up_to), |r| r.get(0))
                    .optional()?;
                if let Some(read) = read {
                    let unread = count_unread(conn, *conversation_id, read, me, false)?;
                    conn.prepare_cached(
                        "UPDATE conversations SET server_unread = min(server_unread, ?2) WHERE id = ?1",
                    )?
                    .execute((conversation_id, unread))?;
                }
            } else {
                conn.prepare_cached(
                    "UPDATE conversations SET peer_read_up_to = max(coalesce(peer_read_up_to, 0), ?2)
                     WHERE id = ?1",
                )?
                .execute((conversation_id, up_to))?;
            }
        }
        Event::RoomUpdated { room } => {
            tracker.touch_conversation(conn, room.id)?;
            let details = serde_json::to_string(&Details {
                peer: None,
                room: Some(room.clone()),
            })
            .expect("rooms always serialize");
            conn.prepare_cached(
                "INSERT INTO conversations (id, kind, title, last_time, data)
                 VALUES (?1, 'room', ?2, ?3, ?4)
                 ON CONFLICT (id) DO UPDATE SET kind = 'room', title = excluded.title,
                    data = excluded.data",
            )?
            .execute((room.id, &room.name, to_millis(room.created_at), details))?;
        }
        Event::RoomMemberAdded { room_id, user } => change_room(conn, *room_id, tracker, |room| {
            if let Err(at) = room.members.binary_search(user) {
                room.members.insert(at, user.clone());
            }
        })?,
        Event::RoomMemberRemoved {
            room_id,
            user,
            owner,
        } => change_room(conn, *room_id, tracker, |room| {
            room.members.retain(|member| member != user);
            room.owner = owner.clone();
        })?,
        Event::RoomLeft { room_id } => forget_conversation(conn, *room_id, tracker)?,
        _ => {}
    }
    Ok(effect)
}

/// Applies a member change to a cached room. Idempotent (a member added twice
/// is there once), so a replay that overlaps what a reload brought changes
/// nothing; a room not cached yet is left to the reload that will bring it.
fn change_room(
    conn: &Connection,
    id: ConversationId,
    tracker: &mut Tracker,
    change: impl FnOnce(&mut Room),
) -> Result<()> {
    let data: Option<String> = conn
        .prepare_cached("SELECT data FROM conversations WHERE id = ?1 AND kind = 'room'")?
        .query_row([id], |r| r.get(0))
        .optional()?;
    let Some(data) = data else {
        return Ok(());
    };
    let mut details: Details = serde_json::from_str(&data)
        .map_err(|e| Error::CacheCorrupt(format!("conversation {id}: {e}")))?;
    let Some(room) = details.room.as_mut() else {
        return Ok(());
    };
    change(room);
    tracker.touch_conversation(conn, id)?;
    let data = serde_json::to_string(&details)
        .map_err(|e| Error::CacheCorrupt(format!("conversation {id}: {e}")))?;
    conn.prepare_cached("UPDATE conversations SET data = ?2 WHERE id = ?1")?
        .execute((id, data))?;
    Ok(())
}

/// Makes the chat tables equal to a reload: conversations and recent messages
/// as listed, contacts replaced. Messages not delivered yet stay.
pub(crate) fn replace_all(
    conn: &Connection,
    snapshot: &ChatSnapshot,
    tracker: &mut Tracker,
) -> Result<()> {
    let listed: HashSet<ConversationId> = snapshot.conversations.iter().map(|c| c.id).collect();
    let held: Vec<ConversationId> = conn
        .prepare_cached("SELECT id FROM conversations")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in held.into_iter().filter(|id| !listed.contains(id)) {
        forget_conversation(conn, id, tracker)?;
    }
    // Messages deleted while away: whatever is cached but not in the reload.
    let fetched: HashSet<MessageId> = snapshot
        .messages
        .iter()
        .map(|m| m.id)
        .chain(
            snapshot
                .conversations
                .iter()
                .filter_map(|c| c.last_message.as_ref().map(|m| m.id)),
        )
        .collect();
    let cached: Vec<(i64, MessageId)> = conn
        .prepare_cached("SELECT local_id, id FROM messages WHERE id IS NOT NULL")?
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
        .collect::<rusqlite::Result<_>>()?;
    for (local_id, id) in cached {
        if !fetched.contains(&id) {
            tracker.touch_message(conn, local_id)?;
            conn.prepare_cached("DELETE FROM messages WHERE local_id = ?1")?
                .execute([local_id])?;
        }
    }
    for c in &snapshot.conversations {
        upsert_conversation(conn, c, tracker)?;
        if let Some(m) = &c.last_message {
            upsert_message(conn, m, tracker)?;
        }
    }
    for m in &snapshot.messages {
        upsert_message(conn, m, tracker)?;
    }
    replace_contacts(conn, &snapshot.contacts, tracker)
}

/// Updates peer and room details from a fresh conversation list, leaving the
/// counts to the event stream (they may already include later events).
pub(crate) fn refresh_details(
    conn: &Connection,
    listed: &[Conversation],
    tracker: &mut Tracker,
) -> Result<()> {
    for c in listed {
        if !conversation_exists(conn, c.id)? {
            continue;
        }
        tracker.touch_conversation(conn, c.id)?;
        let details = serde_json::to_string(&Details {
            peer: c.peer.clone(),
            room: c.room.clone(),
        })
        .expect("conversation details always serialize");
        conn.prepare_cached(
            "UPDATE conversations SET kind = ?2, title = ?3, data = ?4 WHERE id = ?1",
        )?
        .execute((c.id, c.kind.as_str(), title_of(c), details))?;
    }
    Ok(())
}

pub(crate) fn replace_contacts(
    conn: &Connection,
    contacts: &[Contact],
    tracker: &mut Tracker,
) -> Result<()> {
    tracker.touch_contacts();
    conn.execute("DELETE FROM contacts", [])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO contacts (username, online, data) VALUES (?1, ?2, ?3)",
    )?;
    for contact in contacts {
        let data = serde_json::to_string(contact).expect("contacts always serialize");
        insert.execute((&contact.user.username, contact.online, data))?;
    }
    Ok(())
}

pub(crate) fn set_online(conn: &Connection, username: &str, online: bool) -> Result<()> {
    conn.prepare_cached("UPDATE contacts SET online = ?2 WHERE username = ?1")?
        .execute((username, online))?;
    Ok(())
}

/// Stores a message written here, before it is sent.
pub(crate) fn insert_pending(
    conn: &Connection,
    conversation: Option<ConversationId>,
    peer: Option<&str>,
    sender: &str,
    client_id: &str,
    content: &str,
    tracker: &mut Tracker,
) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO messages (conversation_id, peer, client_id, sender, content, created_at, state)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, 'pending')",
    )?
    .execute((
        conversation,
        peer,
        client_id,
        sender,
        content,
        to_millis(OffsetDateTime::now_utc()),
    ))?;
    let local_id = conn.last_insert_rowid();
    tracker.touch_message_new(local_id);
    if let Some(id) = conversation {
        tracker.touch_conversation(conn, id)?;
    }
    Ok(local_id)
}

/// The server refused a message written here: it stays, marked failed, so the
/// user can copy or delete it.
pub(crate) fn mark_failed(conn: &Connection, client_id: &str, tracker: &mut Tracker) -> Result<()> {
    let local: Option<i64> = conn
        .prepare_cached("SELECT local_id FROM messages WHERE id IS NULL AND client_id = ?1")?
        .query_row([client_id], |r| r.get(0))
        .optional()?;
    if let Some(local_id) = local {
        tracker.touch_message(conn, local_id)?;
        conn.prepare_cached("UPDATE messages SET state = 'failed' WHERE local_id = ?1")?
            .execute([local_id])?;
    }
    Ok(())
}

/// Drops a message that was never delivered (failed, or given up on).
pub(crate) fn discard_unsent(
    conn: &Connection,
    local_id: i64,
    tracker: &mut Tracker,
) -> Result<bool> {
    tracker.touch_message(conn, local_id)?;
    Ok(conn
        .prepare_cached(
            "DELETE FROM messages WHERE local_id = ?1 AND id IS NULL AND state = 'failed'",
        )?
        .execute([local_id])?
        > 0)
}

/// Messages the server no longer has for this user (a 404 on delete).
pub(crate) fn forget_messages(
    conn: &Connection,
    ids: &[MessageId],
    tracker: &mut Tracker,
) -> Result<()> {
    for &id in ids {
        if let Some(local_id) = local_id_of(conn, id)? {
            tracker.touch_message(conn, local_id)?;
            conn.prepare_cached("DELETE FROM messages WHERE local_id = ?1")?
                .execute([local_id])?;
        }
    }
    Ok(())
}

// ----- the user's layer ----------------------------------------------------------

pub(crate) fn apply_local(
    conn: &Connection,
    action: &Action,
    me: &str,
    tracker: &mut Tracker,
) -> Result<()> {
    match action {
        Action::ReadConversation {
            conversation_id,
            up_to,
        } => {
            tracker.touch_conversation(conn, *conversation_id)?;
            conn.prepare_cached(
                "UPDATE conversations SET read_up_to = max(read_up_to, ?2) WHERE id = ?1",
            )?
            .execute((conversation_id, up_to))?;
            let unread = count_unread(conn, *conversation_id, *up_to, me, true)?;
            conn.prepare_cached(
                "UPDATE conversations SET unread_count = min(unread_count, ?2) WHERE id = ?1",
            )?
            .execute((conversation_id, unread))?;
        }
        Action::DeleteMessages { ids, .. } => {
            for &id in ids {
                if let Some(local_id) = local_id_of(conn, id)? {
                    tracker.touch_message(conn, local_id)?;
                    conn.prepare_cached("UPDATE messages SET hidden = 1 WHERE local_id = ?1")?
                        .execute([local_id])?;
                }
            }
        }
        // The pending message row is the overlay of a send; it is not recomputed.
        _ => {}
    }
    Ok(())
}

/// Resets the user's layer of chat to the server's (see [`super::notifications::rebase`]).
pub(crate) fn reset_overlay(conn: &Connection, tracker: &mut Tracker) -> Result<()> {
    let drifted: Vec<ConversationId> = conn
        .prepare_cached(
            "SELECT id FROM conversations
             WHERE unread_count != server_unread OR read_up_to != server_read_up_to",
        )?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for id in drifted {
        tracker.touch_conversation(conn, id)?;
    }
    conn.execute(
        "UPDATE conversations SET unread_count = server_unread, read_up_to = server_read_up_to
         WHERE unread_count != server_unread OR read_up_to != server_read_up_to",
        [],
    )?;
    let hidden: Vec<i64> = conn
        .prepare_cached("SELECT local_id FROM messages WHERE hidden = 1")?
        .query_map([], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for local_id in hidden {
        tracker.touch_message(conn, local_id)?;
    }
    conn.execute("UPDATE messages SET hidden = 0 WHERE hidden = 1", [])?;
    Ok(())
}

/// Drops delivered messages older than `before` (retention).
pub(crate) fn purge(
    conn: &Connection,
    before: OffsetDateTime,
    tracker: &mut Tracker,
) -> Result<()> {
    let old: Vec<i64> = conn
        .prepare_cached("SELECT local_id FROM messages WHERE created_at < ?1 AND id IS NOT NULL")?
        .query_map([to_millis(before)], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for local_id in old {
        tracker.touch_message(conn, local_id)?;
        conn.prepare_cached("DELETE FROM messages WHERE local_id = ?1")?
            .execute([local_id])?;
    }
    Ok(())
}
