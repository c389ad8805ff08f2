//! Chat: conversations (direct pairs and rooms), their messages, and each
//! member's denormalised state of them.
//!
//! Every member has a `conversation_members` row holding their read mark, their
//! unread count and the newest message they can see. Each write keeps those rows
//! exact, so listing conversations and counting unread messages read one row per
//! conversation and never scan history. Message ids become visible in id order:
//! SQLite has one writer, and every PostgreSQL write holds the writer's lock.
//!
//! Authorization lives inside the write, so a check and the change it allows
//! are never split by a concurrent membership change: a conversation or message
//! the caller is not a member of is `NotFound` (its existence is not revealed);
//! one they can see but may not change is `Forbidden`.

pub(crate) mod conversations;
pub(crate) mod members;
pub(crate) mod messages;
pub(crate) mod rooms;
