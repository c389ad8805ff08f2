//! Messages: sending (and retrying), history, read marks and deletes.

use std::collections::BTreeMap;

use herald_protocol::{ConversationId, Event, Message, MessageId, Page, UserId};

use super::members::{
    add_members, direct_conversation_id, member_ids, recount_unread, refresh_last, require_member,
    require_room_member, unread_after, visible_to,
};
use crate::db::{Db, Ids, ListSql, Param};
use crate::rows::{self, message_columns, message_from, now_millis};
use crate::rules::{self, EarlierSend};
use crate::{
    names, stream, unique_ids, DeleteScope, Error, HistoryRange, MessageTarget, MessageView,
    NewMessage, Result, Sent, StoredEvent,
};

pub(crate) async fn load_message(db: &impl Db, id: MessageId) -> Result<Message> {
    const LOAD: &str = concat!(
        "SELECT ",
        message_columns!(),
        " FROM ",
        message_from!(),
        " WHERE m.id = $1"
    );
    db.query_opt(LOAD, &[&id], |row| rows::message(row, 0))
        .await?
        .ok_or_else(|| Error::Corrupt(format!("message {id} vanished")))
}

// --- sending -------------------------------------------------------------------

/// Stores a message and tells every member, or returns the earlier one when
/// this is a retry of a send that already succeeded.
pub(crate) async fn send<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    new: &NewMessage,
) -> Result<Sent> {
    if let Some(sent) = retry(db, new).await? {
        return Ok(sent);
    }
    let conversation = match &new.target {
        MessageTarget::User(name) => {
            let peer = names::active_id(db, name).await?;
            rules::may_message(new.sender, peer)?;
            direct_conversation(db, new.sender, peer).await?
        }
        MessageTarget::Room(room) => {
            require_room_member(db, *room, new.sender).await?;
            *room
        }
    };
    let now = now_millis();
    let params: [&dyn Param; 5] = [
        &conversation,
        &new.sender,
        &new.client_id,
        &new.content,
        &now,
    ];
    let id: MessageId = db
        .insert_one(
            "INSERT INTO messages (conversation_id, sender_id, client_id, content, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            "id",
            &params,
        )
        .await?;
    db.execute(
        "UPDATE conversation_members SET
            last_message_id = $2,
            last_time = CASE WHEN last_time > $3 THEN last_time ELSE $3 END,
            unread_count = unread_count + CASE WHEN user_id <> $4 THEN 1 ELSE 0 END
         WHERE conversation_id = $1",
        &[&conversation, &id, &now, &new.sender],
    )
    .await?;
    let message = load_message(db, id).await?;
    let members = member_ids(db, conversation).await?;
    let event = Event::MessageCreated {
        message: message.clone(),
    };
    stream::emit_to(db, events, &members, event).await?;
    Ok(Sent {
        message,
        created: true,
    })
}

/// The message an earlier send with the same `client_id` stored, if this is a
/// retry of it. Checked before anything else, so a retry succeeds even if the
/// peer has since been disabled or the sender left the room.
async fn retry(db: &impl Db, new: &NewMessage) -> Result<Option<Sent>> {
    let earlier = db
        .query_opt(
            "SELECT id, conversation_id, content, deleted FROM messages
             WHERE sender_id = $1 AND client_id = $2",
            &[&new.sender, &new.client_id],
            |row| {
                Ok(EarlierSend {
                    id: row.get(0)?,
                    conversation: row.get(1)?,
                    content: row.get(2)?,
                    deleted: row.get(3)?,
                })
            },
        )
        .await?;
    let Some(earlier) = earlier else {
        return Ok(None);
    };
    let target = match &new.target {
        MessageTarget::Room(room) => Some(*room),
        MessageTarget::User(name) => match names::user_id(db, name).await? {
            Some(peer) => direct_conversation_id(db, &rules::direct_key(new.sender, peer)).await?,
            None => None,
        },
    };
    rules::check_retry(new, &earlier, target)?;
    Ok(Some(Sent {
        message: load_message(db, earlier.id).await?,
        created: false,
    }))
}

/// The pair's conversation, created with both as members on first use.
async fn direct_conversation<D: Db>(db: &D, a: UserId, b: UserId) -> Result<ConversationId> {
    let key = rules::direct_key(a, b);
    if let Some(id) = direct_conversation_id(db, &key).await? {
        return Ok(id);
    }
    let id = db
        .insert_one(
            "INSERT INTO conversations (kind, direct_key, created_at) VALUES ('direct', $1, $2)",
            "id",
            &[&key, &now_millis()],
        )
        .await?;
    add_members(db, id, &[a, b]).await?;
    Ok(id)
}

// --- reading -------------------------------------------------------------------

/// Run in one snapshot, so membership and history agree.
pub(crate) async fn history(
    db: &impl Db,
    user: UserId,
    conversation: ConversationId,
    range: HistoryRange,
) -> Result<Page<Message>> {
    require_member(db, conversation, user).await?;
    // Only `after`: the messages right after it, so paging forwards skips none.
    let forward = range.after.is_some() && range.before.is_none();
    const PAGE: &str = concat!(
        "SELECT ",
        message_columns!(),
        " FROM ",
        message_from!(),
        " WHERE m.conversation_id = $2 AND m.id > $3 AND m.id < $4 AND ",
        visible_to!("$1"),
        " ORDER BY m.id"
    );
    let sql = format!("{PAGE} {} LIMIT $5", if forward { "ASC" } else { "DESC" });
    let params: [&dyn Param; 5] = [
        &user,
        &conversation,
        &range.after.unwrap_or(0),
        &range.before.unwrap_or(i64::MAX),
        &i64::from(range.limit),
    ];
    let mut items = db.query(&sql, &params, |row| rows::message(row, 0)).await?;
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

pub(crate) async fn message_list(
    db: &impl Db,
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
    let sql = format!(
        "SELECT {} FROM {} WHERE {whose} AND m.id < $2 AND {} ORDER BY m.id DESC LIMIT $3",
        message_columns!(),
        message_from!(),
        visible_to!("$1")
    );
    let params: [&dyn Param; 3] = [&user, &before.unwrap_or(i64::MAX), &i64::from(limit)];
    let items = db.query(&sql, &params, |row| rows::message(row, 0)).await?;
    let next_cursor = match items.last() {
        Some(last) if items.len() as u32 == limit => Some(last.id.to_string()),
        _ => None,
    };
    Ok(Page { items, next_cursor })
}

// --- read marks and deletes ------------------------------------------------------

/// Moves the user's read mark forward to `up_to`; every member hears of it (the
/// reader's devices update their counts, everyone else gets a receipt).
pub(crate) async fn mark_read<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    user: UserId,
    conversation: ConversationId,
    up_to: MessageId,
) -> Result<i64> {
    require_member(db, conversation, user).await?;
    let in_conversation = db
        .query_opt(
            "SELECT id FROM messages WHERE id = $1 AND conversation_id = $2",
            &[&up_to, &conversation],
            |row| row.get::<i64>(0),
        )
        .await?;
    if in_conversation.is_none() {
        return Err(Error::NotFound(format!(
            "message {up_to} in conversation {conversation}"
        )));
    }
    let (read_up_to, unread, username): (MessageId, i64, String) = db
        .query_one(
            "SELECT cm.last_read_id, cm.unread_count, u.username
             FROM conversation_members cm JOIN users u ON u.id = cm.user_id
             WHERE cm.conversation_id = $1 AND cm.user_id = $2",
            &[&conversation, &user],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .await?;
    if up_to <= read_up_to {
        // Already read that far: nothing moves, nobody is told.
        return Ok(0);
    }
    let remaining = unread_after(db, conversation, user, up_to).await?;
    db.execute(
        "UPDATE conversation_members SET last_read_id = $3, unread_count = $4
         WHERE conversation_id = $1 AND user_id = $2",
        &[&conversation, &user, &up_to, &remaining],
    )
    .await?;
    let members = member_ids(db, conversation).await?;
    let event = Event::ConversationRead {
        conversation_id: conversation,
        user: username,
        up_to,
    };
    stream::emit_to(db, events, &members, event).await?;
    Ok(unread - remaining)
}

/// One message a delete request names, checked and with its reach decided.
struct Doomed {
    id: MessageId,
    conversation: ConversationId,
    sender: Option<UserId>,
    for_everyone: bool,
}

/// Deletes all-or-nothing; each member hears once per conversation of the ids
/// gone for them.
pub(crate) async fn delete<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    user: UserId,
    ids: &[MessageId],
    scope: DeleteScope,
) -> Result<i64> {
    let doomed = check_deletable(db, user, ids, scope).await?;
    // Who hears of which ids, grouped into one event per member and conversation.
    let mut notices: BTreeMap<(UserId, ConversationId), Vec<MessageId>> = BTreeMap::new();
    for message in &doomed {
        let told = if message.for_everyone {
            delete_for_everyone(db, message).await?
        } else {
            hide(db, user, message).await?;
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
        stream::emit(db, events, Some(member), event).await?;
    }
    Ok(doomed.len() as i64)
}

/// Every id must be visible to the user, and a delete for everyone must be of
/// their own messages; otherwise the whole request is refused. One query for all.
async fn check_deletable<D: Db>(
    db: &D,
    user: UserId,
    ids: &[MessageId],
    scope: DeleteScope,
) -> Result<Vec<Doomed>> {
    // Per id: its conversation and sender if the user is a member and can see it.
    static VISIBLE: ListSql = ListSql::new(concat!(
        "SELECT i.value, m.conversation_id, m.sender_id
         FROM {list $2 AS i}
         LEFT JOIN (messages m JOIN conversation_members cm
                      ON cm.conversation_id = m.conversation_id AND cm.user_id = $1)
           ON m.id = i.value AND ",
        visible_to!("$1"),
        " ORDER BY i.value"
    ));
    let ids = unique_ids(ids);
    db.query(VISIBLE.text::<D>(), &[&user, &Ids(&ids)], |row| {
        let id: MessageId = row.get(0)?;
        let conversation: Option<ConversationId> = row.get(1)?;
        let conversation = conversation.ok_or_else(|| Error::NotFound(format!("message {id}")))?;
        let sender: Option<UserId> = row.get(2)?;
        Ok(Doomed {
            id,
            conversation,
            sender,
            for_everyone: rules::deletes_for_everyone(scope, id, sender == Some(user))?,
        })
    })
    .await
}

/// Leaves a tombstone and fixes every member's state; returns the members.
async fn delete_for_everyone<D: Db>(db: &D, message: &Doomed) -> Result<Vec<UserId>> {
    // Unread for each member who had neither read nor hidden it.
    db.execute(
        "UPDATE conversation_members AS cm SET unread_count = unread_count - 1
         WHERE cm.conversation_id = $1 AND cm.user_id <> $3 AND cm.last_read_id < $2
           AND NOT EXISTS (SELECT 1 FROM hidden_messages h
                           WHERE h.user_id = cm.user_id AND h.message_id = $2)",
        &[&message.conversation, &message.id, &message.sender],
    )
    .await?;
    db.execute(
        "UPDATE messages SET deleted = TRUE, content = '' WHERE id = $1",
        &[&message.id],
    )
    .await?;
    refresh_where_last(db, message.conversation, &[message.id], None).await?;
    member_ids(db, message.conversation).await
}

async fn hide<D: Db>(db: &D, user: UserId, message: &Doomed) -> Result<()> {
    db.execute(
        "INSERT INTO hidden_messages (user_id, message_id) VALUES ($1, $2)",
        &[&user, &message.id],
    )
    .await?;
    if message.sender != Some(user) {
        db.execute(
            "UPDATE conversation_members SET unread_count = unread_count - 1
             WHERE conversation_id = $1 AND user_id = $2 AND last_read_id < $3",
            &[&message.conversation, &user, &message.id],
        )
        .await?;
    }
    refresh_where_last(db, message.conversation, &[message.id], Some(user)).await
}

/// Members (or just `only`) whose newest visible message was one of `ids`
/// need another.
async fn refresh_where_last<D: Db>(
    db: &D,
    conversation: ConversationId,
    ids: &[MessageId],
    only: Option<UserId>,
) -> Result<()> {
    static WHERE_LAST: ListSql = ListSql::new(
        "SELECT user_id FROM conversation_members
         WHERE conversation_id = $1 AND last_message_id IN (SELECT i.value FROM {list $2 AS i})
           AND ($3 IS NULL OR user_id = $3)",
    );
    let params: [&dyn Param; 3] = [&conversation, &Ids(ids), &only];
    let users: Vec<UserId> = db
        .query(WHERE_LAST.text::<D>(), &params, |row| row.get(0))
        .await?;
    if users.is_empty() {
        return Ok(());
    }
    refresh_last(db, conversation, &users).await
}

// --- retention -------------------------------------------------------------------

/// Removes up to `chunk` of the oldest messages created before `before`
/// (tombstones included) and keeps what depends on them right: nobody's
/// unread count counts them, and a member whose newest visible message went
/// gets the one before it. Their `message.created` events then replay as
/// their deletion. Returns how many went.
pub(crate) async fn purge<D: Db>(db: &D, before: i64, chunk: i64) -> Result<i64> {
    static HIDDEN: ListSql = ListSql::new(
        "DELETE FROM hidden_messages WHERE message_id IN (SELECT i.value FROM {list $1 AS i})",
    );
    static MESSAGES: ListSql =
        ListSql::new("DELETE FROM messages WHERE id IN (SELECT i.value FROM {list $1 AS i})");
    let old: Vec<(MessageId, ConversationId)> = db
        .query(
            "SELECT id, conversation_id FROM messages WHERE created_at < $1 ORDER BY id LIMIT $2",
            &[&before, &chunk],
            |row| Ok((row.get(0)?, row.get(1)?)),
        )
        .await?;
    if old.is_empty() {
        return Ok(0);
    }
    let ids: Vec<MessageId> = old.iter().map(|&(id, _)| id).collect();
    db.execute(HIDDEN.text::<D>(), &[&Ids(&ids)]).await?;
    db.execute(MESSAGES.text::<D>(), &[&Ids(&ids)]).await?;
    let mut conversations: Vec<ConversationId> = old.iter().map(|&(_, c)| c).collect();
    conversations.sort_unstable();
    conversations.dedup();
    recount_unread(db, &conversations).await?;
    for conversation in conversations {
        refresh_where_last(db, conversation, &ids, None).await?;
    }
    Ok(ids.len() as i64)
}
