//! Decisions the store makes from facts it has read: pure functions, so each
//! rule is written and tested once, whatever the backend.

use herald_protocol::{
    ConversationId, MessageId, NotificationId, NotificationKind, UserId, MAX_CONTACTS,
    MAX_ROOM_MEMBERS,
};

use crate::{DeleteScope, Error, NewMessage, Result, UserChanges};

/// The ids of names looked up as `(name, id if an active user)`, or
/// [`Error::UnknownUsers`] naming every name without one.
pub(crate) fn all_known(found: Vec<(String, Option<UserId>)>) -> Result<Vec<UserId>> {
    let mut ids = Vec::with_capacity(found.len());
    let mut unknown = Vec::new();
    for (name, id) in found {
        match id {
            Some(id) => ids.push(id),
            None => unknown.push(name),
        }
    }
    if !unknown.is_empty() {
        return Err(Error::UnknownUsers(unknown));
    }
    Ok(ids)
}

/// The one id a lookup of one name found.
pub(crate) fn exactly_one(ids: Vec<UserId>) -> Result<UserId> {
    match ids[..] {
        [id] => Ok(id),
        _ => Err(Error::Corrupt("one name resolved to several users".into())),
    }
}

/// The key of the one row an insert of one row inserted.
pub(crate) fn exactly_one_row(keys: Vec<i64>) -> Result<i64> {
    match keys[..] {
        [key] => Ok(key),
        _ => Err(Error::Corrupt(format!(
            "an insert of one row inserted {}",
            keys.len()
        ))),
    }
}

/// A `LIKE` pattern matching names that start with `prefix` literally.
pub(crate) fn prefix_pattern(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

/// A disabled account or a changed password ends every session.
pub(crate) fn ends_sessions(changes: &UserChanges) -> bool {
    changes.disabled == Some(true) || changes.password_hash.is_some()
}

pub(crate) fn may_add_contact(owner: UserId, contact: UserId) -> Result<()> {
    if contact == owner {
        return Err(Error::Invalid(
            "you cannot add yourself as a contact".into(),
        ));
    }
    Ok(())
}

/// Whether a list of `count` contacts may take one more.
pub(crate) fn contact_list_has_room(count: i64) -> Result<()> {
    if count >= MAX_CONTACTS as i64 {
        return Err(Error::Invalid(format!(
            "you already have {MAX_CONTACTS} contacts; remove some first"
        )));
    }
    Ok(())
}

/// How a notification the user named stands for them, from what the visibility
/// query found: their personal read flag, else a broadcast's read state, else
/// it is not theirs to see.
pub(crate) fn notification_standing(
    id: NotificationId,
    personal: Option<bool>,
    broadcast: Option<bool>,
) -> Result<(NotificationKind, bool)> {
    match (personal, broadcast) {
        (Some(read), _) => Ok((NotificationKind::Personal, read)),
        (None, Some(read)) => Ok((NotificationKind::Broadcast, read)),
        (None, None) => Err(Error::NotFound(format!("notification {id}"))),
    }
}

/// One key per pair, whichever of the two sends first.
pub(crate) fn direct_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", a.min(b), a.max(b))
}

pub(crate) fn may_message(sender: UserId, peer: UserId) -> Result<()> {
    if peer == sender {
        return Err(Error::Invalid("you cannot message yourself".into()));
    }
    Ok(())
}

/// Whether deleting message `id` removes it for everyone (`true`) or hides it
/// for the caller only, given whether the caller sent it.
pub(crate) fn deletes_for_everyone(scope: DeleteScope, id: MessageId, own: bool) -> Result<bool> {
    match scope {
        DeleteScope::Everyone if !own => Err(Error::Forbidden(format!(
            "message {id} is not yours: you can only delete it for yourself"
        ))),
        DeleteScope::Everyone => Ok(true),
        DeleteScope::Me => Ok(false),
        DeleteScope::Natural => Ok(own),
    }
}

/// The message an earlier send with the same `client_id` stored, as found.
pub(crate) struct EarlierSend {
    pub id: MessageId,
    pub conversation: ConversationId,
    pub content: String,
    pub deleted: bool,
}

/// A send is a retry only if it repeats the earlier one exactly; `target` is the
/// conversation the new request addresses, if it exists.
pub(crate) fn check_retry(
    new: &NewMessage,
    earlier: &EarlierSend,
    target: Option<ConversationId>,
) -> Result<()> {
    if earlier.deleted || earlier.content != new.content || target != Some(earlier.conversation) {
        return Err(Error::Conflict(format!(
            "client_id {:?} was already used for another message (#{}); \
             choose a new client_id for a new message",
            new.client_id, earlier.id
        )));
    }
    Ok(())
}

/// A new room of `members`, its creator included.
pub(crate) fn room_may_hold(members: usize) -> Result<()> {
    if members > MAX_ROOM_MEMBERS {
        return Err(Error::Invalid(format!(
            "a room has at most {MAX_ROOM_MEMBERS} members"
        )));
    }
    Ok(())
}

/// Whether a room of `members` may take one more.
pub(crate) fn room_may_grow(room: ConversationId, members: usize) -> Result<()> {
    if members >= MAX_ROOM_MEMBERS {
        return Err(Error::Invalid(format!(
            "room {room} already has {MAX_ROOM_MEMBERS} members"
        )));
    }
    Ok(())
}

pub(crate) fn may_add_members(owns: bool) -> Result<()> {
    if !owns {
        return Err(Error::Forbidden(
            "only the room's owner adds members".into(),
        ));
    }
    Ok(())
}

/// The owner removes anyone; a member may only remove themselves (leave).
pub(crate) fn may_remove_member(actor: UserId, member: UserId, owns: bool) -> Result<()> {
    if member != actor && !owns {
        return Err(Error::Forbidden(
            "only the room's owner removes others; members may only leave".into(),
        ));
    }
    Ok(())
}
