//! Where the shell learns that the connection may be stale: logind's
//! `PrepareForSleep(false)` on the system bus, and the window gaining focus
//! (main.rs). [`herald_desktop_core::wake`] decides whether to reconnect.

use futures_util::StreamExt;
use herald_desktop_core::wake::{should_reconnect, Wake};
use tauri::{AppHandle, Manager};

use crate::state::AppState;

pub fn on_wake(app: &AppHandle, wake: Wake) {
    // The window can gain focus before set-up has finished.
    let Some(state) = app.try_state::<AppState>() else {
        return;
    };
    let client = state.session.client();
    if should_reconnect(wake, client.credentials().is_some(), &client.state()) {
        tracing::info!(?wake, "reconnecting now");
        client.reconnect_now();
    }
}

/// Listens for the end of a sleep for the life of the app. Without a system bus
/// (containers, some CI machines) it says so once and leaves resumes to the
/// liveness check and the window's focus.
pub fn spawn_sleep_watch(app: &AppHandle) {
    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        if let Err(e) = watch_sleep(&handle).await {
            tracing::info!(error = %e, "cannot watch for resume from sleep (no system bus or logind)");
        }
    });
}

async fn watch_sleep(app: &AppHandle) -> zbus::Result<()> {
    let bus = zbus::Connection::system().await?;
    let logind = zbus::Proxy::new(
        &bus,
        "org.freedesktop.login1",
        "/org/freedesktop/login1",
        "org.freedesktop.login1.Manager",
    )
    .await?;
    let mut signals = logind.receive_signal("PrepareForSleep").await?;
    while let Some(signal) = signals.next().await {
        // true: about to sleep; false: just woke up.
        let going_to_sleep: bool = signal.body().deserialize()?;
        if !going_to_sleep {
            on_wake(app, Wake::Resumed);
        }
    }
    Ok(())
}
