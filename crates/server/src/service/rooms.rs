//! Rooms: group conversations whose owner manages the members.

use herald_protocol::{
    text, validate_username, ConversationId, CreateRoom, Room, User, UserId, MAX_ROOM_MEMBERS,
    MAX_ROOM_NAME_CHARS,
};
use herald_store::RoomChange;

use crate::state::AppState;
use crate::{Error, Result};

/// The rooms `user` is a member of.
pub async fn list(state: &AppState, user: UserId) -> Result<Vec<Room>> {
    Ok(state.store.rooms(user).await?)
}

pub async fn create(state: &AppState, me: &User, request: CreateRoom) -> Result<Room> {
    let name = text::required_line("name", &request.name, MAX_ROOM_NAME_CHARS)?.to_owned();
    // The creator is the last of them.
    if request.members.len() >= MAX_ROOM_MEMBERS {
        return Err(Error::BadRequest(format!(
            "a room has at most {MAX_ROOM_MEMBERS} members: name at most {} besides you",
            MAX_ROOM_MEMBERS - 1
        )));
    }
    for member in &request.members {
        validate_username(member).map_err(Error::BadRequest)?;
    }
    Ok(state
        .store
        .create_room(me.id, name, request.members)
        .await?)
}

/// Adding is the owner's; removing is the owner's, or a member's own leaving.
pub async fn change(
    state: &AppState,
    me: &User,
    room: ConversationId,
    change: RoomChange,
) -> Result<Room> {
    let (RoomChange::Add(name) | RoomChange::Remove(name)) = &change;
    validate_username(name).map_err(Error::BadRequest)?;
    Ok(state.store.change_room(me.id, room, change).await?)
}
