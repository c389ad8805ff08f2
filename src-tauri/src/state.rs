//! The shell's state — the herald-client [`Client`], secrets, settings, notifier
//! and tray — and what happens when the client reports something: every
//! [`ClientEvent`] goes to the window as is; the tray and popups react to a few.

use std::path::PathBuf;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use herald_client::{Client, ClientEvent, ConnectionState, Credentials};
use herald_protocol::{KindFilter, NotificationKind};
use tauri::{AppHandle, Emitter, Manager};

use crate::commands::SessionInfo;
use crate::local_server::LocalServer;
use crate::notify::{ClickTarget, Notifier, Popup, PopupThread};
use crate::popup_policy::{PopupSettings, Source};
use crate::secrets::Secrets;
use crate::settings::{self, AppSettings};
use crate::tray::{Tray, TrayState};

/// Event name the window listens on for [`ClientEvent`]s.
pub const EVENT: &str = "herald://event";
/// Event name telling the window to show an item (popup clicked).
pub const FOCUS_EVENT: &str = "herald://focus";
/// Event name carrying new popup settings (DND toggled from the tray).
pub const SETTINGS_EVENT: &str = "herald://settings";

pub type Result<T> = std::result::Result<T, herald_client::Error>;

pub struct AppState {
    /// The client core: cache, sync, actions.
    pub client: Client,
    /// App data dir: fallback token file, cache, local server data.
    pub data_dir: PathBuf,
    /// App config dir: settings.json.
    pub config_dir: PathBuf,
    pub secrets: Secrets,
    pub settings: Mutex<AppSettings>,
    /// The popup policy and its settings.
    pub notifier: Arc<Notifier>,
    /// Where popups are raised, off the async runtime.
    pub popups: PopupThread,
    pub tray: OnceLock<Tray>,
    pub tray_state: Mutex<TrayState>,
    /// A login that failed (at start-up, or the server refused the token).
    pub login_error: Mutex<Option<String>>,
    /// The bundled server, when the app started one.
    pub local_server: Mutex<Option<LocalServer>>,
}

pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

impl AppState {
    pub fn session_info(&self) -> SessionInfo {
        let settings = lock(&self.settings).clone();
        let credentials = self.client.credentials();
        let user = self.client.user();
        let connection = self.client.state();
        let signed_in =
            credentials.is_some() && !matches!(connection, ConnectionState::AuthFailed { .. });
        SessionInfo {
            signed_in,
            username: user
                .as_ref()
                .map(|u| u.username.clone())
                .or(credentials.as_ref().map(|c| c.username.clone()))
                .or(settings.username),
            display_name: user.map(|u| u.display_name),
            server: credentials.map(|c| c.server).or(settings.server),
            storage: self.secrets.status(),
            online: connection.is_online(),
            offline_reason: match connection {
                ConnectionState::Online => None,
                ConnectionState::Connecting => Some("connecting…".into()),
                ConnectionState::Offline { reason, .. } => Some(reason),
                ConnectionState::AuthFailed { message } => Some(message),
            },
            local_server: lock(&self.local_server).is_some(),
            login_error: lock(&self.login_error).clone(),
        }
    }

    /// Logs in with a password, keeps the token and starts syncing.
    pub async fn login(
        &self,
        app: &AppHandle,
        server: &str,
        username: &str,
        password: &str,
        local: bool,
    ) -> Result<()> {
        let credentials = self
            .client
            .login(server, username.trim(), password, &device_name())
            .await?;
        self.remember(&credentials, local).await;
        *lock(&self.login_error) = None;
        lock(&self.tray_state).signed_out = false;
        self.redraw_tray();
        let _ = app.emit(
            EVENT,
            ClientEvent::ConnectionChanged {
                state: self.client.state(),
            },
        );
        Ok(())
    }

    async fn remember(&self, credentials: &Credentials, local: bool) {
        let account = settings::account(&credentials.username, &credentials.server);
        let token = credentials.token.clone();
        let saved = self
            .secrets
            .blocking(move |s| s.save(&account, &token))
            .await;
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not save the session token; the login lasts until quit");
        }
        let mut s = lock(&self.settings);
        s.server = Some(credentials.server.clone());
        s.username = Some(credentials.username.clone());
        s.local_server = local;
        if let Err(e) = s.save(&self.config_dir) {
            tracing::warn!(error = %e, "could not save settings");
        }
    }

    /// Resumes the saved login at start-up, if there is one. Returns at once; the
    /// client connects (and retries) in the background.
    pub async fn resume_saved(&self) -> Result<bool> {
        let (server, username, account) = {
            let s = lock(&self.settings);
            match (s.server.clone(), s.username.clone(), s.account()) {
                (Some(server), Some(username), Some(account)) => (server, username, account),
                _ => return Ok(false),
            }
        };
        let (Some(token), _) = self.secrets.blocking(move |s| s.load(&account)).await else {
            return Ok(false);
        };
        self.client
            .connect(Credentials {
                server,
                username,
                token,
            })
            .await?;
        lock(&self.tray_state).signed_out = false;
        self.redraw_tray();
        Ok(true)
    }

    pub async fn logout(&self, app: &AppHandle) -> Result<()> {
        let credentials = self.client.credentials();
        let revoked = self.client.logout().await?;
        if !revoked {
            tracing::warn!("the server could not be told; the token is forgotten here anyway");
        }
        if let Some(c) = credentials {
            let account = settings::account(&c.username, &c.server);
            if let Err(e) = self.secrets.blocking(move |s| s.delete(&account)).await {
                tracing::warn!(error = %e, "could not remove the saved token");
            }
        }
        {
            let mut t = lock(&self.tray_state);
            t.signed_out = true;
            t.unread = 0;
        }
        self.redraw_tray();
        let _ = app.emit(
            EVENT,
            ClientEvent::ConnectionChanged {
                state: self.client.state(),
            },
        );
        Ok(())
    }

    /// Starts the bundled herald-server (or reuses it) and signs in as its admin:
    /// with the saved login when it is for this server (the port is kept between
    /// runs), else with the password the server generated.
    pub async fn start_local_and_login(&self, app: &AppHandle) -> std::result::Result<(), String> {
        let existing = lock(&self.local_server)
            .as_ref()
            .map(|s| (s.url.clone(), s.admin_password()));
        let (url, password) = match existing {
            Some(found) => found,
            None => {
                let server = LocalServer::start(&self.data_dir.join("server")).await?;
                let found = (server.url.clone(), server.admin_password());
                *lock(&self.local_server) = Some(server);
                found
            }
        };
        let saved_here = {
            let s = lock(&self.settings);
            s.local_server && s.server.as_deref() == Some(url.as_str())
        };
        if saved_here && self.resume_saved().await.map_err(|e| e.to_string())? {
            return Ok(());
        }
        let password = password.ok_or("the local server did not save an admin password")?;
        self.login(app, &url, "admin", &password, true)
            .await
            .map_err(|e| e.to_string())
    }

    pub fn set_popup_settings(
        &self,
        app: &AppHandle,
        popups: PopupSettings,
    ) -> std::io::Result<()> {
        self.notifier.set_settings(popups.clone());
        lock(&self.tray_state).dnd = popups.dnd;
        self.redraw_tray();
        let _ = app.emit(SETTINGS_EVENT, &popups);
        let mut s = lock(&self.settings);
        s.popups = popups;
        s.save(&self.config_dir)
    }

    pub fn redraw_tray(&self) {
        if let Some(tray) = self.tray.get() {
            tray.show(&lock(&self.tray_state));
        }
    }
}

/// Names this device's session in the user's token list.
fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("Herald desktop on {host}")
}

/// Forwards the client's events for the life of the app.
pub fn spawn_event_pump(app: &AppHandle) {
    let mut events = app.state::<AppState>().client.events();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.recv().await {
            on_client_event(&handle, event);
        }
    });
}

/// Tray and popups react to a few events; the window gets every one.
pub fn on_client_event(app: &AppHandle, event: ClientEvent) {
    let state = app.state::<AppState>();
    match &event {
        ClientEvent::ConnectionChanged { state: connection } => {
            {
                let mut t = lock(&state.tray_state);
                t.online = connection.is_online();
                if let ConnectionState::AuthFailed { message } = connection {
                    t.signed_out = true;
                    *lock(&state.login_error) =
                        Some(format!("The server refused the saved login: {message}"));
                }
            }
            state.redraw_tray();
        }
        ClientEvent::CountsChanged { counts } => {
            lock(&state.tray_state).unread = counts.unread_total;
            state.redraw_tray();
        }
        ClientEvent::DesktopPopup {
            title,
            content,
            link,
            priority,
            id,
        } => {
            let target = ClickTarget::new(*id, link.clone());
            state.popups.request(
                Source::Desktop {
                    priority: *priority,
                },
                Popup {
                    title: title.clone(),
                    body: content.clone(),
                    target,
                    priority: *priority,
                },
            );
        }
        // `desktop` ones pop up through their DesktopPopup; the rest per settings.
        ClientEvent::NotificationAdded {
            notification: n,
            live: true,
        } if !n.desktop && !n.read => {
            let source = match n.kind {
                NotificationKind::Personal => Source::Personal {
                    priority: n.priority,
                },
                NotificationKind::Broadcast => Source::Broadcast {
                    priority: n.priority,
                },
            };
            state.popups.request(
                source,
                Popup {
                    title: n.title.clone(),
                    body: n.content.clone(),
                    target: ClickTarget::new(Some(n.id), n.link.clone()),
                    priority: n.priority,
                },
            );
        }
        ClientEvent::MessageAdded {
            message,
            live: true,
        } => {
            let me = state.client.user().map(|u| u.username);
            if let (Some(sender), Some(conversation)) = (&message.sender, message.conversation_id) {
                if me.as_deref() != Some(sender.as_str()) {
                    let (sender, body) = (sender.clone(), message.content.clone());
                    let handle = app.clone();
                    tauri::async_runtime::spawn(async move {
                        chat_popup(&handle, conversation, sender, body).await;
                    });
                }
            }
        }
        _ => {}
    }
    let _ = app.emit(EVENT, event);
}

/// Pops up a chat message, titled with who wrote it (and where, in a room).
async fn chat_popup(app: &AppHandle, conversation: i64, sender: String, body: String) {
    let state = app.state::<AppState>();
    let summary = state.client.conversation(conversation).await.ok().flatten();
    let title = match summary.map(|c| (c.peer, c.room)) {
        Some((_, Some(room))) => format!("{sender} in {}", room.name),
        Some((Some(peer), None)) => peer.display_name,
        _ => display_name(&state.client, &sender).await,
    };
    state.popups.request(
        Source::Chat,
        Popup {
            title,
            body,
            target: ClickTarget::Conversation(conversation),
            priority: herald_protocol::DEFAULT_PRIORITY,
        },
    );
}

/// How `username` is shown: their display name, asked of the server when the
/// cache does not know it yet (the first message of a new conversation arrives
/// before its peer is loaded).
async fn display_name(client: &Client, username: &str) -> String {
    match client.search_users(username, 5).await {
        Ok(found) => found
            .into_iter()
            .find(|f| f.user.username == username)
            .map_or_else(|| username.to_owned(), |f| f.user.display_name),
        Err(_) => username.to_owned(),
    }
}

/// A popup click (on notify-rust's waiting thread): a notification is marked
/// read; a link opens in the browser; anything else shows the window there.
pub fn on_popup_click(app: &AppHandle, target: ClickTarget) {
    let (id, link) = match target {
        ClickTarget::Notification { id, link } => (Some(id), link),
        ClickTarget::Link(link) => (None, Some(link)),
        ClickTarget::Window => (None, None),
        ClickTarget::Conversation(conversation) => {
            crate::show_main_window(app);
            let _ = app.emit(
                FOCUS_EVENT,
                serde_json::json!({ "conversation": conversation }),
            );
            return;
        }
    };
    if let Some(id) = id {
        let handle = app.clone();
        tauri::async_runtime::spawn(async move {
            let state = handle.state::<AppState>();
            if let Err(e) = state.client.mark_read(&[id]).await {
                tracing::warn!(error = %e, id, "could not mark the clicked notification read");
            }
        });
    }
    match link {
        Some(url) => {
            if let Err(e) = crate::commands::open_web_link(app, &url) {
                tracing::warn!(error = %e, "could not open the link");
            }
        }
        None => {
            crate::show_main_window(app);
            let focus = match id {
                Some(id) => serde_json::json!({ "notification": id }),
                None => serde_json::json!({}),
            };
            let _ = app.emit(FOCUS_EVENT, focus);
        }
    }
}

/// Tray "Mark all read".
pub fn mark_all_read_from_tray(app: &AppHandle) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        if state.client.credentials().is_none() {
            crate::show_main_window(&handle);
        } else if let Err(e) = state.client.mark_all_read(KindFilter::All).await {
            tracing::warn!(error = %e, "mark all read failed");
        }
    });
}

/// Tray "Do not disturb".
pub fn toggle_dnd(app: &AppHandle) {
    let state = app.state::<AppState>();
    let mut popups = state.notifier.settings();
    popups.dnd = !popups.dnd;
    if let Err(e) = state.set_popup_settings(app, popups) {
        tracing::warn!(error = %e, "could not save settings");
    }
}
