//! Everything that crosses between the shell and its window: the commands the
//! window invokes ([`for_each_command!`]), the events the shell sends
//! ([`ShellEvent`]) and the payloads of the shell's own. The shell's Tauri
//! commands (`src-tauri/src/commands.rs`) and the window's TypeScript
//! (`ui/src/bindings/ipc.ts`, by `tests/ts_bindings.rs`) are both generated from
//! these definitions, so a name or a payload cannot differ between the two.
//!
//! Every field of what the shell sends is always serialized (no
//! `skip_serializing_if`), so the generated types mark every field required:
//! an `Option` arrives as `null`, never missing.

use herald_client::{ChatMessage, ClientEvent, ConversationSummary, MessageHit, NotificationHit};
use herald_protocol::{
    Contact, ConversationId, Counts, FoundUser, KindFilter, MessageId, Notification,
    NotificationId, StatusFilter,
};
use serde::Serialize;
use utoipa::openapi::{RefOr, Schema};
use utoipa::ToSchema;

use crate::popup_policy::PopupSettings;
use crate::session::SessionInfo;

/// Every command the window can invoke, as `fn name(arguments) -> answer;`.
///
/// Calls `$callback!` with the list. The shell turns it into Tauri commands, this
/// crate into [`commands`] for the TypeScript generator. Types are written bare:
/// the place that expands the list imports them. The window passes arguments
/// by name in camelCase (`conversationId`), as Tauri expects.
#[macro_export]
macro_rules! for_each_command {
    ($callback:ident) => {
        $callback! {
            /// Who is signed in where, and how the token is kept.
            fn session_info() -> SessionInfo;
            /// Logs in with a password and starts syncing.
            fn login(server: String, username: String, password: String) -> SessionInfo;
            /// Starts the bundled herald-server and signs in to it as its admin.
            fn start_local_server() -> SessionInfo;
            fn logout() -> ();

            /// Newest first, from the local cache (works offline). `before`: the
            /// last id of the previous page.
            fn list_notifications(
                status: StatusFilter,
                kind: KindFilter,
                before: Option<NotificationId>,
                limit: u32
            ) -> Vec<Notification>;
            /// Local full-text search over the cached notifications.
            fn search(query: String, limit: u32) -> Vec<NotificationHit>;
            fn counts() -> Counts;
            fn mark_read(ids: Vec<NotificationId>) -> ();
            fn mark_unread(ids: Vec<NotificationId>) -> ();
            fn mark_all_read(kind: KindFilter) -> ();
            fn delete_notifications(ids: Vec<NotificationId>) -> ();
            /// Opens an http(s) link in the browser; anything else is refused.
            fn open_link(url: String) -> ();

            fn get_settings() -> SettingsView;
            fn set_popup_settings(popups: PopupSettings) -> ();
            /// Start at login on or off; answers whether it is on now.
            fn set_autostart(enabled: bool) -> bool;

            /// The conversation list, most recent first.
            fn conversations() -> Vec<ConversationSummary>;
            fn conversation(id: ConversationId) -> Option<ConversationSummary>;
            /// Newest first, older than `before` (scroll-back paging).
            fn history(
                conversation_id: ConversationId,
                before: Option<MessageId>,
                limit: u32
            ) -> Vec<ChatMessage>;
            /// Sends into a conversation the cache knows.
            fn send_to_conversation(conversation_id: ConversationId, text: String) -> ChatMessage;
            /// Sends a direct message to a user (starting the conversation if needed).
            fn send_to_user(username: String, text: String) -> ChatMessage;
            /// Sends a message the server refused (shown "not sent") again.
            fn retry_message(local_id: i64) -> ChatMessage;
            /// Drops a message the server refused.
            fn discard_message(local_id: i64) -> ();
            fn mark_conversation_read(conversation_id: ConversationId) -> ();
            fn delete_messages(ids: Vec<MessageId>, for_everyone: Option<bool>) -> ();

            fn contacts() -> Vec<Contact>;
            fn add_contact(username: String) -> Contact;
            fn remove_contact(username: String) -> ();
            /// The "add a contact" type-ahead: who matches what was typed so far.
            fn search_users(query: String, limit: u32) -> Vec<FoundUser>;
            /// Local full-text search over cached chat messages.
            fn search_messages(query: String, limit: u32) -> Vec<MessageHit>;
        }
    };
}

/// One command as the TypeScript generator sees it.
pub struct CommandSpec {
    pub name: &'static str,
    /// Its doc comment, one line per line.
    pub doc: &'static str,
    /// Arguments by their Rust name, each with its TypeScript type.
    pub args: Vec<(&'static str, String)>,
    /// The answer's TypeScript type (`void` for `()`).
    pub answer: String,
}

/// Schemas by name, as utoipa lists what a type refers to.
pub type Schemas = Vec<(String, RefOr<Schema>)>;

/// A type that crosses to the window: how TypeScript writes it, and the named
/// schemas that has to bring along.
pub trait IpcType {
    fn ts() -> String;
    fn schemas(_out: &mut Schemas) {}
}

macro_rules! ipc_primitive {
    ($($ty:ty => $ts:literal),*) => {$(
        impl IpcType for $ty {
            fn ts() -> String {
                $ts.into()
            }
        }
    )*};
}

ipc_primitive!(() => "void", bool => "boolean", u32 => "number", i64 => "number", String => "string");

impl<T: IpcType> IpcType for Option<T> {
    fn ts() -> String {
        format!("{} | null", T::ts())
    }
    fn schemas(out: &mut Schemas) {
        T::schemas(out)
    }
}

impl<T: IpcType> IpcType for Vec<T> {
    fn ts() -> String {
        format!("{}[]", T::ts())
    }
    fn schemas(out: &mut Schemas) {
        T::schemas(out)
    }
}

/// Types with a schema of their own go by their schema's name.
macro_rules! ipc_named {
    ($($ty:ty),*) => {$(
        impl IpcType for $ty {
            fn ts() -> String {
                <$ty as ToSchema>::name().into_owned()
            }
            fn schemas(out: &mut Schemas) {
                out.push((Self::ts(), <$ty as utoipa::PartialSchema>::schema()));
                <$ty as ToSchema>::schemas(out);
            }
        }
    )*};
}

ipc_named!(
    ChatMessage,
    ClientEvent,
    Contact,
    ConversationSummary,
    Counts,
    FocusRequest,
    FoundUser,
    KindFilter,
    MessageHit,
    Notification,
    NotificationHit,
    PopupSettings,
    SessionInfo,
    SettingsView,
    StatusFilter
);

macro_rules! command_specs {
    ($($(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $answer:ty;)*) => {
        /// Every command of [`for_each_command!`], for the TypeScript generator.
        pub fn commands() -> Vec<CommandSpec> {
            vec![$(CommandSpec {
                name: stringify!($name),
                doc: concat!($($doc, "\n"),*),
                args: vec![$((stringify!($arg), <$ty as IpcType>::ts())),*],
                answer: <$answer as IpcType>::ts(),
            }),*]
        }

        /// The named schemas the commands' arguments and answers refer to.
        pub fn command_schemas() -> Schemas {
            let mut out = Schemas::new();
            $($(<$ty as IpcType>::schemas(&mut out);)* <$answer as IpcType>::schemas(&mut out);)*
            out
        }
    };
}

for_each_command!(command_specs);

/// Every [`ClientEvent`], as is.
const CLIENT_EVENT: &str = "herald://event";
/// Show an item: a popup was clicked.
const FOCUS_EVENT: &str = "herald://focus";
/// New popup settings, e.g. Do-not-disturb toggled from the tray.
const SETTINGS_EVENT: &str = "herald://settings";

/// An event the shell sends to the window: its name and payload.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum ShellEvent {
    Client(ClientEvent),
    Focus(FocusRequest),
    Settings(PopupSettings),
}

impl ShellEvent {
    pub fn name(&self) -> &'static str {
        match self {
            ShellEvent::Client(_) => CLIENT_EVENT,
            ShellEvent::Focus(_) => FOCUS_EVENT,
            ShellEvent::Settings(_) => SETTINGS_EVENT,
        }
    }

    /// Every event as (variant, name, payload's TypeScript type), for the generator.
    pub fn specs() -> [(&'static str, &'static str, String); 3] {
        [
            ("Client", CLIENT_EVENT, ClientEvent::ts()),
            ("Focus", FOCUS_EVENT, FocusRequest::ts()),
            ("Settings", SETTINGS_EVENT, PopupSettings::ts()),
        ]
    }

    /// The named schemas the events' payloads refer to.
    pub fn schemas() -> Schemas {
        let mut out = Schemas::new();
        <ClientEvent as IpcType>::schemas(&mut out);
        <FocusRequest as IpcType>::schemas(&mut out);
        <PopupSettings as IpcType>::schemas(&mut out);
        out
    }
}

/// Where the window should go after a popup click: a notification, a
/// conversation, or (neither) just the message center.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, ToSchema)]
pub struct FocusRequest {
    pub notification: Option<NotificationId>,
    pub conversation: Option<ConversationId>,
}

/// Settings → Notifications and Settings → General.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SettingsView {
    pub popups: PopupSettings,
    pub autostart: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn commands_have_unique_names_and_typescript_types_for_their_arguments_and_answers() {
        let specs = commands();
        let mut names: Vec<_> = specs.iter().map(|c| c.name).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), specs.len());
        let logout = specs.iter().find(|c| c.name == "logout").unwrap();
        assert_eq!((logout.args.len(), logout.answer.as_str()), (0, "void"));
        let history = specs.iter().find(|c| c.name == "history").unwrap();
        assert_eq!(
            history.args,
            [
                ("conversation_id", "number".to_string()),
                ("before", "number | null".to_string()),
                ("limit", "number".to_string())
            ]
        );
        assert_eq!(history.answer, "ChatMessage[]");
    }

    #[test]
    fn an_event_serializes_as_its_payload_alone() {
        let focus = ShellEvent::Focus(FocusRequest {
            notification: Some(4),
            conversation: None,
        });
        assert_eq!(focus.name(), "herald://focus");
        assert_eq!(
            serde_json::to_string(&focus).unwrap(),
            r#"{"notification":4,"conversation":null}"#
        );
    }
}
