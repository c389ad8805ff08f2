//! OpenAPI schemas (utoipa) of the cache's types that front ends receive —
//! [`ChatMessage`], [`ConversationSummary`], [`MessageState`] and the search
//! hits — so the desktop window's TypeScript types are generated from Rust like
//! the protocol's (`crates/desktop-core/tests/ts_bindings.rs`).
//!
//! Each schema is derived from a twin of the cache type, because the cache
//! module was being changed on another branch when this was written. The twins
//! cannot drift silently: the test below converts every cache type into its
//! twin field by field (a field added, removed or retyped does not compile) and
//! checks both serialize to the same JSON. Once that branch has landed, derive
//! `ToSchema` on the cache types themselves and delete this file.

use std::borrow::Cow;

use utoipa::openapi::{RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

use crate::cache::chat::{ChatMessage, ConversationSummary, MessageState};
use crate::cache::search::{MessageHit, NotificationHit, SnippetPart};

/// The twins, named like the originals (the schema names are the type names).
/// Only their schemas are used, and in the test their JSON.
#[allow(dead_code)]
mod twin {
    use herald_protocol::{ConversationId, ConversationKind, MessageId, Notification, Room, User};
    use serde::Serialize;
    use time::OffsetDateTime;
    use utoipa::ToSchema;

    /// Where a message written here is on its way.
    #[derive(Serialize, ToSchema)]
    #[serde(rename_all = "snake_case")]
    pub enum MessageState {
        /// The server has it.
        Sent,
        /// In the outbox, not confirmed yet.
        Pending,
        /// The server refused it: the window offers to send it again or discard it.
        Failed,
    }

    /// A chat message as the window shows it, sent or still on its way.
    #[derive(Serialize, ToSchema)]
    pub struct ChatMessage {
        /// Stable for the life of the cache, also before the server assigned `id`.
        pub local_id: i64,
        pub id: Option<MessageId>,
        /// `null` for a first message to `peer` whose conversation the server has
        /// not created yet.
        pub conversation_id: Option<ConversationId>,
        pub peer: Option<String>,
        /// Username; `null` once the sender's account was deleted.
        pub sender: Option<String>,
        pub content: String,
        pub client_id: String,
        #[serde(with = "time::serde::rfc3339")]
        #[schema(value_type = String, format = DateTime)]
        pub created_at: OffsetDateTime,
        pub state: MessageState,
    }

    /// One entry of the conversation list.
    #[derive(Serialize, ToSchema)]
    pub struct ConversationSummary {
        pub id: ConversationId,
        pub kind: ConversationKind,
        /// The peer's username or the room's name.
        pub title: String,
        pub peer: Option<User>,
        pub room: Option<Room>,
        pub unread_count: i64,
        pub read_up_to: MessageId,
        /// Direct only: how far the peer has read ("seen" marks).
        pub peer_read_up_to: Option<MessageId>,
        pub last_message: Option<ChatMessage>,
        #[serde(with = "time::serde::rfc3339")]
        #[schema(value_type = String, format = DateTime)]
        pub last_time: OffsetDateTime,
    }

    /// A piece of a search snippet: `matched` pieces are what the query found.
    #[derive(Serialize, ToSchema)]
    pub struct SnippetPart {
        pub text: String,
        pub matched: bool,
    }

    /// A notification that matches a search, with where it matched.
    #[derive(Serialize, ToSchema)]
    pub struct NotificationHit {
        pub notification: Notification,
        pub snippet: Vec<SnippetPart>,
    }

    /// A chat message that matches a search.
    #[derive(Serialize, ToSchema)]
    pub struct MessageHit {
        pub message: ChatMessage,
        pub snippet: Vec<SnippetPart>,
    }
}

/// `impl ToSchema for $cache_type` through its twin.
macro_rules! schema_from_twin {
    ($($ty:ident),*) => {$(
        impl PartialSchema for $ty {
            fn schema() -> RefOr<Schema> {
                <twin::$ty as PartialSchema>::schema()
            }
        }

        impl ToSchema for $ty {
            fn name() -> Cow<'static, str> {
                <twin::$ty as ToSchema>::name()
            }

            fn schemas(schemas: &mut Vec<(String, RefOr<Schema>)>) {
                <twin::$ty as ToSchema>::schemas(schemas)
            }
        }
    )*};
}

schema_from_twin!(
    MessageState,
    ChatMessage,
    ConversationSummary,
    SnippetPart,
    NotificationHit,
    MessageHit
);

#[cfg(test)]
mod tests {
    use herald_protocol::{ConversationKind, Notification, NotificationKind, Role, User};
    use serde::Serialize;
    use time::OffsetDateTime;

    use super::*;

    // Field by field: a field the cache type gains, loses or retypes breaks these.
    impl From<MessageState> for twin::MessageState {
        fn from(s: MessageState) -> Self {
            match s {
                MessageState::Sent => Self::Sent,
                MessageState::Pending => Self::Pending,
                MessageState::Failed => Self::Failed,
            }
        }
    }

    impl From<ChatMessage> for twin::ChatMessage {
        fn from(m: ChatMessage) -> Self {
            let ChatMessage {
                local_id,
                id,
                conversation_id,
                peer,
                sender,
                content,
                client_id,
                created_at,
                state,
            } = m;
            Self {
                local_id,
                id,
                conversation_id,
                peer,
                sender,
                content,
                client_id,
                created_at,
                state: state.into(),
            }
        }
    }

    impl From<ConversationSummary> for twin::ConversationSummary {
        fn from(c: ConversationSummary) -> Self {
            let ConversationSummary {
                id,
                kind,
                title,
                peer,
                room,
                unread_count,
                read_up_to,
                peer_read_up_to,
                last_message,
                last_time,
            } = c;
            Self {
                id,
                kind,
                title,
                peer,
                room,
                unread_count,
                read_up_to,
                peer_read_up_to,
                last_message: last_message.map(Into::into),
                last_time,
            }
        }
    }

    impl From<SnippetPart> for twin::SnippetPart {
        fn from(p: SnippetPart) -> Self {
            let SnippetPart { text, matched } = p;
            Self { text, matched }
        }
    }

    impl From<NotificationHit> for twin::NotificationHit {
        fn from(h: NotificationHit) -> Self {
            let NotificationHit {
                notification,
                snippet,
            } = h;
            Self {
                notification,
                snippet: snippet.into_iter().map(Into::into).collect(),
            }
        }
    }

    impl From<MessageHit> for twin::MessageHit {
        fn from(h: MessageHit) -> Self {
            let MessageHit { message, snippet } = h;
            Self {
                message: message.into(),
                snippet: snippet.into_iter().map(Into::into).collect(),
            }
        }
    }

    fn same_json<T: Serialize + Clone + Into<U>, U: Serialize>(value: T) {
        let twin: U = value.clone().into();
        assert_eq!(
            serde_json::to_value(&value).unwrap(),
            serde_json::to_value(&twin).unwrap()
        );
    }

    fn message(state: MessageState, id: Option<i64>) -> ChatMessage {
        ChatMessage {
            local_id: 4,
            id,
            conversation_id: id.map(|_| 2),
            peer: Some("bob".into()),
            sender: Some("alice".into()),
            content: "hi".into(),
            client_id: "c-1".into(),
            created_at: OffsetDateTime::UNIX_EPOCH,
            state,
        }
    }

    #[test]
    fn the_twins_serialize_like_the_cache_types() {
        let parts = vec![
            SnippetPart {
                text: "build".into(),
                matched: true,
            },
            SnippetPart {
                text: " failed".into(),
                matched: false,
            },
        ];
        for state in [
            MessageState::Sent,
            MessageState::Pending,
            MessageState::Failed,
        ] {
            same_json::<_, twin::ChatMessage>(message(state, Some(9)));
        }
        same_json::<_, twin::ChatMessage>(message(MessageState::Pending, None));
        same_json::<_, twin::ConversationSummary>(ConversationSummary {
            id: 2,
            kind: ConversationKind::Direct,
            title: "bob".into(),
            peer: Some(User {
                id: 7,
                username: "bob".into(),
                display_name: "Bob".into(),
                role: Role::User,
                disabled: false,
                created_at: OffsetDateTime::UNIX_EPOCH,
            }),
            room: None,
            unread_count: 1,
            read_up_to: 8,
            peer_read_up_to: Some(9),
            last_message: Some(message(MessageState::Sent, Some(9))),
            last_time: OffsetDateTime::UNIX_EPOCH,
        });
        same_json::<_, twin::NotificationHit>(NotificationHit {
            notification: Notification {
                id: 1,
                kind: NotificationKind::Personal,
                category: None,
                title: "Build failed".into(),
                content: String::new(),
                link: None,
                priority: 3,
                desktop: false,
                sender: None,
                created_at: OffsetDateTime::UNIX_EPOCH,
                read: false,
            },
            snippet: parts.clone(),
        });
        same_json::<_, twin::MessageHit>(MessageHit {
            message: message(MessageState::Sent, Some(9)),
            snippet: parts,
        });
    }
}
