//! Membership and each member's row: who is in a conversation, their read
//! mark, unread count and newest visible message.

use herald_protocol::{ConversationId, ConversationKind, MessageId, UserId};

use crate::db::{Db, Ids, ListSql, Param};
use crate::rows::{self, now_millis};
use crate::{Error, Result};

/// The condition that message `m` is visible to the user the SQL expression
/// names: not deleted for everyone, not hidden by them.
macro_rules! visible_to {
    ($user:literal) => {
        concat!(
            "NOT m.deleted AND NOT EXISTS
               (SELECT 1 FROM hidden_messages h WHERE h.user_id = ",
            $user,
            " AND h.message_id = m.id)"
        )
    };
}
pub(crate) use visible_to;

/// The kind of the conversation if `user` is a member of it.
pub(crate) async fn membership(
    db: &impl Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<Option<ConversationKind>> {
    db.query_opt(
        "SELECT c.kind FROM conversation_members cm
         JOIN conversations c ON c.id = cm.conversation_id
         WHERE cm.conversation_id = $1 AND cm.user_id = $2",
        &[&conversation, &user],
        |row| rows::conversation_kind(row, 0),
    )
    .await
}

/// Members only: anyone else gets the same "not found" as for a conversation
/// that does not exist, so ids reveal nothing.
pub(crate) async fn require_member(
    db: &impl Db,
    conversation: ConversationId,
    user: UserId,
) -> Result<()> {
    match membership(db, conversation, user).await? {
        Some(_) => Ok(()),
        None => Err(Error::NotFound(format!("conversation {conversation}"))),
    }
}

pub(crate) async fn require_room_member(
    db: &impl Db,
    room: ConversationId,
    user: UserId,
) -> Result<()> {
    match membership(db, room, user).await? {
        Some(ConversationKind::Room) => Ok(()),
        _ => Err(Error::NotFound(format!("room {room}"))),
    }
}

/// Every member, by id.
pub(crate) async fn member_ids(db: &impl Db, conversation: ConversationId) -> Result<Vec<UserId>> {
    db.query(
        "SELECT user_id FROM conversation_members WHERE conversation_id = $1 ORDER BY user_id",
        &[&conversation],
        |row| row.get(0),
    )
    .await
}

/// Makes `users` members with nothing unread: joining a room does not make its
/// history unread (as a new user does not inherit old broadcasts as unread).
pub(crate) async fn add_members<D: Db>(
    db: &D,
    conversation: ConversationId,
    users: &[UserId],
) -> Result<()> {
    static ADD_MEMBERS: ListSql = ListSql::new(
        "INSERT INTO conversation_members
            (conversation_id, user_id, joined_at, last_read_id, last_time)
         SELECT $1, i.value, $3,
                (SELECT coalesce(max(id), 0) FROM messages WHERE conversation_id = $1), $3
         FROM {list $2 AS i} ORDER BY i.key",
    );
    let params: [&dyn Param; 3] = [&conversation, &Ids(users), &now_millis()];
    db.execute(ADD_MEMBERS.text::<D>(), &params).await?;
    refresh_last(db, conversation, users).await
}

/// Recomputes the newest message each of `users` can see and the list position
/// it gives. Costs one step down the index per user unless they hid the newest.
pub(crate) async fn refresh_last<D: Db>(
    db: &D,
    conversation: ConversationId,
    users: &[UserId],
) -> Result<()> {
    static LAST_MESSAGE: ListSql = ListSql::new(concat!(
        "UPDATE conversation_members AS cm SET last_message_id =
           (SELECT m.id FROM messages m
            WHERE m.conversation_id = $1 AND ",
        visible_to!("cm.user_id"),
        " ORDER BY m.id DESC LIMIT 1)
         WHERE cm.conversation_id = $1 AND cm.user_id IN (SELECT i.value FROM {list $2 AS i})"
    ));
    // The later of that message's time and when they joined: the list's sort key.
    static LAST_TIME: ListSql = ListSql::new(
        "UPDATE conversation_members AS cm SET last_time = coalesce(
           (SELECT created_at FROM messages
            WHERE id = cm.last_message_id AND created_at > cm.joined_at), cm.joined_at)
         WHERE cm.conversation_id = $1 AND cm.user_id IN (SELECT i.value FROM {list $2 AS i})",
    );
    for sql in [&LAST_MESSAGE, &LAST_TIME] {
        db.execute(sql.text::<D>(), &[&conversation, &Ids(users)])
            .await?;
    }
    Ok(())
}

/// Others' messages after `after` that `user` can see: their unread count once
/// they have read up to `after`. Costs what is still unread, never the history.
pub(crate) async fn unread_after(
    db: &impl Db,
    conversation: ConversationId,
    user: UserId,
    after: MessageId,
) -> Result<i64> {
    const UNREAD_AFTER: &str = concat!(
        "SELECT count(*) FROM messages m
         WHERE m.conversation_id = $2 AND m.id > $3
           AND m.sender_id IS DISTINCT FROM $1 AND ",
        visible_to!("$1")
    );
    db.query_one(UNREAD_AFTER, &[&user, &conversation, &after], |row| {
        row.get(0)
    })
    .await
}

/// Counts every member's unread messages in `conversations` again from
/// history, after messages went without each member's count being told.
pub(crate) async fn recount_unread<D: Db>(db: &D, conversations: &[ConversationId]) -> Result<()> {
    static RECOUNT: ListSql = ListSql::new(concat!(
        "UPDATE conversation_members AS cm SET unread_count =
           (SELECT count(*) FROM messages m
            WHERE m.conversation_id = cm.conversation_id AND m.id > cm.last_read_id
              AND m.sender_id IS DISTINCT FROM cm.user_id AND ",
        visible_to!("cm.user_id"),
        ") WHERE cm.conversation_id IN (SELECT i.value FROM {list $1 AS i})"
    ));
    db.execute(RECOUNT.text::<D>(), &[&Ids(conversations)])
        .await?;
    Ok(())
}

/// Every conversation's unread messages, from the member rows alone.
pub(crate) const UNREAD_TOTAL: &str =
    "SELECT CAST(coalesce(sum(unread_count), 0) AS bigint) FROM conversation_members
     WHERE user_id = $1";

pub(crate) async fn unread_total(db: &impl Db, user: UserId) -> Result<i64> {
    db.query_one(UNREAD_TOTAL, &[&user], |row| row.get(0)).await
}

/// The direct conversation with this pair key, if there is one.
pub(crate) async fn direct_conversation_id(
    db: &impl Db,
    key: &str,
) -> Result<Option<ConversationId>> {
    db.query_opt(
        "SELECT id FROM conversations WHERE direct_key = $1",
        &[&key],
        |row| row.get(0),
    )
    .await
}
