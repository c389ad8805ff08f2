//! Decisions both backends make the same way, whatever their SQL: keeping them in
//! one place is what keeps the backends' behaviour identical.

use herald_protocol::{ConversationId, MessageId, UserId};

use crate::{DeleteScope, Error, NewMessage, Result};

/// One key per pair, whichever of the two sends first.
pub(crate) fn direct_key(a: UserId, b: UserId) -> String {
    format!("{}:{}", a.min(b), a.max(b))
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
