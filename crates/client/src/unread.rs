//! When a chat message counts as unread: decided here once, for the cache's
//! server layer (events) and its local layer (the user's own read marks).

use herald_protocol::MessageId;

/// A message is unread for `me` when someone else sent it (a sender whose
/// account was deleted is someone else) and it lies after the read mark.
/// `count_unread` in `cache/chat.rs` states the same rule in SQL.
pub(crate) fn is_unread(
    sender: Option<&str>,
    me: &str,
    id: MessageId,
    read_up_to: MessageId,
) -> bool {
    sender != Some(me) && id > read_up_to
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_others_messages_after_the_read_mark_are_unread() {
        assert!(is_unread(Some("bob"), "alice", 8, 7));
        assert!(
            is_unread(None, "alice", 8, 7),
            "a deleted sender is someone else"
        );
        assert!(
            !is_unread(Some("alice"), "alice", 8, 7),
            "one's own message"
        );
        assert!(!is_unread(Some("bob"), "alice", 7, 7), "at the read mark");
        assert!(!is_unread(Some("bob"), "alice", 3, 7), "before it");
    }
}
