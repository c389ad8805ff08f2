//! herald-desktop: Herald's tray app. A thin Tauri shell over herald-client and
//! herald-desktop-core: commands adapt the client, client events become tray
//! updates, popups and window events. It holds only what touches Tauri, GTK or
//! D-Bus; the decisions are the core's. See docs/architecture.md ("The desktop
//! shell").

#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod commands;
mod keyring;
mod local_server;
mod notify;
mod state;
mod tray;
mod wake;
mod window;

use parking_lot::Mutex;
use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use clap::Parser;
use herald_client::{Client, ClientOptions};
use herald_desktop_core::popup_policy::SystemClock;
use herald_desktop_core::popups::{Notifier, PopupThread};
use herald_desktop_core::secrets::{SecretStorage, Secrets};
use herald_desktop_core::session::Session;
use herald_desktop_core::settings::AppSettings;
use herald_desktop_core::tray::{MenuId, TrayState};
use herald_desktop_core::wake::Wake;
use tauri::{AppHandle, Manager, WindowEvent};

use crate::notify::NativeSink;
use crate::state::AppState;
use crate::tray::Tray;
use crate::window::show_main_window;

/// Environment variables for an unattended login (tests, kiosks).
const USERNAME_ENV: &str = "HERALD_USERNAME";
const PASSWORD_ENV: &str = "HERALD_PASSWORD";
/// Moves all of the app's files (settings, fallback token, local server) elsewhere.
const DATA_DIR_ENV: &str = "HERALD_DESKTOP_DATA_DIR";

/// Command line of herald-desktop.
#[derive(Debug, Parser)]
#[command(name = "herald-desktop", version, about = "Herald's tray app")]
struct Args {
    /// Server to use. With HERALD_USERNAME and HERALD_PASSWORD set, the app logs in
    /// unattended; otherwise the login form starts filled in with it.
    #[arg(long, value_name = "URL")]
    server: Option<String>,
    /// Start the bundled herald-server on this machine and log in to it as admin.
    #[arg(long, conflicts_with = "server")]
    local_server: bool,
    /// Start in the tray without showing the window (used by start-at-login).
    #[arg(long)]
    hidden: bool,
}

fn main() {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        // A log line that cannot be written (stderr gone, a full disk) is lost;
        // reporting it with `eprintln!` would panic whatever thread was logging.
        .log_internal_errors(false)
        .init();
    // tauri-driver and the single-instance relaunch may pass arguments we do not
    // know; ignore those rather than refusing to start.
    let args = Args::try_parse().unwrap_or_else(|e| {
        if matches!(
            e.kind(),
            clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion
        ) {
            e.exit();
        }
        tracing::warn!("ignoring command line: {e}");
        Args {
            server: None,
            local_server: false,
            hidden: false,
        }
    });

    tauri::Builder::default()
        // First, so a second launch only focuses the running app.
        .plugin(tauri_plugin_single_instance::init(|app, _argv, _cwd| {
            show_main_window(app);
        }))
        .plugin(tauri_plugin_opener::init())
        .plugin(tauri_plugin_autostart::init(
            tauri_plugin_autostart::MacosLauncher::LaunchAgent,
            Some(vec!["--hidden"]),
        ))
        .invoke_handler(commands::handler())
        .setup(move |app| {
            setup(app.handle(), args)?;
            Ok(())
        })
        .on_window_event(|window, event| match event {
            // Closing the window hides it to the tray; Quit is in the tray menu.
            WindowEvent::CloseRequested { api, .. } if window.label() == "main" => {
                api.prevent_close();
                let _ = window.hide();
            }
            // Someone is looking: an offline client should not wait for its next retry.
            WindowEvent::Focused(true) => wake::on_wake(window.app_handle(), Wake::WindowFocused),
            _ => {}
        })
        .build(tauri::generate_context!("../tauri.conf.json"))
        .expect("Herald could not start")
        .run(|app, event| {
            if let tauri::RunEvent::Exit = event {
                // Stops the local server, if one runs.
                app.state::<AppState>().local_server.lock().take();
            }
        });
}

fn setup(app: &AppHandle, args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let (data_dir, config_dir) = match std::env::var_os(DATA_DIR_ENV).filter(|d| !d.is_empty()) {
        Some(dir) => (PathBuf::from(&dir), PathBuf::from(dir)),
        None => (app.path().app_data_dir()?, app.path().app_config_dir()?),
    };
    std::fs::create_dir_all(&data_dir)?;
    let mut settings = AppSettings::load(&config_dir);
    if let Some(server) = &args.server {
        settings.server = Some(server.clone());
    }
    // A local-server setup comes back as one, unless told to use another server.
    let local_server = args.local_server || (args.server.is_none() && settings.local_server);
    let secrets = Secrets::new(keyring::open_platform_store(), &data_dir);
    if let SecretStorage::File { reason, path } = secrets.status() {
        tracing::warn!(%reason, path = %path.display(), "no OS keyring: the session token is kept in a 0600 file");
    }
    let cache_path = data_dir.join("cache.db");
    let client = tauri::async_runtime::block_on(Client::open(ClientOptions::new(&cache_path)))
        .map_err(|e| format!("cannot open the local cache {}: {e}", cache_path.display()))?;
    let click_handle = app.clone();
    let notifier = Arc::new(Notifier::new(
        Arc::new(NativeSink::new(move |target| {
            state::on_popup_click(&click_handle, target)
        })),
        Arc::new(SystemClock),
        settings.popups.clone(),
    ));
    let popups = PopupThread::spawn(notifier.clone())?;
    let dnd = settings.popups.dnd;
    // The badge shows the cached count at once, greyed until the client connects.
    let cached_unread = tauri::async_runtime::block_on(client.counts())
        .map(|c| c.unread_total)
        .unwrap_or(0);
    app.manage(AppState {
        session: Session::new(client, secrets, config_dir, settings),
        data_dir: data_dir.clone(),
        notifier,
        popups,
        tray: OnceLock::new(),
        tray_state: Mutex::new(TrayState {
            signed_out: true,
            dnd,
            unread: cached_unread,
            online: false,
        }),
        local_server: Mutex::new(None),
    });

    let tray = Tray::build(app, &data_dir.join("tray"), |app, id| match id {
        MenuId::Open => show_main_window(app),
        MenuId::MarkAllRead => state::mark_all_read_from_tray(app),
        MenuId::DoNotDisturb => state::toggle_dnd(app),
        MenuId::Quit => app.exit(0),
    })?;
    let state = app.state::<AppState>();
    let _ = state.tray.set(tray);
    state.redraw_tray();
    state::spawn_event_pump(app);
    wake::spawn_sleep_watch(app);

    if !args.hidden {
        show_main_window(app);
    }

    let handle = app.clone();
    tauri::async_runtime::spawn(async move {
        let state = handle.state::<AppState>();
        let result = if local_server {
            state.start_local_and_login(&handle).await
        } else if let (Some(server), Ok(user), Ok(password)) = (
            args.server.as_deref(),
            std::env::var(USERNAME_ENV),
            std::env::var(PASSWORD_ENV),
        ) {
            state
                .login(&handle, server, &user, &password)
                .await
                .map_err(|e| e.to_string())
        } else {
            state
                .resume_saved()
                .await
                .map(|_| ())
                .map_err(|e| e.to_string())
        };
        if let Err(e) = result {
            tracing::warn!(error = %e, "start-up login failed");
            state.session.set_login_error(Some(e));
            state.announce_connection(&handle);
        }
    });
    Ok(())
}
