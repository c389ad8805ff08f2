//! The tray icon: badge image, tooltip and menu. Menu ids are an enum so that the
//! menu and its handler cannot drift apart.

use std::sync::Mutex;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Wry};

use crate::badge::{self, Rgba};

/// The tray icon's id in Tauri's registry.
pub const TRAY_ID: &str = "herald-tray";

/// Base tray image: the app icon at 64 px.
const BASE_ICON: &[u8] = include_bytes!("../icons/64x64.png");

/// Every tray menu entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MenuId {
    Open,
    MarkAllRead,
    DoNotDisturb,
    Quit,
}

impl MenuId {
    pub const ALL: [MenuId; 4] = [
        MenuId::Open,
        MenuId::MarkAllRead,
        MenuId::DoNotDisturb,
        MenuId::Quit,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            MenuId::Open => "open",
            MenuId::MarkAllRead => "mark-all-read",
            MenuId::DoNotDisturb => "dnd",
            MenuId::Quit => "quit",
        }
    }

    pub fn parse(id: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.as_str() == id)
    }

    pub fn label(self) -> &'static str {
        match self {
            MenuId::Open => "Open Herald",
            MenuId::MarkAllRead => "Mark all read",
            MenuId::DoNotDisturb => "Do not disturb",
            MenuId::Quit => "Quit Herald",
        }
    }
}

/// What the tray shows; the shell updates it from client events.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrayState {
    pub unread: i64,
    pub online: bool,
    pub dnd: bool,
    /// Not logged in yet: no count to show.
    pub signed_out: bool,
}

/// Tooltip text: count and connection state, e.g. "Herald — 3 unread · online".
pub fn tooltip(state: &TrayState) -> String {
    if state.signed_out {
        return "Herald — not signed in".into();
    }
    let count = match state.unread {
        0 => "no unread".to_string(),
        1 => "1 unread".to_string(),
        n => format!("{n} unread"),
    };
    let connection = if state.online { "online" } else { "offline" };
    let dnd = if state.dnd { " · do not disturb" } else { "" };
    format!("Herald — {count} · {connection}{dnd}")
}

/// The base image as RGBA.
pub fn base_image() -> Rgba {
    let img = Image::from_bytes(BASE_ICON).expect("bundled tray icon is a valid PNG");
    Rgba::new(img.width(), img.height(), img.rgba().to_vec())
}

/// Holds the tray and the menu entry whose check mark mirrors DND.
pub struct Tray {
    icon: TrayIcon<Wry>,
    dnd_item: CheckMenuItem<Wry>,
    base: Rgba,
    /// Last state drawn, to skip redundant redraws.
    shown: Mutex<Option<TrayState>>,
}

impl Tray {
    /// Builds the tray. `on_menu` gets each menu click; a left click on the icon
    /// toggles the main window.
    /// `icon_dir` is where the tray crate writes its icon PNGs (the app's own dir,
    /// not a shared temp dir).
    pub fn build(
        app: &AppHandle,
        icon_dir: &std::path::Path,
        on_menu: impl Fn(&AppHandle, MenuId) + Send + Sync + 'static,
    ) -> tauri::Result<Self> {
        let open = MenuItem::with_id(
            app,
            MenuId::Open.as_str(),
            MenuId::Open.label(),
            true,
            None::<&str>,
        )?;
        let mark = MenuItem::with_id(
            app,
            MenuId::MarkAllRead.as_str(),
            MenuId::MarkAllRead.label(),
            true,
            None::<&str>,
        )?;
        let dnd_item = CheckMenuItem::with_id(
            app,
            MenuId::DoNotDisturb.as_str(),
            MenuId::DoNotDisturb.label(),
            true,
            false,
            None::<&str>,
        )?;
        let quit = MenuItem::with_id(
            app,
            MenuId::Quit.as_str(),
            MenuId::Quit.label(),
            true,
            None::<&str>,
        )?;
        let menu = Menu::with_items(
            app,
            &[
                &open,
                &PredefinedMenuItem::separator(app)?,
                &mark,
                &dnd_item,
                &PredefinedMenuItem::separator(app)?,
                &quit,
            ],
        )?;
        let base = base_image();
        let state = TrayState {
            signed_out: true,
            ..Default::default()
        };
        let mut builder = TrayIconBuilder::with_id(TRAY_ID)
            .icon(to_image(&badge::render(&base, 0, false)))
            .tooltip(tooltip(&state))
            .menu(&menu)
            .show_menu_on_left_click(false)
            .on_menu_event(move |app, event| {
                if let Some(id) = MenuId::parse(event.id().as_ref()) {
                    on_menu(app, id);
                }
            })
            .on_tray_icon_event(|tray, event| {
                if let TrayIconEvent::Click {
                    button: MouseButton::Left,
                    button_state: MouseButtonState::Up,
                    ..
                } = event
                {
                    crate::toggle_main_window(tray.app_handle());
                }
            });
        if std::fs::create_dir_all(icon_dir).is_ok() {
            builder = builder.temp_dir_path(icon_dir);
        }
        let icon = builder.build(app)?;
        Ok(Self {
            icon,
            dnd_item,
            base,
            shown: Mutex::new(Some(state)),
        })
    }

    /// Redraws icon, tooltip and the DND check mark for `state`.
    pub fn show(&self, state: &TrayState) {
        let mut shown = self.shown.lock().unwrap_or_else(|e| e.into_inner());
        if shown.as_ref() == Some(state) {
            return;
        }
        let online = state.online && !state.signed_out;
        let count = if state.signed_out { 0 } else { state.unread };
        if let Err(e) = self
            .icon
            .set_icon(Some(to_image(&badge::render(&self.base, count, online))))
        {
            tracing::warn!(error = %e, "could not update the tray icon");
        }
        let _ = self.icon.set_tooltip(Some(tooltip(state)));
        let _ = self.dnd_item.set_checked(state.dnd);
        *shown = Some(state.clone());
    }
}

fn to_image(img: &Rgba) -> Image<'static> {
    Image::new_owned(img.pixels.clone(), img.width, img.height)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn menu_ids_round_trip_and_are_unique() {
        for id in MenuId::ALL {
            assert_eq!(MenuId::parse(id.as_str()), Some(id));
        }
        assert_eq!(MenuId::parse("nope"), None);
        let mut names: Vec<_> = MenuId::ALL.iter().map(|m| m.as_str()).collect();
        names.sort();
        names.dedup();
        assert_eq!(names.len(), MenuId::ALL.len());
    }

    #[test]
    fn tooltip_tells_count_and_connection() {
        let mut s = TrayState {
            unread: 3,
            online: true,
            ..Default::default()
        };
        assert_eq!(tooltip(&s), "Herald — 3 unread · online");
        s.unread = 1;
        s.online = false;
        assert_eq!(tooltip(&s), "Herald — 1 unread · offline");
        s.unread = 0;
        s.online = true;
        s.dnd = true;
        assert_eq!(tooltip(&s), "Herald — no unread · online · do not disturb");
        s.signed_out = true;
        assert_eq!(tooltip(&s), "Herald — not signed in");
    }

    #[test]
    fn the_bundled_icon_is_square_rgba_and_takes_a_badge() {
        let base = base_image();
        assert_eq!((base.width, base.height), (64, 64));
        let img = badge::render(&base, 12, true);
        assert_eq!(badge::read_badge(&img, 2), "12");
    }
}
