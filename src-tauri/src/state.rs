//! The shell's state — the core's [`Session`], the notifier and the tray — and
//! what happens when the client reports something: every [`ClientEvent`] goes to
//! the window as is; the tray and popups react to a few.

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use herald_client::ClientEvent;
use herald_desktop_core::ipc::ShellEvent;
use herald_desktop_core::popup_content::{chat_popup, popup_for, PopupRequest};
use herald_desktop_core::popup_policy::{PopupSettings, Source};
use herald_desktop_core::popups::{ClickAction, ClickTarget, Notifier, PopupThread};
use herald_desktop_core::session::{Session, SessionInfo};
use herald_desktop_core::tray::TrayState;
use herald_protocol::KindFilter;
use tauri::{AppHandle, Manager};

use crate::local_server::LocalServer;
use crate::tray::Tray;
use crate::window::{emit, open_web_link, show_main_window};

pub struct AppState {
    /// Who is signed in, over the client core (cache, sync, actions).
    pub session: Session,
    /// App data dir: fallback token file, cache, local server data.
    pub data_dir: PathBuf,
    /// The popup policy and its settings.
    pub notifier: Arc<Notifier>,
    /// Where popups are raised, off the async runtime.
    pub popups: PopupThread,
    pub tray: OnceLock<Tray>,
    pub tray_state: Mutex<TrayState>,
    /// The bundled server, when the app started one.
    pub local_server: Mutex<Option<LocalServer>>,
}

impl AppState {
    pub fn session_info(&self) -> SessionInfo {
        self.session.info(self.local_server.lock().is_some())
    }

    /// Logs in with a password, keeps the token and starts syncing.
    pub async fn login(
        &self,
        app: &AppHandle,
        server: &str,
        username: &str,
        password: &str,
    ) -> herald_desktop_core::Result<()> {
        self.session
            .login(server, username, password, false)
            .await?;
        self.signed_in(app);
        Ok(())
    }

    /// Resumes the saved login at start-up, if there is one.
    pub async fn resume_saved(&self) -> herald_desktop_core::Result<bool> {
        let resumed = self.session.resume_saved().await?;
        if resumed {
            self.tray_state.lock().signed_out = false;
            self.redraw_tray();
        }
        Ok(resumed)
    }

    /// Starts the bundled herald-server (or reuses it) and signs in to it.
    pub async fn start_local_and_login(&self, app: &AppHandle) -> Result<(), String> {
        let existing = self
            .local_server
            .lock()
            .as_ref()
            .map(|s| (s.url.clone(), s.admin_password()));
        let (url, password) = match existing {
            Some(found) => found,
            None => {
                let server = LocalServer::start(&self.data_dir.join("server")).await?;
                let found = (server.url.clone(), server.admin_password());
                *self.local_server.lock() = Some(server);
                found
            }
        };
        self.session
            .sign_in_local(&url, password)
            .await
            .map_err(|e| e.to_string())?;
        self.signed_in(app);
        Ok(())
    }

    pub async fn logout(&self, app: &AppHandle) -> herald_desktop_core::Result<()> {
        self.session.logout().await?;
        {
            let mut t = self.tray_state.lock();
            t.signed_out = true;
            t.unread = 0;
        }
        self.redraw_tray();
        self.announce_connection(app);
        Ok(())
    }

    fn signed_in(&self, app: &AppHandle) {
        self.tray_state.lock().signed_out = false;
        self.redraw_tray();
        self.announce_connection(app);
    }

    /// Tells the window the connection state, so it reloads the session info.
    pub fn announce_connection(&self, app: &AppHandle) {
        let state = self.session.client().state();
        emit(
            app,
            ShellEvent::Client(ClientEvent::ConnectionChanged { state }),
        );
    }

    pub fn set_popup_settings(
        &self,
        app: &AppHandle,
        popups: PopupSettings,
    ) -> herald_desktop_core::Result<()> {
        self.notifier.set_settings(popups.clone());
        self.tray_state.lock().dnd = popups.dnd;
        self.redraw_tray();
        emit(app, ShellEvent::Settings(popups.clone()));
        self.session.save_popup_settings(popups)
    }

    pub fn redraw_tray(&self) {
        if let Some(tray) = self.tray.get() {
            tray.show(&self.tray_state.lock());
        }
    }
}

/// Forwards the client's events for the life of the app.
pub fn spawn_event_pump(app: &AppHandle) {
    let mut events = app.state::<AppState>().session.client().events();
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        while let Some(event) = events.recv().await {
            on_client_event(&handle, event);
        }
    });
}

/// Tray and popups react to a few events; the window gets every one.
fn on_client_event(app: &AppHandle, event: ClientEvent) {
    let state = app.state::<AppState>();
    state.session.on_client_event(&event);
    let redraw = state.tray_state.lock().apply(&event);
    if redraw {
        state.redraw_tray();
    }
    let me = state.session.client().user().map(|u| u.username);
    match popup_for(&event, me.as_deref()) {
        Some(PopupRequest::Now(source, popup)) => state.popups.request(source, popup),
        Some(PopupRequest::Chat {
            conversation,
            sender,
            body,
        }) => {
            let handle = app.clone();
            tauri::async_runtime::spawn(async move {
                let state = handle.state::<AppState>();
                let popup = chat_popup(state.session.client(), conversation, &sender, body).await;
                state.popups.request(Source::Chat, popup);
            });
        }
        None => {}
    }
    emit(app, ShellEvent::Client(event));
}

/// A popup click (on notify-rust's waiting thread): a notification is marked
/// read; then its link opens in the browser, or the window shows where it points.
pub fn on_popup_click(app: &AppHandle, target: ClickTarget) {
    let (read, action) = target.on_click();
    if let Some(id) = read {
        let handle = app.clone();
        tauri::async_runtime::spawn(async move {
            let state = handle.state::<AppState>();
            if let Err(e) = state.session.client().mark_read(&[id]).await {
                tracing::warn!(error = %e, id, "could not mark the clicked notification read");
            }
        });
    }
    match action {
        ClickAction::OpenLink(url) => {
            if let Err(e) = open_web_link(app, &url) {
                tracing::warn!(error = %e, "could not open the link");
            }
        }
        ClickAction::ShowWindow(focus) => {
            show_main_window(app);
            emit(app, ShellEvent::Focus(focus));
        }
    }
}

/// Tray "Mark all read".
pub fn mark_all_read_from_tray(app: &AppHandle) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        let client = state.session.client();
        if client.credentials().is_none() {
            show_main_window(&handle);
        } else if let Err(e) = client.mark_all_read(KindFilter::All).await {
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
