//! Conversations, messages and rooms, with each member's denormalised state.
//!
//! Every member has a `conversation_members` row holding their read mark, their
//! unread count and the newest message they can see. Each write keeps those rows
//! exact, so listing conversations and counting unread messages read one row per
//! conversation and never scan history. Message ids become visible in id order
//! because every write holds the writer's lock (see `writer`).

use std::collections::BTreeMap;

use deadpool_postgres::{GenericClient, Transaction};
use herald_protocol::{
    Conversation, ConversationId, ConversationKind, Event, Message, MessageId, Page, Room, UserId,
    MAX_ROOM_MEMBERS,
};
use tokio_postgres::types::Type;
use tokio_postgres::Row;

use super::rows::{collect, emit, emit_to, from_millis, now_millis, user_columns, user_from_row};
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
        "NOT m.deleted AND NOT EXISTS
           (SELECT 1 FROM hidden_messages h WHERE h.user_id = {user} AND h.message_id = m.id)"
    )
}

fn message_from_row(row: &Row) -> Result<Message> {
    Ok(Message {
        id: row.try_get(0)?,
        conversation_id: row.try_get(1)?,
        sender: row.try_get(2)?,
        content: row.try_get(3)?,
        client_id: row.try_get(4)?,
        created_at: from_millis(row.try_get(5)?),
    })
}

async fn load_message(db: &impl GenericClient, id: MessageId) -> Result<Message> {
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM} WHERE m.id = $1"
        ))
        .await?;
    match db.query_opt(&stmt, &[&id]).await? {
        Some(row) => message_from_row(&row),
        None => Err(Error::Corrupt(format!("message {id} vanished"))),
    }
}

/// The kind of the conversation if `user` is a member of it.
async fn membership(
    db: &impl GenericClient,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<ConversationKind>> {
    let stmt = db
        .prepare_cached(
            "SELECT c.kind FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.conversation_id = $1 AND cm.user_id = $2",
        )
        .await?;
    let Some(row) = db.query_opt(&stmt, &[&conversation, &user]).await? else {
        return Ok(None);
    };
    let kind: &str = row.try_get(0)?;
    ConversationKind::parse(kind)
        .map(Some)
        .ok_or_else(|| Error::Corrupt(format!("conversation {conversation} has kind {kind:?}")))
}

/// Members only: anyone else gets the same "not found" as for a conversation
/// that does not exist, so ids reveal nothing.
async fn require_member(
    db: &impl GenericClient,
    conversation: ConversationId,
    user: UserId,
) -> Result<()> {
    match membership(db, conversation, user).await? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("conversation {conversation}"))),
    }
}

async fn require_room_member(
    db: &impl GenericClient,
    room: ConversationId,
    user: UserId,
) -> Result<()> {
    match membership(db, room, user).await? {
        Some(ConversationKind::Room) => Ok(()),
        _ => Err(Error::NotFound(format!("room {room}"))),
    }
}

async fn member_ids(db: &impl GenericClient, conversation: ConversationId) -> Result<Vec<UserId>> {
    let stmt = db
        .prepare_cached(
            "SELECT user_id FROM conversation_members WHERE conversation_id = $1 ORDER BY user_id",
        )
        .await?;
    collect(db.query(&stmt, &[&conversation]).await?, |row| {
        Ok(row.try_get(0)?)
    })
}

async fn user_id_by_name(db: &impl GenericClient, username: &str) -> Result<Option<UserId>> {
    let stmt = db
        .prepare_cached("SELECT id FROM users WHERE username = $1")
        .await?;
    Ok(match db.query_opt(&stmt, &[&username]).await? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

async fn direct_conversation_id(
    db: &impl GenericClient,
    key: &str,
) -> Result<Option<ConversationId>> {
    let stmt = db
        .prepare_cached("SELECT id FROM conversations WHERE direct_key = $1")
        .await?;
    Ok(match db.query_opt(&stmt, &[&key]).await? {
        Some(row) => Some(row.try_get(0)?),
        None => None,
    })
}

/// Makes `users` members with nothing unread: joining a room does not make its
/// history unread (as a new user does not inherit old broadcasts as unread).
async fn add_members(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    users: &[UserId],
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "INSERT INTO conversation_members
                (conversation_id, user_id, joined_at, last_read_id, last_time)
             SELECT $1, u, $3,
                    (SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = $1), $3
             FROM unnest($2::bigint[]) AS u",
        )
        .await?;
    tx.execute(&stmt, &[&conversation, &users, &now_millis()])
        .await?;
    refresh_last(tx, conversation, users).await
}

/// Recomputes the newest message each of `users` can see and the list position
/// it gives. Costs one step down the index per user unless they hid the newest.
async fn refresh_last(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    users: &[UserId],
) -> Result<()> {
    let stmt = tx
        .prepare_cached(&format!(
            "UPDATE conversation_members cm SET last_message_id =
               (SELECT m.id FROM messages m
                WHERE m.conversation_id = $1 AND {}
                ORDER BY m.id DESC LIMIT 1)
             WHERE cm.conversation_id = $1 AND cm.user_id = ANY($2::bigint[])",
            visible_to("cm.user_id")
        ))
        .await?;
    tx.execute(&stmt, &[&conversation, &users]).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE conversation_members cm SET last_time = greatest(cm.joined_at,
               coalesce((SELECT created_at FROM messages WHERE id = cm.last_message_id), 0))
             WHERE cm.conversation_id = $1 AND cm.user_id = ANY($2::bigint[])",
        )
        .await?;
    tx.execute(&stmt, &[&conversation, &users]).await?;
    Ok(())
}

/// Others' messages after `after` that `user` can see: their unread count once
/// they have read up to `after`. Costs what is still unread, never the history.
async fn unread_after(
    tx: &Transaction<'_>,
    conversation: ConversationId,
    user: UserId,
    after: MessageId,
) -> Result<i64> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT count(*) FROM messages m
             WHERE m.conversation_id = $2 AND m.id > $3
               AND m.sender_id IS DISTINCT FROM $1 AND {}",
            visible_to("$1")
        ))
        .await?;
    Ok(tx
        .query_one(&stmt, &[&user, &conversation, &after])
        .await?
        .try_get(0)?)
}

pub(super) async fn unread_total(db: &impl GenericClient, user: UserId) -> Result<i64> {
    let stmt = db
        .prepare_cached(
            "SELECT coalesce(sum(unread_count), 0)::bigint
             FROM conversation_members WHERE user_id = $1",
        )
        .await?;
    Ok(db.query_one(&stmt, &[&user]).await?.try_get(0)?)
}

// --- sending -------------------------------------------------------------------

pub(super) async fn send(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    new: &NewMessage,
) -> Result<Sent> {
    if let Some(sent) = retry(tx, new).await? {
        return Ok(sent);
    }
    let conversation = match &new.target {
        MessageTarget::User(name) => {
            let [peer] = active_ids(tx, std::slice::from_ref(name)).await?[..] else {
                return Err(Error::Corrupt("one name resolved to several users".into()));
            };
            if peer == new.sender {
                return Err(Error::Invalid("you cannot message yourself".into()));
            }
            direct_conversation(tx, new.sender, peer).await?
        }
        MessageTarget::Room(room) => {
            require_room_member(tx, *room, new.sender).await?;
            *room
        }
    };
    let now = now_millis();
    let stmt = tx
        .prepare_cached(
            "INSERT INTO messages (conversation_id, sender_id, client_id, content, created_at)
             VALUES ($1, $2, $3, $4, $5) RETURNING id",
        )
        .await?;
    let id: MessageId = tx
        .query_one(
            &stmt,
            &[
                &conversation,
                &new.sender,
                &new.client_id,
                &new.content,
                &now,
            ],
        )
        .await?
        .try_get(0)?;
    let stmt = tx
        .prepare_cached(
            "UPDATE conversation_members SET
                last_message_id = $2,
                last_time = greatest(last_time, $3),
                unread_count = unread_count + CASE WHEN user_id <> $4 THEN 1 ELSE 0 END
             WHERE conversation_id = $1",
        )
        .await?;
    tx.execute(&stmt, &[&conversation, &id, &now, &new.sender])
        .await?;
    let message = load_message(tx, id).await?;
    let members = member_ids(tx, conversation).await?;
    let event = Event::MessageCreated {
        message: message.clone(),
    };
    emit_to(tx, events, &members, event).await?;
    Ok(Sent {
        message,
        created: true,
    })
}

/// The message an earlier send with the same `client_id` stored, if this is a
/// retry of it. Checked before anything else, so a retry succeeds even if the
/// peer has since been disabled or the sender left the room.
async fn retry(tx: &Transaction<'_>, new: &NewMessage) -> Result<Option<Sent>> {
    let stmt = tx
        .prepare_cached(
            "SELECT id, conversation_id, content, deleted FROM messages
             WHERE sender_id = $1 AND client_id = $2",
        )
        .await?;
    let Some(row) = tx.query_opt(&stmt, &[&new.sender, &new.client_id]).await? else {
        return Ok(None);
    };
    let earlier = EarlierSend {
        id: row.try_get(0)?,
        conversation: row.try_get(1)?,
        content: row.try_get(2)?,
        deleted: row.try_get(3)?,
    };
    let target = match &new.target {
        MessageTarget::Room(room) => Some(*room),
        MessageTarget::User(name) => match user_id_by_name(tx, name).await? {
            Some(peer) => direct_conversation_id(tx, &direct_key(new.sender, peer)).await?,
            None => None,
        },
    };
    check_retry(new, &earlier, target)?;
    Ok(Some(Sent {
        message: load_message(tx, earlier.id).await?,
        created: false,
    }))
}

/// The pair's conversation, created with both as members on first use.
async fn direct_conversation(tx: &Transaction<'_>, a: UserId, b: UserId) -> Result<ConversationId> {
    let key = direct_key(a, b);
    if let Some(id) = direct_conversation_id(tx, &key).await? {
        return Ok(id);
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO conversations (kind, direct_key, created_at)
             VALUES ('direct', $1, $2) RETURNING id",
        )
        .await?;
    let id = tx
        .query_one(&stmt, &[&key, &now_millis()])
        .await?
        .try_get(0)?;
    add_members(tx, id, &[a, b]).await?;
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
              AND pm.conversation_id = cm.conversation_id AND pm.user_id <> cm.user_id
         LEFT JOIN users p ON p.id = pm.user_id
         WHERE cm.user_id = $1 AND {condition}
         ORDER BY cm.last_time DESC, cm.conversation_id DESC LIMIT $5",
        user_columns("p")
    )
}

/// The condition [`list_sql`] pages with.
const PAGE_CONDITION: &str = "(cm.last_time, cm.conversation_id) < ($2, $3)";

/// The parameter types of [`list_sql`], declared because each variant leaves
/// some unused, and PostgreSQL cannot infer an unused one.
const LIST_PARAMS: &[Type] = &[Type::INT8, Type::INT8, Type::INT8, Type::TEXT, Type::INT8];

/// Run in a snapshot: the rows and the messages and rooms they name agree.
pub(super) async fn conversations(
    tx: &Transaction<'_>,
    user: UserId,
    filter: ConversationFilter,
) -> Result<Page<Conversation>> {
    // Parameters: $1 user, $2/$3 the position to continue after, $4 direct key,
    // $5 limit. Unused ones are bound and ignored.
    let (condition, after, key, limit) = match filter {
        ConversationFilter::Page { after, limit } => (PAGE_CONDITION, after, None, limit),
        ConversationFilter::Peer(peer) => {
            ("c.direct_key = $4", None, Some(direct_key(user, peer)), 1)
        }
    };
    let after = after.unwrap_or(ConversationCursor {
        last_time_ms: i64::MAX,
        id: i64::MAX,
    });
    let stmt = tx
        .prepare_typed_cached(&list_sql(condition), LIST_PARAMS)
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &user,
                &after.last_time_ms,
                &after.id,
                &key,
                &i64::from(limit),
            ],
        )
        .await?;
    let rows = collect(rows, |row| {
        let kind: &str = row.try_get(1)?;
        let peer_id: Option<UserId> = row.try_get(7)?;
        Ok(ListRow {
            id: row.try_get(0)?,
            kind: ConversationKind::parse(kind).unwrap_or(ConversationKind::Room),
            unread_count: row.try_get(2)?,
            read_up_to: row.try_get(3)?,
            last_time_ms: row.try_get(4)?,
            last_message_id: row.try_get(5)?,
            peer_read_up_to: row.try_get(6)?,
            peer: peer_id.map(|_| user_from_row(row, 7)).transpose()?,
        })
    })?;
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
    let mut items = Vec::with_capacity(rows.len());
    for row in rows {
        let room = match row.kind {
            ConversationKind::Room => Some(load_room(tx, row.id).await?),
            ConversationKind::Direct => None,
        };
        let last_message = match row.last_message_id {
            Some(id) => Some(load_message(tx, id).await?),
            None => None,
        };
        items.push(Conversation {
            id: row.id,
            kind: row.kind,
            peer: row.peer,
            room,
            unread_count: row.unread_count,
            last_message,
            last_time: from_millis(row.last_time_ms),
            read_up_to: row.read_up_to,
            peer_read_up_to: row.peer_read_up_to,
        });
    }
    Ok(Page { items, next_cursor })
}

/// Run in a snapshot, so membership and history agree.
pub(super) async fn history(
    tx: &Transaction<'_>,
    user: UserId,
    conversation: ConversationId,
    range: HistoryRange,
) -> Result<Page<Message>> {
    require_member(tx, conversation, user).await?;
    // Only `after`: the messages right after it, so paging forwards skips none.
    let forward = range.after.is_some() && range.before.is_none();
    let order = if forward { "ASC" } else { "DESC" };
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}
             WHERE m.conversation_id = $2 AND m.id > $3 AND m.id < $4 AND {}
             ORDER BY m.id {order} LIMIT $5",
            visible_to("$1")
        ))
        .await?;
    let rows = tx
        .query(
            &stmt,
            &[
                &user,
                &conversation,
                &range.after.unwrap_or(0),
                &range.before.unwrap_or(i64::MAX),
                &i64::from(range.limit),
            ],
        )
        .await?;
    let mut items = collect(rows, message_from_row)?;
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

pub(super) async fn message_list(
    db: &impl GenericClient,
    user: UserId,
    view: MessageView,
    before: Option<MessageId>,
    limit: u32,
) -> Result<Page<Message>> {
    let whose = match view {
        MessageView::Sent => "m.sender_id = $1",
        MessageView::Received => {
            "m.sender_id IS DISTINCT FROM $1 AND m.conversation_id IN
               (SELECT conversation_id FROM conversation_members WHERE user_id = $1)"
        }
    };
    let stmt = db
        .prepare_cached(&format!(
            "SELECT {MESSAGE_COLUMNS} FROM {MESSAGE_FROM}
             WHERE {whose} AND m.id < $2 AND {}
             ORDER BY m.id DESC LIMIT $3",
            visible_to("$1")
        ))
        .await?;
    let rows = db
        .query(
            &stmt,
            &[&user, &before.unwrap_or(i64::MAX), &i64::from(limit)],
        )
        .await?;
    let items = collect(rows, message_from_row)?;
    let next_cursor = match items.last() {
        Some(last) if items.len() as u32 == limit => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

// --- read marks and deletes ------------------------------------------------------

pub(super) async fn mark_read(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user: UserId,
    conversation: ConversationId,
    up_to: MessageId,
) -> Result<i64> {
    require_member(tx, conversation, user).await?;
    let stmt = tx
        .prepare_cached("SELECT 1 FROM messages WHERE id = $1 AND conversation_id = $2")
        .await?;
    if tx
        .query_opt(&stmt, &[&up_to, &conversation])
        .await?
        .is_none()
    {
        return Err(Error::NotFound(format!(
            "message {up_to} in conversation {conversation}"
        )));
    }
    let stmt = tx
        .prepare_cached(
            "SELECT cm.last_read_id, cm.unread_count, u.username
             FROM conversation_members cm JOIN users u ON u.id = cm.user_id
             WHERE cm.conversation_id = $1 AND cm.user_id = $2",
        )
        .await?;
    let row = tx.query_one(&stmt, &[&conversation, &user]).await?;
    let read_up_to: MessageId = row.try_get(0)?;
    let unread: i64 = row.try_get(1)?;
    let username: String = row.try_get(2)?;
    if up_to <= read_up_to {
        // Already read that far: nothing moves, nobody is told.
        return Ok(0);
    }
    let remaining = unread_after(tx, conversation, user, up_to).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE conversation_members SET last_read_id = $3, unread_count = $4
             WHERE conversation_id = $1 AND user_id = $2",
        )
        .await?;
    tx.execute(&stmt, &[&conversation, &user, &up_to, &remaining])
        .await?;
    // The reader's devices update their counts; everyone else gets a receipt.
    let members = member_ids(tx, conversation).await?;
    let event = Event::ConversationRead {
        conversation_id: conversation,
        user: username,
        up_to,
    };
    emit_to(tx, events, &members, event).await?;
    Ok(unread - remaining)
}

/// One message a delete request names, checked and with its reach decided.
struct Doomed {
    id: MessageId,
    conversation: ConversationId,
    sender: Option<UserId>,
    for_everyone: bool,
}

pub(super) async fn delete(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user: UserId,
    ids: &[MessageId],
    scope: DeleteScope,
) -> Result<i64> {
    let doomed = check_deletable(tx, user, ids, scope).await?;
    // Who hears of which ids, grouped into one event per member and conversation.
    let mut notices: BTreeMap<(UserId, ConversationId), Vec<MessageId>> = BTreeMap::new();
    for message in &doomed {
        let told = if message.for_everyone {
            delete_for_everyone(tx, message).await?
        } else {
            hide(tx, user, message).await?;
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
        emit(tx, events, Some(member), event).await?;
    }
    Ok(doomed.len() as i64)
}

/// Every id must be visible to the user, and a delete for everyone must be of
/// their own messages; otherwise the whole request is refused. One query for all.
async fn check_deletable(
    tx: &Transaction<'_>,
    user: UserId,
    ids: &[MessageId],
    scope: DeleteScope,
) -> Result<Vec<Doomed>> {
    let stmt = tx
        .prepare_cached(&format!(
            "SELECT i.id, m.conversation_id, m.sender_id
             FROM unnest($2::bigint[]) AS i(id)
             LEFT JOIN (messages m JOIN conversation_members cm
                          ON cm.conversation_id = m.conversation_id AND cm.user_id = $1)
               ON m.id = i.id AND {}
             ORDER BY i.id",
            visible_to("$1")
        ))
        .await?;
    let rows = tx.query(&stmt, &[&user, &unique_ids(ids)]).await?;
    collect(rows, |row| {
        let id: MessageId = row.try_get(0)?;
        let conversation: Option<ConversationId> = row.try_get(1)?;
        let conversation = conversation.ok_or_else(|| Error::NotFound(format!("message {id}")))?;
        let sender: Option<UserId> = row.try_get(2)?;
        Ok(Doomed {
            id,
            conversation,
            sender,
            for_everyone: deletes_for_everyone(scope, id, sender == Some(user))?,
        })
    })
}

/// Leaves a tombstone and fixes every member's state; returns the members.
async fn delete_for_everyone(tx: &Transaction<'_>, message: &Doomed) -> Result<Vec<UserId>> {
    // Unread for each member who had neither read nor hidden it.
    let stmt = tx
        .prepare_cached(
            "UPDATE conversation_members cm SET unread_count = unread_count - 1
             WHERE cm.conversation_id = $1 AND cm.user_id <> $3 AND cm.last_read_id < $2
               AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                               WHERE h.user_id = cm.user_id AND h.message_id = $2)",
        )
        .await?;
    tx.execute(
        &stmt,
        &[&message.conversation, &message.id, &message.sender],
    )
    .await?;
    let stmt = tx
        .prepare_cached("UPDATE messages SET deleted = true, content = '' WHERE id = $1")
        .await?;
    tx.execute(&stmt, &[&message.id]).await?;
    refresh_where_last(tx, message, None).await?;
    member_ids(tx, message.conversation).await
}

async fn hide(tx: &Transaction<'_>, user: UserId, message: &Doomed) -> Result<()> {
    let stmt = tx
        .prepare_cached("INSERT INTO hidden_messages (user_id, message_id) VALUES ($1, $2)")
        .await?;
    tx.execute(&stmt, &[&user, &message.id]).await?;
    if message.sender != Some(user) {
        let stmt = tx
            .prepare_cached(
                "UPDATE conversation_members SET unread_count = unread_count - 1
                 WHERE conversation_id = $1 AND user_id = $2 AND last_read_id < $3",
            )
            .await?;
        tx.execute(&stmt, &[&message.conversation, &user, &message.id])
            .await?;
    }
    refresh_where_last(tx, message, Some(user)).await
}

/// Members (or just `only`) whose newest visible message this was need another.
async fn refresh_where_last(
    tx: &Transaction<'_>,
    message: &Doomed,
    only: Option<UserId>,
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "SELECT user_id FROM conversation_members
             WHERE conversation_id = $1 AND last_message_id = $2
               AND ($3::bigint IS NULL OR user_id = $3)",
        )
        .await?;
    let rows = tx
        .query(&stmt, &[&message.conversation, &message.id, &only])
        .await?;
    let users = collect(rows, |row| Ok(row.try_get(0)?))?;
    if users.is_empty() {
        return Ok(());
    }
    refresh_last(tx, message.conversation, &users).await
}

// --- rooms -----------------------------------------------------------------------

async fn load_room(db: &impl GenericClient, id: ConversationId) -> Result<Room> {
    let stmt = db
        .prepare_cached(
            "SELECT c.name, o.username, c.created_at FROM conversations c
             LEFT JOIN users o ON o.id = c.owner_id
             WHERE c.id = $1 AND c.kind = 'room'",
        )
        .await?;
    let Some(row) = db.query_opt(&stmt, &[&id]).await? else {
        return Err(Error::NotFound(format!("room {id}")));
    };
    let stmt = db
        .prepare_cached(
            "SELECT u.username FROM conversation_members cm JOIN users u ON u.id = cm.user_id
             WHERE cm.conversation_id = $1 ORDER BY u.username",
        )
        .await?;
    let members = collect(db.query(&stmt, &[&id]).await?, |row| Ok(row.try_get(0)?))?;
    Ok(Room {
        id,
        name: row.try_get(0)?,
        owner: row.try_get(1)?,
        members,
        created_at: from_millis(row.try_get(2)?),
    })
}

/// Tells every member how the room looks now.
async fn announce_room(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    id: ConversationId,
) -> Result<Room> {
    let room = load_room(tx, id).await?;
    let members = member_ids(tx, id).await?;
    let event = Event::RoomUpdated { room: room.clone() };
    emit_to(tx, events, &members, event).await?;
    Ok(room)
}

pub(super) async fn create_room(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    creator: UserId,
    name: &str,
    members: &[String],
) -> Result<Room> {
    let mut ids = active_ids(tx, members).await?;
    ids.retain(|&id| id != creator);
    if ids.len() + 1 > MAX_ROOM_MEMBERS {
        return Err(Error::Invalid(format!(
            "a room has at most {MAX_ROOM_MEMBERS} members"
        )));
    }
    let stmt = tx
        .prepare_cached(
            "INSERT INTO conversations (kind, name, owner_id, created_at)
             VALUES ('room', $1, $2, $3) RETURNING id",
        )
        .await?;
    let room = tx
        .query_one(&stmt, &[&name, &creator, &now_millis()])
        .await?
        .try_get(0)?;
    ids.insert(0, creator);
    add_members(tx, room, &ids).await?;
    announce_room(tx, events, room).await
}

pub(super) async fn change_room(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    actor: UserId,
    room: ConversationId,
    change: &RoomChange,
) -> Result<Room> {
    require_room_member(tx, room, actor).await?;
    let stmt = tx
        .prepare_cached("SELECT owner_id FROM conversations WHERE id = $1")
        .await?;
    let owner: Option<UserId> = tx.query_one(&stmt, &[&room]).await?.try_get(0)?;
    let owns = owner == Some(actor);
    match change {
        RoomChange::Add(name) => {
            if !owns {
                return Err(Error::Forbidden(
                    "only the room's owner adds members".into(),
                ));
            }
            let [user] = active_ids(tx, std::slice::from_ref(name)).await?[..] else {
                return Err(Error::Corrupt("one name resolved to several users".into()));
            };
            if membership(tx, room, user).await?.is_some() {
                return load_room(tx, room).await;
            }
            if member_ids(tx, room).await?.len() >= MAX_ROOM_MEMBERS {
                return Err(Error::Invalid(format!(
                    "room {room} already has {MAX_ROOM_MEMBERS} members"
                )));
            }
            add_members(tx, room, &[user]).await?;
        }
        RoomChange::Remove(name) => {
            let member = match user_id_by_name(tx, name).await? {
                Some(user) if membership(tx, room, user).await?.is_some() => user,
                _ => return Err(Error::NotFound(format!("member {name:?} of room {room}"))),
            };
            if member != actor && !owns {
                return Err(Error::Forbidden(
                    "only the room's owner removes others; members may only leave".into(),
                ));
            }
            leave(tx, room, member).await?;
            emit(tx, events, Some(member), Event::RoomLeft { room_id: room }).await?;
        }
    }
    announce_room(tx, events, room).await
}

/// Removes a member; the longest-standing member takes over a room its owner left.
async fn leave(tx: &Transaction<'_>, room: ConversationId, user: UserId) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
        )
        .await?;
    tx.execute(&stmt, &[&room, &user]).await?;
    let stmt = tx
        .prepare_cached(
            "UPDATE conversations SET owner_id =
               (SELECT user_id FROM conversation_members WHERE conversation_id = $1
                ORDER BY joined_at, user_id LIMIT 1)
             WHERE id = $1 AND owner_id = $2",
        )
        .await?;
    tx.execute(&stmt, &[&room, &user]).await?;
    Ok(())
}

/// Run in a snapshot, so each room is listed as it was at one moment.
pub(super) async fn rooms(tx: &Transaction<'_>, user: UserId) -> Result<Vec<Room>> {
    let stmt = tx
        .prepare_cached(
            "SELECT c.id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = $1 AND c.kind = 'room' ORDER BY c.name, c.id",
        )
        .await?;
    let ids: Vec<ConversationId> =
        collect(tx.query(&stmt, &[&user]).await?, |row| Ok(row.try_get(0)?))?;
    let mut rooms = Vec::with_capacity(ids.len());
    for id in ids {
        rooms.push(load_room(tx, id).await?);
    }
    Ok(rooms)
}

/// Before a user is deleted: they leave their rooms (whose other members hear of
/// it), and their direct conversations lose the pair key.
pub(super) async fn forget_user(
    tx: &Transaction<'_>,
    events: &mut Vec<StoredEvent>,
    user: UserId,
) -> Result<()> {
    let stmt = tx
        .prepare_cached(
            "SELECT cm.conversation_id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = $1 AND c.kind = 'room'",
        )
        .await?;
    let rooms: Vec<ConversationId> =
        collect(tx.query(&stmt, &[&user]).await?, |row| Ok(row.try_get(0)?))?;
    for room in rooms {
        leave(tx, room, user).await?;
        announce_room(tx, events, room).await?;
    }
    let stmt = tx
        .prepare_cached(
            "UPDATE conversations SET direct_key = NULL
             WHERE kind = 'direct'
               AND id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1)",
        )
        .await?;
    tx.execute(&stmt, &[&user]).await?;
    Ok(())
}
