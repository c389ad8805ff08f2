//! Tauri commands: one-line adapters from the window's `invoke` calls to
//! herald-client's [`herald_client::Client`] and the shell's own state. Errors
//! reach the UI as the client's sentence.

use herald_client::{
    ChatMessage, ConversationSummary, MessageHit, NotificationFilter, NotificationHit, Recipient,
};
use herald_protocol::{
    Contact, ConversationId, Counts, FoundUser, KindFilter, MessageId, Notification,
    NotificationId, StatusFilter,
};
use serde::Serialize;
use tauri::{AppHandle, State};
use tauri_plugin_autostart::ManagerExt;
use tauri_plugin_opener::OpenerExt;

use crate::popup_policy::PopupSettings;
use crate::secrets::SecretStorage;
use crate::state::AppState;

/// An error as the window shows it.
type CmdResult<T> = Result<T, String>;

fn text(e: impl std::fmt::Display) -> String {
    e.to_string()
}

/// Who is signed in where, and how the token is kept.
#[derive(Debug, Clone, Serialize)]
pub struct SessionInfo {
    pub signed_in: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub server: Option<String>,
    pub storage: SecretStorage,
    pub online: bool,
    /// Why the app is offline, if it is.
    pub offline_reason: Option<String>,
    pub local_server: bool,
    /// Set when an unattended or saved login failed, or the server refused the token.
    pub login_error: Option<String>,
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
        .login(&app, &server, &username, &password, false)
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
    state.client.list(filter).await.map_err(text)
}

/// Local full-text search over the cache.
#[tauri::command]
pub async fn search(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<NotificationHit>> {
    state.client.search(&query, limit).await.map_err(text)
}

#[tauri::command]
pub async fn counts(state: State<'_, AppState>) -> CmdResult<Counts> {
    state.client.counts().await.map_err(text)
}

#[tauri::command]
pub async fn mark_read(state: State<'_, AppState>, ids: Vec<NotificationId>) -> CmdResult<()> {
    state.client.mark_read(&ids).await.map_err(text)
}

#[tauri::command]
pub async fn mark_unread(state: State<'_, AppState>, ids: Vec<NotificationId>) -> CmdResult<()> {
    state.client.mark_unread(&ids).await.map_err(text)
}

#[tauri::command]
pub async fn mark_all_read(state: State<'_, AppState>, kind: KindFilter) -> CmdResult<()> {
    state.client.mark_all_read(kind).await.map_err(text)
}

#[tauri::command]
pub async fn delete_notifications(
    state: State<'_, AppState>,
    ids: Vec<NotificationId>,
) -> CmdResult<()> {
    state.client.delete(&ids).await.map_err(text)
}

#[tauri::command]
pub fn open_link(app: AppHandle, url: String) -> CmdResult<()> {
    open_web_link(&app, &url)
}

/// Opens an http(s) link in the default browser. Anything else is refused: a
/// `file:` or custom-scheme link in a notification must not run programs here.
pub fn open_web_link(app: &AppHandle, url: &str) -> CmdResult<()> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!("not a web link: {url}"));
    }
    app.opener().open_url(url, None::<&str>).map_err(text)
}

/// Settings → Notifications and Settings → General.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsView {
    pub popups: PopupSettings,
    pub autostart: bool,
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
    state.client.conversations().await.map_err(text)
}

#[tauri::command]
pub async fn conversation(
    state: State<'_, AppState>,
    id: ConversationId,
) -> CmdResult<Option<ConversationSummary>> {
    state.client.conversation(id).await.map_err(text)
}

/// Newest first, older than `before` (scroll-back paging).
#[tauri::command]
pub async fn history(
    state: State<'_, AppState>,
    conversation_id: ConversationId,
    before: Option<MessageId>,
    limit: u32,
) -> CmdResult<Vec<ChatMessage>> {
    let client = &state.client;
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
        .client
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
        .client
        .send_message(to, &text)
        .await
        .map_err(self::text)
}

#[tauri::command]
pub async fn mark_conversation_read(
    state: State<'_, AppState>,
    conversation_id: ConversationId,
) -> CmdResult<()> {
    let client = &state.client;
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
    let client = &state.client;
    client
        .delete_messages(&ids, for_everyone)
        .await
        .map_err(text)
}

#[tauri::command]
pub async fn contacts(state: State<'_, AppState>) -> CmdResult<Vec<Contact>> {
    state.client.contacts().await.map_err(text)
}

#[tauri::command]
pub async fn add_contact(state: State<'_, AppState>, username: String) -> CmdResult<Contact> {
    state.client.add_contact(&username).await.map_err(text)
}

/// The "add a contact" type-ahead: who matches what was typed so far.
#[tauri::command]
pub async fn search_users(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<FoundUser>> {
    state.client.search_users(&query, limit).await.map_err(text)
}

#[tauri::command]
pub async fn remove_contact(state: State<'_, AppState>, username: String) -> CmdResult<()> {
    state.client.remove_contact(&username).await.map_err(text)
}

/// Local full-text search over cached chat messages.
#[tauri::command]
pub async fn search_messages(
    state: State<'_, AppState>,
    query: String,
    limit: u32,
) -> CmdResult<Vec<MessageHit>> {
    state
        .client
        .search_messages(&query, limit)
        .await
        .map_err(text)
}
