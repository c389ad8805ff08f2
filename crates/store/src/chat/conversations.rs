//! The conversation list: the caller's member rows, newest first.

use herald_protocol::stored::from_millis;
use herald_protocol::{
    Conversation, ConversationId, ConversationKind, MessageId, Page, User, UserId,
};

use super::messages::load_message;
use super::rooms::load_room;
use crate::db::{Db, Param};
use crate::rows::{self, user_columns};
use crate::{rules, ConversationCursor, ConversationFilter, Result};

/// A row of the conversation list before its message and room are loaded.
struct ListRow {
    id: ConversationId,
    kind: ConversationKind,
    unread_count: i64,
    read_up_to: MessageId,
    last_time_ms: i64,
    last_message_id: Option<MessageId>,
    peer_read_up_to: Option<MessageId>,
    peer: Option<User>,
}

/// The caller's member rows in list order, each with the peer of a direct
/// conversation. Reads no message but the ones the rows name.
pub(crate) fn list_sql(condition: &str) -> String {
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
        user_columns!("p")
    )
}

/// The condition [`list_sql`] pages with.
pub(crate) const PAGE_CONDITION: &str = "(cm.last_time, cm.conversation_id) < ($2, $3)";

/// Run in one snapshot: the rows and the messages and rooms they name agree.
pub(crate) async fn conversations(
    db: &impl Db,
    user: UserId,
    filter: ConversationFilter,
) -> Result<Page<Conversation>> {
    // Parameters: $1 user, $2/$3 the position to continue after, $4 direct key,
    // $5 limit. Unused ones are bound and ignored.
    let (condition, after, key, limit) = match filter {
        ConversationFilter::Page { after, limit } => (PAGE_CONDITION, after, None, limit),
        ConversationFilter::Peer(peer) => (
            "c.direct_key = $4",
            None,
            Some(rules::direct_key(user, peer)),
            1,
        ),
    };
    let after = after.unwrap_or(ConversationCursor {
        last_time_ms: i64::MAX,
        id: i64::MAX,
    });
    let params: [&dyn Param; 5] = [
        &user,
        &after.last_time_ms,
        &after.id,
        &key,
        &i64::from(limit),
    ];
    let rows = db
        .query(&list_sql(condition), &params, |row| {
            let peer_id: Option<UserId> = row.get(7)?;
            Ok(ListRow {
                id: row.get(0)?,
                kind: rows::conversation_kind(row, 1)?,
                unread_count: row.get(2)?,
                read_up_to: row.get(3)?,
                last_time_ms: row.get(4)?,
                last_message_id: row.get(5)?,
                peer_read_up_to: row.get(6)?,
                peer: peer_id.map(|_| rows::user(row, 7)).transpose()?,
            })
        })
        .await?;
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
            ConversationKind::Room => Some(load_room(db, row.id).await?),
            ConversationKind::Direct => None,
        };
        let last_message = match row.last_message_id {
            Some(id) => Some(load_message(db, id).await?),
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
