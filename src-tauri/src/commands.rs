//! The window's commands. Their names, arguments and answers are the list in
//! [`herald_desktop_core::for_each_command!`]; this file turns each into a Tauri
//! command that calls the method of the same name on [`Commands`], a one-line
//! adapter to herald-client's [`herald_client::Client`] or the shell's own
//! state. Errors reach the window as their sentence.

use herald_client::{
    ChatMessage, ConversationSummary, MessageHit, NotificationFilter, NotificationHit, Recipient,
};
use herald_desktop_core::ipc::SettingsView;
use herald_desktop_core::popup_policy::PopupSettings;
use herald_desktop_core::session::SessionInfo;
use herald_protocol::{
    Contact, ConversationId, Counts, FoundUser, KindFilter, MessageId, Notification,
    NotificationId, StatusFilter,
};
use tauri::{AppHandle, Manager, State};
use tauri_plugin_autostart::ManagerExt;

use crate::state::AppState;
use crate::window::open_web_link;

/// One Tauri command per entry of the list, each calling [`Commands`].
macro_rules! tauri_commands {
    ($($(#[doc = $doc:literal])* fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $answer:ty;)*) => {
        $(
            $(#[doc = $doc])*
            #[tauri::command]
            async fn $name(app: AppHandle, $($arg: $ty),*) -> Result<$answer, String> {
                Commands::new(&app).$name($($arg),*).await.map_err(|e| e.to_string())
            }
        )*

        /// Every command, for `tauri::Builder::invoke_handler`.
        pub fn handler() -> impl Fn(tauri::ipc::Invoke) -> bool + Send + Sync + 'static {
            tauri::generate_handler![$($name),*]
        }
    };
}

herald_desktop_core::for_each_command!(tauri_commands);

/// What each command does, given the app.
struct Commands<'a> {
    app: &'a AppHandle,
    state: State<'a, AppState>,
}

type Result<T, E = herald_client::Error> = std::result::Result<T, E>;

impl<'a> Commands<'a> {
    fn new(app: &'a AppHandle) -> Self {
        Self {
            app,
            state: app.state::<AppState>(),
        }
    }

    fn client(&self) -> &herald_client::Client {
        self.state.session.client()
    }

    async fn session_info(&self) -> Result<SessionInfo> {
        Ok(self.state.session_info())
    }

    async fn login(
        &self,
        server: String,
        username: String,
        password: String,
    ) -> Result<SessionInfo, herald_desktop_core::Error> {
        self.state
            .login(self.app, &server, &username, &password)
            .await?;
        Ok(self.state.session_info())
    }

    async fn start_local_server(&self) -> Result<SessionInfo, String> {
        self.state.start_local_and_login(self.app).await?;
        Ok(self.state.session_info())
    }

    async fn logout(&self) -> Result<(), herald_desktop_core::Error> {
        self.state.logout(self.app).await
    }

    async fn list_notifications(
        &self,
        status: StatusFilter,
        kind: KindFilter,
        before: Option<NotificationId>,
        limit: u32,
    ) -> Result<Vec<Notification>> {
        let filter = NotificationFilter {
            status,
            kind,
            before,
            limit,
            ..Default::default()
        };
        self.client().list(filter).await
    }

    async fn search(&self, query: String, limit: u32) -> Result<Vec<NotificationHit>> {
        self.client().search(&query, limit).await
    }

    async fn counts(&self) -> Result<Counts> {
        self.client().counts().await
    }

    async fn mark_read(&self, ids: Vec<NotificationId>) -> Result<()> {
        self.client().mark_read(&ids).await
    }

    async fn mark_unread(&self, ids: Vec<NotificationId>) -> Result<()> {
        self.client().mark_unread(&ids).await
    }

    async fn mark_all_read(&self, kind: KindFilter) -> Result<()> {
        self.client().mark_all_read(kind).await
    }

    async fn delete_notifications(&self, ids: Vec<NotificationId>) -> Result<()> {
        self.client().delete(&ids).await
    }

    async fn open_link(&self, url: String) -> Result<(), String> {
        open_web_link(self.app, &url)
    }

    async fn get_settings(&self) -> Result<SettingsView> {
        Ok(SettingsView {
            popups: self.state.notifier.settings(),
            autostart: self.app.autolaunch().is_enabled().unwrap_or(false),
        })
    }

    async fn set_popup_settings(
        &self,
        popups: PopupSettings,
    ) -> Result<(), herald_desktop_core::Error> {
        self.state.set_popup_settings(self.app, popups)
    }

    async fn set_autostart(&self, enabled: bool) -> Result<bool, tauri_plugin_autostart::Error> {
        let launcher = self.app.autolaunch();
        if enabled {
            launcher.enable()?;
        } else {
            launcher.disable()?;
        }
        launcher.is_enabled()
    }

    async fn conversations(&self) -> Result<Vec<ConversationSummary>> {
        self.client().conversations().await
    }

    async fn conversation(&self, id: ConversationId) -> Result<Option<ConversationSummary>> {
        self.client().conversation(id).await
    }

    async fn history(
        &self,
        conversation_id: ConversationId,
        before: Option<MessageId>,
        limit: u32,
    ) -> Result<Vec<ChatMessage>> {
        self.client().history(conversation_id, before, limit).await
    }

    async fn send_to_conversation(
        &self,
        conversation_id: ConversationId,
        text: String,
    ) -> Result<ChatMessage> {
        let to = Recipient::Conversation(conversation_id);
        self.client().send_message(to, &text).await
    }

    async fn send_to_user(&self, username: String, text: String) -> Result<ChatMessage> {
        let to = Recipient::User(username);
        self.client().send_message(to, &text).await
    }

    async fn retry_message(&self, local_id: i64) -> Result<ChatMessage> {
        self.client().retry_failed(local_id).await
    }

    /// Already gone (sent meanwhile, or discarded twice) is as good as discarded.
    async fn discard_message(&self, local_id: i64) -> Result<()> {
        self.client().discard_failed(local_id).await.map(|_| ())
    }

    async fn mark_conversation_read(&self, conversation_id: ConversationId) -> Result<()> {
        self.client().mark_conversation_read(conversation_id).await
    }

    async fn delete_messages(&self, ids: Vec<MessageId>, for_everyone: Option<bool>) -> Result<()> {
        self.client().delete_messages(&ids, for_everyone).await
    }

    async fn contacts(&self) -> Result<Vec<Contact>> {
        self.client().contacts().await
    }

    async fn add_contact(&self, username: String) -> Result<Contact> {
        self.client().add_contact(&username).await
    }

    async fn remove_contact(&self, username: String) -> Result<()> {
        self.client().remove_contact(&username).await
    }

    async fn search_users(&self, query: String, limit: u32) -> Result<Vec<FoundUser>> {
        self.client().search_users(&query, limit).await
    }

    async fn search_messages(&self, query: String, limit: u32) -> Result<Vec<MessageHit>> {
        self.client().search_messages(&query, limit).await
    }
}
