//! Rooms: named conversations whose owner manages the members.

use herald_protocol::stored::from_millis;
use herald_protocol::{ConversationId, Event, Room, UserId};

use super::members::{add_members, member_ids, membership, require_room_member};
use crate::db::Db;
use crate::rows::now_millis;
use crate::{names, rules, stream, Error, Result, RoomChange, StoredEvent};

pub(crate) async fn load_room(db: &impl Db, id: ConversationId) -> Result<Room> {
    let (name, owner, created_at): (String, Option<String>, i64) = db
        .query_opt(
            "SELECT c.name, o.username, c.created_at FROM conversations c
             LEFT JOIN users o ON o.id = c.owner_id
             WHERE c.id = $1 AND c.kind = 'room'",
            &[&id],
            |row| Ok((row.get(0)?, row.get(1)?, row.get(2)?)),
        )
        .await?
        .ok_or_else(|| Error::NotFound(format!("room {id}")))?;
    let members = db
        .query(
            "SELECT u.username FROM conversation_members cm JOIN users u ON u.id = cm.user_id
             WHERE cm.conversation_id = $1 ORDER BY u.username",
            &[&id],
            |row| row.get(0),
        )
        .await?;
    Ok(Room {
        id,
        name,
        owner,
        members,
        created_at: from_millis(created_at),
    })
}

/// Tells `members` how the room looks now; everyone else hears of changes only
/// (see [`change_room`]), so a change costs O(members), not O(members²).
async fn show_room<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    id: ConversationId,
    members: &[UserId],
) -> Result<Room> {
    let room = load_room(db, id).await?;
    let event = Event::RoomUpdated { room: room.clone() };
    stream::emit_to(db, events, members, event).await?;
    Ok(room)
}

/// Tells the room's members but `who` (the one the change is about) of it.
async fn tell_others<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    room: ConversationId,
    who: UserId,
    event: Event,
) -> Result<()> {
    let mut others = member_ids(db, room).await?;
    others.retain(|&member| member != who);
    stream::emit_to(db, events, &others, event).await
}

/// A room owned by `creator`, with them and the named active users as members.
pub(crate) async fn create_room<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    creator: UserId,
    name: &str,
    members: &[String],
) -> Result<Room> {
    let mut ids = names::active_ids(db, members).await?;
    ids.retain(|&id| id != creator);
    ids.insert(0, creator);
    rules::room_may_hold(ids.len())?;
    let room = db
        .insert_one(
            "INSERT INTO conversations (kind, name, owner_id, created_at)
             VALUES ('room', $1, $2, $3)",
            "id",
            &[&name, &creator, &now_millis()],
        )
        .await?;
    add_members(db, room, &ids).await?;
    show_room(db, events, room, &ids).await
}

pub(crate) async fn change_room<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    actor: UserId,
    room: ConversationId,
    change: &RoomChange,
) -> Result<Room> {
    require_room_member(db, room, actor).await?;
    let owner: Option<UserId> = db
        .query_one(
            "SELECT owner_id FROM conversations WHERE id = $1",
            &[&room],
            |row| row.get(0),
        )
        .await?;
    let owns = owner == Some(actor);
    match change {
        RoomChange::Add(name) => {
            rules::may_add_members(owns)?;
            let user = names::active_id(db, name).await?;
            if membership(db, room, user).await?.is_some() {
                return load_room(db, room).await;
            }
            let size = member_ids(db, room).await?.len();
            rules::room_may_grow(room, size)?;
            add_members(db, room, &[user]).await?;
            let added = Event::RoomMemberAdded {
                room_id: room,
                user: name.clone(),
            };
            tell_others(db, events, room, user, added).await?;
            show_room(db, events, room, &[user]).await
        }
        RoomChange::Remove(name) => {
            let member = match names::user_id(db, name).await? {
                Some(user) if membership(db, room, user).await?.is_some() => user,
                _ => return Err(Error::NotFound(format!("member {name:?} of room {room}"))),
            };
            rules::may_remove_member(actor, member, owns)?;
            let left = leave(db, events, room, member, name).await?;
            let event = Event::RoomLeft { room_id: room };
            stream::emit(db, events, Some(member), event).await?;
            Ok(left)
        }
    }
}

/// Removes a member and tells the others; the longest-standing member takes
/// over a room its owner left. Returns the room as it is now.
async fn leave<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    room: ConversationId,
    user: UserId,
    username: &str,
) -> Result<Room> {
    db.execute(
        "DELETE FROM conversation_members WHERE conversation_id = $1 AND user_id = $2",
        &[&room, &user],
    )
    .await?;
    db.execute(
        "UPDATE conversations SET owner_id =
           (SELECT user_id FROM conversation_members WHERE conversation_id = $1
            ORDER BY joined_at, user_id LIMIT 1)
         WHERE id = $1 AND owner_id = $2",
        &[&room, &user],
    )
    .await?;
    let now = load_room(db, room).await?;
    let removed = Event::RoomMemberRemoved {
        room_id: room,
        user: username.to_owned(),
        owner: now.owner.clone(),
    };
    tell_others(db, events, room, user, removed).await?;
    Ok(now)
}

/// The user's rooms by name; run in one snapshot, so each is listed as it was
/// at one moment.
pub(crate) async fn rooms(db: &impl Db, user: UserId) -> Result<Vec<Room>> {
    let ids: Vec<ConversationId> = db
        .query(
            "SELECT c.id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = $1 AND c.kind = 'room' ORDER BY c.name, c.id",
            &[&user],
            |row| row.get(0),
        )
        .await?;
    let mut rooms = Vec::with_capacity(ids.len());
    for id in ids {
        rooms.push(load_room(db, id).await?);
    }
    Ok(rooms)
}

/// Before a user is deleted: they leave their rooms (whose other members hear of
/// it), and their direct conversations lose the pair key, so a user who later
/// gets the same id never inherits them.
pub(crate) async fn forget_user<D: Db>(
    db: &D,
    events: &mut Vec<StoredEvent>,
    user: UserId,
) -> Result<()> {
    let username: Option<String> = db
        .query_opt(
            "SELECT username FROM users WHERE id = $1",
            &[&user],
            |row| row.get(0),
        )
        .await?;
    let Some(username) = username else {
        return Ok(());
    };
    let rooms: Vec<ConversationId> = db
        .query(
            "SELECT cm.conversation_id FROM conversation_members cm
             JOIN conversations c ON c.id = cm.conversation_id
             WHERE cm.user_id = $1 AND c.kind = 'room'",
            &[&user],
            |row| row.get(0),
        )
        .await?;
    for room in rooms {
        leave(db, events, room, user, &username).await?;
    }
    db.execute(
        "UPDATE conversations SET direct_key = NULL
         WHERE kind = 'direct'
           AND id IN (SELECT conversation_id FROM conversation_members WHERE user_id = $1)",
        &[&user],
    )
    .await?;
    Ok(())
}
