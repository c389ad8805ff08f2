//! Conversations, messages and rooms, with each member's denormalised state.
//!
//! Every member has a `conversation_members` row holding their read mark, their
//! unread count and the newest message they can see. Each write keeps those rows
//! exact, so listing conversations and counting unread messages read one row per
//! conversation and never scan history.

use std::collections::BTreeMap;

use herald_protocol::{
    Conversation, ConversationId, ConversationKind, Event, Message, MessageId, Page, Room, UserId,
    MAX_ROOM_MEMBERS,
};
use rusqlite::{Connection, OptionalExtension, Row};

use super::rows::{emit, from_millis, now_millis, user_columns, user_from_row};
use super::users::active_ids;
use crate::rules::{check_retry, deletes_for_everyone, direct_key, EarlierSend};
use crate::{
    unique_ids, ConversationCursor, ConversationFilter, DeleteScope, Error, HistoryRange,
    MessageTarget, MessageView, NewMessage, Result, RoomChange, Sent, StoredEvent,
};

/// Columns every message query selects, in the order [`message_from_row`] reads
/// them, from [`MESSAGE_FROM`].
const MESSAGE_COLUMNS: &str =
    "m.id, m.conversation_id, s.username, m.content, m.client_id, m.created_at";
const MESSAGE_FROM: &str = "messages m LEFT JOIN users s ON s.id = m.sender_id";

/// The condition that message `m` is visible to the user the SQL expression
/// `user` names: not deleted for everyone, not hidden by them.
fn visible_to(user: &str) -> String {
    format!(
        "m.deleted = 0 AND NOT EXISTS
           (SELECT 1 FROM hidden_messages h WHERE h.user_id = {user} AND h.message_id = m.id)"
    )
}

fn message_from_row(row: &Row<'_>) -> rusqlite::Result<Message> {
    Ok(Message {
        id: row.get(0)?,
        conversation_id: row.get(1)?,
        sender: row.get(2)?,
        content: row.get(3)?,
        client_id: row.get(4)?,
        created_at: from_millis(row.get(5)?),
    })
}

fn load_message(conn: &Connection, id: MessageId) -> Result<Message> {
    conn.prepare_cached(&format!(
        "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.id = ?1"
    ))?
    .query_row([id], message_from_row)
    .optional()?
    .ok_or_else(|| Error::Corrupt(format!("message {id} vanished")))
}

/// The kind of the conversation if `user` is a member of it.
fn membership(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<ConversationKind>> {
    let kind: Option<String> = conn
        .prepare_cached(
            "SELECT c.kind FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.conversation_id = ?1 AND cm.user_id = ?2",
        )?
        .query_row((conversation, user), |r| r.get(0))
        .optional()?;
    kind.map(|k| {
        ConversationKind::parse(&k)
            .ok_or_else(|| Error::Corrupt(format!("conversation {conversation} has kind {k:?}")))
    })
    .transpose()
}

/// Members only: anyone else gets the same "not found" as for a conversation
/// that does not exist, so ids reveal nothing.
fn require_member(conn: &Connection, conversation: ConversationId, user: UserId) -> Result<()> {
    match membership(conn, conversation, user)? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("conversation {conversation}"))),
    }
}

fn require_room_member(conn: &Connection, room: ConversationId, user: UserId) -> Result<()> {
    match membership(conn, room, user)? {
        Some(ConversationKind::Room) => Ok(()),
        _ => Err(Error::NotFound(format!("room {room}"))),
    }
}

fn member_ids(conn: &Connection, conversation: ConversationId) -> Result<Vec<UserId>> {
    let mut stmt = conn.prepare_cached(
        "SELECT user_id FROM conversation_members WHERE conversation_id = ?1 ORDER BY user_id",
    )?;
    let ids = stmt
        .query_map([conversation], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(ids)
}

fn user_id_by_name(conn: &Connection, username: &str) -> Result<Option<UserId>> {
    Ok(conn
        .prepare_cached("SELECT id FROM users WHERE username = ?1")?
        .query_row([username], |r| r.get(0))
        .optional()?)
}

/// Makes `user` a member with nothing unread: joining a room does not make its
/// history unread (as a new user does not inherit old broadcasts as unread).
fn add_member(conn: &Connection, conversation: ConversationId, user: UserId) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO conversation_members
            (conversation_id, user_id, joined_at, last_read_id, last_time)
         VALUES (?1, ?2, ?3,
                 (SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = ?1), ?3)",
    )?
    .execute((conversation, user, now_millis()))?;
    refresh_last(conn, conversation, user)
}

/// Recomputes the newest message `user` can see and the list position it gives.
/// Costs one step down the index unless the user hid the newest messages.
fn refresh_last(conn: &Connection, conversation: ConversationId, user: UserId) -> Result<()> {
    conn.prepare_cached(&format!(
        "UPDATE conversation_members SET last_message_id =
           (SELECT m.id FROM messages m
            WHERE m.conversation_id = ?1 AND {}
            ORDER BY m.id DESC LIMIT 1)
         WHERE conversation_id = ?1 AND user_id = ?2",
        visible_to("?2")
    ))?
    .execute((conversation, user))?;
    conn.prepare_cached(
        "UPDATE conversation_members SET last_time = max(joined_at,
           coalesce((SELECT created_at FROM messages WHERE id = last_message_id), 0))
         WHERE conversation_id = ?1 AND user_id = ?2",
    )?
    .execute((conversation, user))?;
    Ok(())
}

/// Others' messages after `after` that `user` can see: their unread count once
/// they have read up to `after`. Costs what is still unread, never the history.
fn unread_after(
    conn: &Connection,
    conversation: ConversationId,
    user: UserId,
    after: MessageId,
) -> Result<i64> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT count(*) FROM messages m
             WHERE m.conversation_id = ?2 AND m.id > ?3
               AND (m.sender_id IS NULL OR m.sender_id != ?1) AND {}",
            visible_to("?1")
        ))?
        .query_row((user, conversation, after), |r| r.get(0))?)
}

const UNREAD_TOTAL: &str =
    "SELECT coalesce(sum(unread_count), 0) FROM conversation_members WHERE user_id = ?1";

pub(super) fn unread_total(conn: &Connection, user: UserId) -> Result<i64> {
    Ok(conn
        .prepare_cached(UNREAD_TOTAL)?
        .query_row([user], |r| r.get(0))?)
}

// --- sending -------------------------------------------------------------------

pub(super) fn send(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    new: &NewMessage,
) -> Result<Sent> {
    if let Some(sent) = retry(conn, new)? {
        return Ok(sent);
    }
    let conversation = match &new.target {
        MessageTarget::User(name) => {
            let [peer] = active_ids(conn, std::slice::from_ref(name))?[..] else {
                return Err(Error::Corrupt("one name resolved to several users".into()));
            };
            if peer == new.sender {
                return Err(Error::Invalid("you cannot message yourself".into()));
            }
            direct_conversation(conn, new.sender, peer)?
        }
        MessageTarget::Room(room) => {
            require_room_member(conn, *room, new.sender)?;
            *room
        }
    };
    let now = now_millis();
    conn.prepare_cached(
        "INSERT INTO messages (conversation_id, sender_id, client_id, content, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute((conversation, new.sender, &new.client_id, &new.content, now))?;
    let id = conn.last_insert_rowid();
    conn.prepare_cached(
        "UPDATE conversation_members SET
            last_message_id = ?2,
            last_time = max(last_time, ?3),
            unread_count = unread_count + (user_id != ?4)
         WHERE conversation_id = ?1",
    )?
    .execute((conversation, id, now, new.sender))?;
    let message = load_message(conn, id)?;
    for member in member_ids(conn, conversation)? {
        let event = Event::MessageCreated {
            message: message.clone(),
        };
        emit(conn, events, Some(member), event)?;
    }
    Ok(Sent {
        message,
        created: true,
    })
}

/// The message an earlier send with the same `client_id` stored, if this is a
/// retry of it. Checked before anything else, so a retry succeeds even if the
/// peer has since been disabled or the sender left the room.
fn retry(conn: &Connection, new: &NewMessage) -> Result<Option<Sent>> {
    let earlier = conn
        .prepare_cached(
            "SELECT id, conversation_id, content, deleted FROM messages
             WHERE sender_id = ?1 AND client_id = ?2",
        )?
        .query_row((new.sender, &new.client_id), |r| {
            Ok(EarlierSend {
                id: r.get(0)?,
                conversation: r.get(1)?,
                content: r.get(2)?,
                deleted: r.get(3)?,
            })
        })
        .optional()?;
    let Some(earlier) = earlier else {
        return Ok(None);
    };
    let target = match &new.target {
        MessageTarget::Room(room) => Some(*room),
        MessageTarget::User(name) => match user_id_by_name(conn, name)? {
            Some(peer) => conn
                .prepare_cached("SELECT id FROM conversations WHERE direct_key = ?1")?
                .query_row([direct_key(new.sender, peer)], |r| r.get(0))
                .optional()?,
            None => None,
        },
    };
    check_retry(new, &earlier, target)?;
    Ok(Some(Sent {
        message: load_message(conn, earlier.id)?,
        created: false,
    }))
}

/// The pair's conversation, created with both as members on first use.
fn direct_conversation(conn: &Connection, a: UserId, b: UserId) -> Result<ConversationId> {
    let key = direct_key(a, b);
    let existing = conn
        .prepare_cached("SELECT id FROM conversations WHERE direct_key = ?1")?
        .query_row([&key], |r| r.get(0))
        .optional()?;
    if let Some(id) = existing {
        return Ok(id);
    }
    conn.prepare_cached(
        "INSERT INTO conversations (kind, direct_key, created_at) VALUES ('direct', ?1, ?2)",
    )?
    .execute((&key, now_millis()))?;
    let id = conn.last_insert_rowid();
    add_member(conn, id, a)?;
    add_member(conn, id, b)?;
    Ok(id)
}

// --- reading -------------------------------------------------------------------

/// A row of the conversation list before its message and room are loaded.
struct ListRow {
    id: ConversationId,
    kind: ConversationKind,
    unread_count: i64,
    read_up_to: MessageId,
    last_time_ms: i64,
    last_message_id: Option<MessageId>,
    peer_read_up_to: Option<MessageId>,
    peer: Option<herald_protocol::User>,
}

/// The conversation list: the caller's member rows in list order, each with the
/// peer of a direct conversation. Reads no message but the ones the rows name.
fn list_sql(condition: &str) -> String {
    format!(
        "SELECT c.id, c.kind, cm.unread_count, cm.last_read_id, cm.last_time, cm.last_message_id,
                pm.last_read_id, {}
         FROM conversation_members cm
         JOIN conversations c ON c.id = cm.conversation_id
         LEFT JOIN conversation_members pm ON c.kind = 'direct'
              AND pm.conversation_id = cm.conversation_id AND pm.user_id != cm.user_id
         LEFT JOIN users p ON p.id = pm.user_id
         WHERE cm.user_id = ?1 AND {condition}
         ORDER BY cm.last_time DESC, cm.conversation_id DESC LIMIT ?5",
        user_columns("p")
    )
}

/// The condition [`list_sql`] pages with.
const PAGE_CONDITION: &str = "(cm.last_time, cm.conversation_id) < (?2, ?3)";

pub(super) fn conversations(
    conn: &Connection,
    user: UserId,
    filter: ConversationFilter,
) -> Result<Page<Conversation>> {
    // One read transaction: the rows and the messages and rooms they name agree.
    let tx = conn.unchecked_transaction()?;
    // Parameters: ?1 user, ?2/?3 the position to continue after, ?4 direct key,
    // ?5 limit. Unused ones are bound and ignored.
    let (condition, after, key, limit) = match filter {
        ConversationFilter::Page { after, limit } => (PAGE_CONDITION, after, None, limit),
        ConversationFilter::Peer(peer) => {
            ("c.direct_key = ?4", None, Some(direct_key(user, peer)), 1)
        }
    };
    let after = after.unwrap_or(ConversationCursor {
        last_time_ms: i64::MAX,
        id: i64::MAX,
    });
    let rows: Vec<ListRow> = tx
        .prepare_cached(&list_sql(condition))?
        .query_map((user, after.last_time_ms, after.id, key, limit), |row| {
            let kind: String = row.get(1)?;
            let peer_id: Option<UserId> = row.get(7)?;
            Ok(ListRow {
                id: row.get(0)?,
                kind: ConversationKind::parse(&kind).unwrap_or(ConversationKind::Room),
                unread_count: row.get(2)?,
                read_up_to: row.get(3)?,
                last_time_ms: row.get(4)?,
                last_message_id: row.get(5)?,
                peer_read_up_to: row.get(6)?,
                peer: peer_id.map(|_| user_from_row(row, 7)).transpose()?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    let next_cursor = match rows.last() {
        Some(last) if rows.len() as u32 == limit => Some(
            ConversationCursor {
                last_time_ms: last.last_time_ms,
                id: last.id,
            }
            .to_string(),
        ),
        _ => None,
    };
    let items = rows
        .into_iter()
        .map(|row| {
            Ok(Conversation {
                id: row.id,
                kind: row.kind,
                peer: row.peer,
                room: match row.kind {
                    ConversationKind::Room => Some(load_room(&tx, row.id)?),
                    ConversationKind::Direct => None,
                },
                unread_count: row.unread_count,
                last_message: row
                    .last_message_id
                    .map(|id| load_message(&tx, id))
                    .transpose()?,
                last_time: from_millis(row.last_time_ms),
                read_up_to: row.read_up_to,
                peer_read_up_to: row.peer_read_up_to,
            })
        })
        .collect::<Result<_>>()?;
    tx.commit()?;
    Ok(Page { items, next_cursor })
}

pub(super) fn history(
    conn: &Connection,
    user: UserId,
    conversation: ConversationId,
    range: HistoryRange,
) -> Result<Page<Message>> {
    let tx = conn.unchecked_transaction()?;
    require_member(&tx, conversation, user)?;
    // Only `after`: the messages right after it, so paging forwards skips none.
    let forward = range.after.is_some() && range.before.is_none();
    let order = if forward { "ASC" } else { "DESC" };
    let mut items = tx
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}
             WHERE m.conversation_id = ?2 AND m.id > ?3 AND m.id < ?4 AND {}
             ORDER BY m.id {order} LIMIT ?5",
            visible_to("?1")
        ))?
        .query_map(
            (
                user,
                conversation,
                range.after.unwrap_or(0),
                range.before.unwrap_or(i64::MAX),
                range.limit,
            ),
            message_from_row,
        )?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    tx.commit()?;
    if forward {
        items.reverse();
    }
    let next = if forward { items.first() } else { items.last() };
    let next_cursor = match next {
        Some(message) if items.len() as u32 == range.limit => Some(message.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

pub(super) fn message_list(
    conn: &Connection,
    user: UserId,
    view: MessageView,
    before: Option<MessageId>,
    limit: u32,
) -> Result<Page<Message>> {
    let whose = match view {
        MessageView::Sent => "m.sender_id = ?1",
        MessageView::Received => {
            "(m.sender_id IS NULL OR m.sender_id != ?1) AND m.conversation_id IN
               (SELECT conversation_id FROM conversation_members WHERE user_id = ?1)"
        }
    };
    let items = conn
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}
             WHERE {whose} AND m.id < ?2 AND {}
             ORDER BY m.id DESC LIMIT ?3",
            visible_to("?1")
        ))?
        .query_map((user, before.unwrap_or(i64::MAX), limit), message_from_row)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let next_cursor = match items.last() {
        Some(last) if items.len() as u32 == limit => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

// --- read marks and deletes ------------------------------------------------------

pub(super) fn mark_read(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user: UserId,
    conversation: ConversationId,
    up_to: MessageId,
) -> Result<i64> {
    require_member(conn, conversation, user)?;
    let in_conversation = conn
        .prepare_cached("SELECT 1 FROM messages WHERE id = ?1 AND conversation_id = ?2")?
        .query_row((up_to, conversation), |_| Ok(()))
        .optional()?;
    if in_conversation.is_none() {
        return Err(Error::NotFound(format!(
            "message {up_to} in conversation {conversation}"
        )));
    }
    let (read_up_to, unread): (MessageId, i64) = conn
        .prepare_cached(
            "SELECT last_read_id, unread_count FROM conversation_members
             WHERE conversation_id = ?1 AND user_id = ?2",
        )?
        .query_row((conversation, user), |r| Ok((r.get(0)?, r.get(1)?)))?;
    if up_to <= read_up_to {
        // Already read that far: nothing moves, nobody is told.
        return Ok(0);
    }
    let remaining = unread_after(conn, conversation, user, up_to)?;
    conn.prepare_cached(
        "UPDATE conversation_members SET last_read_id = ?3, unread_count = ?4
         WHERE conversation_id = ?1 AND user_id = ?2",
    )?
    .execute((conversation, user, up_to, remaining))?;
    let username: String = conn
        .prepare_cached("SELECT username FROM users WHERE id = ?1")?
        .query_row([user], |r| r.get(0))?;
    // The reader's devices update their counts; everyone else gets a receipt.
    for member in member_ids(conn, conversation)? {
        let event = Event::ConversationRead {
            conversation_id: conversation,
            user: username.clone(),
            up_to,
        };
        emit(conn, events, Some(member), event)?;
    }
    Ok(unread - remaining)
}

/// One message a delete request names, checked and with its reach decided.
struct Doomed {
    id: MessageId,
    conversation: ConversationId,
    sender: Option<UserId>,
    for_everyone: bool,
}

pub(super) fn delete(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user: UserId,
    ids: &[MessageId],
    scope: DeleteScope,
) -> Result<i64> {
    let doomed = check_deletable(conn, user, ids, scope)?;
    // Who hears of which ids, grouped into one event per member and conversation.
    let mut notices: BTreeMap<(UserId, ConversationId), Vec<MessageId>> = BTreeMap::new();
    for message in &doomed {
        let told = if message.for_everyone {
            delete_for_everyone(conn, message)?
        } else {
            hide(conn, user, message)?;
            vec![user]
        };
        for member in told {
            notices
                .entry((member, message.conversation))
                .or_default()
                .push(message.id);
        }
    }
    for ((member, conversation_id), ids) in notices {
        let event = Event::MessagesDeleted {
            conversation_id,
            ids,
        };
        emit(conn, events, Some(member), event)?;
    }
    Ok(doomed.len() as i64)
}

/// Every id must be visible to the user, and a delete for everyone must be of
/// their own messages; otherwise the whole request is refused.
fn check_deletable(
    conn: &Connection,
    user: UserId,
    ids: &[MessageId],
    scope: DeleteScope,
) -> Result<Vec<Doomed>> {
    let mut lookup = conn.prepare_cached(&format!(
        "SELECT m.conversation_id, m.sender_id FROM messages m
         JOIN conversation_members cm
           ON cm.conversation_id = m.conversation_id AND cm.user_id = ?1
         WHERE m.id = ?2 AND {}",
        visible_to("?1")
    ))?;
    unique_ids(ids)
        .into_iter()
        .map(|id| {
            let (conversation, sender): (ConversationId, Option<UserId>) = lookup
                .query_row((user, id), |r| Ok((r.get(0)?, r.get(1)?)))
                .optional()?
                .ok_or_else(|| Error::NotFound(format!("message {id}")))?;
            let own = sender == Some(user);
            Ok(Doomed {
                id,
                conversation,
                sender,
                for_everyone: deletes_for_everyone(scope, id, own)?,
            })
        })
        .collect()
}

/// Leaves a tombstone and fixes every member's state; returns the members.
fn delete_for_everyone(conn: &Connection, message: &Doomed) -> Result<Vec<UserId>> {
    // Unread for each member who had neither read nor hidden it.
    conn.prepare_cached(
        "UPDATE conversation_members SET unread_count = unread_count - 1
         WHERE conversation_id = ?1 AND user_id != ?3 AND last_read_id < ?2
           AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                           WHERE h.user_id = conversation_members.user_id AND h.message_id = ?2)",
    )?
    .execute((message.conversation, message.id, message.sender))?;
    conn.prepare_cached("UPDATE messages SET deleted = 1, content = '' WHERE id = ?1")?
        .execute([message.id])?;
    refresh_where_last(conn, message, None)?;
    member_ids(conn, message.conversation)
}

fn hide(conn: &Connection, user: UserId, message: &Doomed) -> Result<()> {
    conn.prepare_cached("INSERT INTO hidden_messages (user_id, message_id) VALUES (?1, ?2)")?
        .execute((user, message.id))?;
    if message.sender != Some(user) {
        conn.prepare_cached(
            "UPDATE conversation_members SET unread_count = unread_count - 1
             WHERE conversation_id = ?1 AND user_id = ?2 AND last_read_id < ?3",
        )?
        .execute((message.conversation, user, message.id))?;
    }
    refresh_where_last(conn, message, Some(user))
}

/// Members (or just `only`) whose newest visible message this was need another.
fn refresh_where_last(conn: &Connection, message: &Doomed, only: Option<UserId>) -> Result<()> {
    let users: Vec<UserId> = conn
        .prepare_cached(
            "SELECT user_id FROM conversation_members
             WHERE conversation_id = ?1 AND last_message_id = ?2 AND (?3 IS NULL OR user_id = ?3)",
        )?
        .query_map((message.conversation, message.id, only), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for user in users {
        refresh_last(conn, message.conversation, user)?;
    }
    Ok(())
}

// --- rooms -----------------------------------------------------------------------

fn load_room(conn: &Connection, id: ConversationId) -> Result<Room> {
    let (name, owner, created_at): (String, Option<String>, i64) = conn
        .prepare_cached(
            "SELECT c.name, o.username, c.created_at FROM conversations c
             LEFT JOIN users o ON o.id = c.owner_id
             WHERE c.id = ?1 AND c.kind = 'room'",
        )?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?
        .ok_or_else(|| Error::NotFound(format!("room {id}")))?;
    let members = conn
        .prepare_cached(
            "SELECT u.username FROM conversation_members cm JOIN users u ON u.id = cm.user_id
             WHERE cm.conversation_id = ?1 ORDER BY u.username",
        )?
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Room {
        id,
        name,
        owner,
        members,
        created_at: from_millis(created_at),
    })
}

/// Tells every member how the room looks now.
fn announce_room(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    id: ConversationId,
) -> Result<Room> {
    let room = load_room(conn, id)?;
    for member in member_ids(conn, id)? {
        let event = Event::RoomUpdated { room: room.clone() };
        emit(conn, events, Some(member), event)?;
    }
    Ok(room)
}

pub(super) fn create_room(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    creator: UserId,
    name: &str,
    members: &[String],
) -> Result<Room> {
    let mut ids = active_ids(conn, members)?;
    ids.retain(|&id| id != creator);
    if ids.len() + 1 > MAX_ROOM_MEMBERS {
        return Err(Error::Invalid(format!(
            "a room has at most {MAX_ROOM_MEMBERS} members"
        )));
    }
    conn.prepare_cached(
        "INSERT INTO conversations (kind, name, owner_id, created_at) VALUES ('room', ?1, ?2, ?3)",
    )?
    .execute((name, creator, now_millis()))?;
    let room = conn.last_insert_rowid();
    for user in std::iter::once(creator).chain(ids) {
        add_member(conn, room, user)?;
    }
    announce_room(conn, events, room)
}

pub(super) fn change_room(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    actor: UserId,
    room: ConversationId,
    change: &RoomChange,
) -> Result<Room> {
    require_room_member(conn, room, actor)?;
    let owner: Option<UserId> = conn
        .prepare_cached("SELECT owner_id FROM conversations WHERE id = ?1")?
        .query_row([room], |r| r.get(0))?;
    let owns = owner == Some(actor);
    match change {
        RoomChange::Add(name) => {
            if !owns {
                return Err(Error::Forbidden(
                    "only the room's owner adds members".into(),
                ));
            }
            let [user] = active_ids(conn, std::slice::from_ref(name))?[..] else {
                return Err(Error::Corrupt("one name resolved to several users".into()));
            };
            if membership(conn, room, user)?.is_some() {
                return load_room(conn, room);
            }
            if member_ids(conn, room)?.len() >= MAX_ROOM_MEMBERS {
                return Err(Error::Invalid(format!(
                    "room {room} already has {MAX_ROOM_MEMBERS} members"
                )));
            }
            add_member(conn, room, user)?;
        }
        RoomChange::Remove(name) => {
            let member = match user_id_by_name(conn, name)? {
                Some(user) if membership(conn, room, user)?.is_some() => user,
                _ => return Err(Error::NotFound(format!("member {name:?} of room {room}"))),
            };
            if member != actor && !owns {
                return Err(Error::Forbidden(
                    "only the room's owner removes others; members may only leave".into(),
                ));
            }
            leave(conn, room, member)?;
            emit(
                conn,
                events,
                Some(member),
                Event::RoomLeft { room_id: room },
            )?;
        }
    }
    announce_room(conn, events, room)
}

/// Removes a member; the longest-standing member takes over a room its owner left.
fn leave(conn: &Connection, room: ConversationId, user: UserId) -> Result<()> {
    conn.prepare_cached(
        "DELETE FROM conversation_members WHERE conversation_id = ?1 AND user_id = ?2",
    )?
    .execute((room, user))?;
    conn.prepare_cached(
        "UPDATE conversations SET owner_id =
           (SELECT user_id FROM conversation_members WHERE conversation_id = ?1
            ORDER BY joined_at, user_id LIMIT 1)
         WHERE id = ?1 AND owner_id = ?2",
    )?
    .execute((room, user))?;
    Ok(())
}

pub(super) fn rooms(conn: &Connection, user: UserId) -> Result<Vec<Room>> {
    let tx = conn.unchecked_transaction()?;
    let ids: Vec<ConversationId> = tx
        .prepare_cached(
            "SELECT c.id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = ?1 AND c.kind = 'room' ORDER BY c.name, c.id",
        )?
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let rooms = ids
        .into_iter()
        .map(|id| load_room(&tx, id))
        .collect::<Result<_>>()?;
    tx.commit()?;
    Ok(rooms)
}

/// Before a user is deleted: they leave their rooms (whose other members hear of
/// it), and their direct conversations lose the pair key, so a user who later
/// gets the same id never inherits them.
pub(super) fn forget_user(
    conn: &Connection,
    events: &mut Vec<StoredEvent>,
    user: UserId,
) -> Result<()> {
    let rooms: Vec<ConversationId> = conn
        .prepare_cached(
            "SELECT cm.conversation_id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = ?1 AND c.kind = 'room'",
        )?
        .query_map([user], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    for room in rooms {
        leave(conn, room, user)?;
        announce_room(conn, events, room)?;
    }
    conn.prepare_cached(
        "UPDATE conversations SET direct_key = NULL
         WHERE kind = 'direct'
           AND id IN (SELECT conversation_id FROM conversation_members WHERE user_id = ?1)",
    )?
    .execute([user])?;
    Ok(())
}

#[cfg(test)]
mod tests;
