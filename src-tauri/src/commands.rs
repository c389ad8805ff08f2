//! Tauri commands: one-line adapters from the window's `invoke` calls to
//! herald-client's [`herald_client::Client`] and the shell's own state. Errors
//! reach the UI as the client's sentence.

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
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;

use crate::state::AppState;
use crate::window::open_web_link;

/// An error as the window shows it.
type CmdResult<T> = Result<T, String>;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

#[tauri::command]
pub fn session_info(state: State<'_, AppState>) -> SessionInfo {
    state.session_info()
}

#[tauri::command]
pub async fn login(
    app: AppHandle,
    state: State<'_, AppState>,
    server: String,
    username: String,
    password: String,
) -> CmdResult<SessionInfo> {
    state
        .login(&app, &server, &username, &password)
        .await
        .map_err(text)?;
    Ok(state.session_info())
}

#[tauri::command]
pub async fn start_local_server(
    app: AppHandle,
    state: State<'_, AppState>,
) -> CmdResult<SessionInfo> {
    state.start_local_and_login(&app).await?;
    Ok(state.session_info())
}

#[tauri::command]
pub async fn logout(app: AppHandle, state: State<'_, AppState>) -> CmdResult<()> {
    state.logout(&app).await.map_err(text)
}

/// Newest first, from the local cache (works offline). `before`: the last id of
/// the previous page.
#[tauri::command]
pub async fn list_notifications(
    state: State<'_, AppState>,
    status: StatusFilter,
    kind: KindFilter,
    before: Option<NotificationId>,
    limit: u32,
) -> CmdResult<Vec<Notification>> {
    let filter = NotificationFilter {
        status,
        kind,
        before,
        limit,
        ..Default::default()
    };
    state.session.client().list(filter).await.map_err(text)
}

/// Local full-text search over the cache.
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<NotificationHit>> {
    state
        .session
        .client()
        .search(&query, limit)
        .await
        .map_err(text)
}

#[tauri::command]
pub async fn counts(state: State<'_, AppState>) -> CmdResult<Counts> {
    state.session.client().counts().await.map_err(text)
}

#[tauri::command]
pub async fn mark_read(state: State<'_, AppState>, ids: Vec<NotificationId>) -> CmdResult<()> {
    state.session.client().mark_read(&ids).await.map_err(text)
}

#[tauri::command]
pub async fn mark_unread(state: State<'_, AppState>, ids: Vec<NotificationId>) -> CmdResult<()> {
    state.session.client().mark_unread(&ids).await.map_err(text)
}

#[tauri::command]
pub async fn mark_all_read(state: State<'_, AppState>, kind: KindFilter) -> CmdResult<()> {
    state
        .session
        .client()
        .mark_all_read(kind)
        .await
        .map_err(text)
}

#[tauri::command]
pub async fn delete_notifications(
    state: State<'_, AppState>,
    ids: Vec<NotificationId>,
) -> CmdResult<()> {
    state.session.client().delete(&ids).await.map_err(text)
}

#[tauri::command]
pub fn open_link(app: AppHandle, url: String) -> CmdResult<()> {
    open_web_link(&app, &url)
}

#[tauri::command]
pub fn get_settings(app: AppHandle, state: State<'_, AppState>) -> SettingsView {
    SettingsView {
        popups: state.notifier.settings(),
        autostart: app.autolaunch().is_enabled().unwrap_or(false),
    }
}

#[tauri::command]
pub fn set_popup_settings(
    app: AppHandle,
    state: State<'_, AppState>,
    popups: PopupSettings,
) -> CmdResult<()> {
    state.set_popup_settings(&app, popups).map_err(text)
}

#[tauri::command]
pub fn set_autostart(app: AppHandle, enabled: bool) -> CmdResult<bool> {
    let launcher = app.autolaunch();
    if enabled {
        launcher.enable().map_err(text)?;
    } else {
        launcher.disable().map_err(text)?;
    }
    launcher.is_enabled().map_err(text)
}

/// The conversation list, most recent first.
#[tauri::command]
pub async fn conversations(state: State<'_, AppState>) -> CmdResult<Vec<ConversationSummary>> {
    state.session.client().conversations().await.map_err(text)
}

#[tauri::command]
pub async fn conversation(
    state: State<'_, AppState>,
    id: ConversationId,
) -> CmdResult<Option<ConversationSummary>> {
    state.session.client().conversation(id).await.map_err(text)
}

/// Newest first, older than `before` (scroll-back paging).
#[tauri::command]
pub async fn history(
    state: State<'_, AppState>,
    conversation_id: ConversationId,
    before: Option<MessageId>,
    limit: u32,
) -> CmdResult<Vec<ChatMessage>> {
    let client = state.session.client();
    client
        .history(conversation_id, before, limit)
        .await
        .map_err(text)
}

/// Sends into a conversation the cache knows.
#[tauri::command]
pub async fn send_to_conversation(
    state: State<'_, AppState>,
    conversation_id: ConversationId,
    text: String,
) -> CmdResult<ChatMessage> {
    let to = Recipient::Conversation(conversation_id);
    state
        .session
        .client()
        .send_message(to, &text)
        .await
        .map_err(self::text)
}

/// Sends a direct message to a user (starting the conversation if needed).
#[tauri::command]
pub async fn send_to_user(
    state: State<'_, AppState>,
    username: String,
    text: String,
) -> CmdResult<ChatMessage> {
    let to = Recipient::User(username);
    state
        .session
        .client()
        .send_message(to, &text)
        .await
        .map_err(self::text)
}

#[tauri::command]
pub async fn mark_conversation_read(
    state: State<'_, AppState>,
    conversation_id: ConversationId,
) -> CmdResult<()> {
    let client = state.session.client();
    client
        .mark_conversation_read(conversation_id)
        .await
        .map_err(text)
}

#[tauri::command]
pub async fn delete_messages(
    state: State<'_, AppState>,
    ids: Vec<MessageId>,
    for_everyone: Option<bool>,
) -> CmdResult<()> {
    let client = state.session.client();
    client
        .delete_messages(&ids, for_everyone)
        .await
        .map_err(text)
}

#[tauri::command]
pub async fn contacts(state: State<'_, AppState>) -> CmdResult<Vec<Contact>> {
    state.session.client().contacts().await.map_err(text)
}

#[tauri::command]
pub async fn add_contact(state: State<'_, AppState>, username: String) -> CmdResult<Contact> {
    state
        .session
        .client()
        .add_contact(&username)
        .await
        .map_err(text)
}

/// The "add a contact" type-ahead: who matches what was typed so far.
#[tauri::command]
pub async fn search_users(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<FoundUser>> {
    state
        .session
        .client()
        .search_users(&query, limit)
        .await
        .map_err(text)
}

#[tauri::command]
pub async fn remove_contact(state: State<'_, AppState>, username: String) -> CmdResult<()> {
    state
        .session
        .client()
        .remove_contact(&username)
        .await
        .map_err(text)
}

/// Local full-text search over cached chat messages.
#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<MessageHit>> {
    state
        .session
        .client()
        .search_messages(&query, limit)
        .await
        .map_err(text)
}
