//! The message-center window and the browser: showing the window, sending it
//! events, and opening links.

use herald_desktop_core::ipc::ShellEvent;
use tauri::{AppHandle, Emitter, Manager};
use tauri_plugin_opener::OpenerExt;

/// Shows, unminimizes and focuses the message-center window.
pub fn show_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        let _ = window.show();
        let _ = window.unminimize();
        let _ = window.set_focus();
    }
}

/// Tray left click: show the window, or hide it when it is already in front.
pub fn toggle_main_window(app: &AppHandle) {
    if let Some(window) = app.get_webview_window("main") {
        if window.is_visible().unwrap_or(false) && window.is_focused().unwrap_or(false) {
            let _ = window.hide();
        } else {
            show_main_window(app);
        }
    }
}

/// Sends `event` to the window. A window that is not there yet misses nothing
/// it cannot re-query.
pub fn emit(app: &AppHandle, event: ShellEvent) {
    if let Err(e) = app.emit(event.name(), &event) {
        tracing::debug!(error = %e, name = event.name(), "could not send an event to the window");
    }
}

/// Opens an http(s) link in the default browser. Anything else is refused: a
/// `file:` or custom-scheme link in a notification must not run programs here.
pub fn open_web_link(app: &AppHandle, url: &str) -> Result<(), String> {
    let lower = url.to_ascii_lowercase();
    if !(lower.starts_with("http://") || lower.starts_with("https://")) {
        return Err(format!("not a web link: {url}"));
    }
    app.opener()
        .open_url(url, None::<&str>)
        .map_err(|e| e.to_string())
}
