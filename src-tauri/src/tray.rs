//! The tray icon as Tauri draws it: the badge image, the tooltip and the menu of
//! [`herald_desktop_core::tray`].

use parking_lot::Mutex;

use tauri::image::Image;
use tauri::menu::{CheckMenuItem, Menu, MenuItem, PredefinedMenuItem};
use tauri::tray::{MouseButton, MouseButtonState, TrayIcon, TrayIconBuilder, TrayIconEvent};
use tauri::{AppHandle, Wry};

use herald_desktop_core::badge::{self, Rgba};
use herald_desktop_core::tray::{tooltip, MenuId, TrayState};

/// The tray icon's id in Tauri's registry.
pub const TRAY_ID: &str = "herald-tray";

/// Base tray image: the app icon at 64 px.
const BASE_ICON: &[u8] = include_bytes!("../icons/64x64.png");

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
                    crate::window::toggle_main_window(tray.app_handle());
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
        let mut shown = self.shown.lock();
        if shown.as_ref() == Some(state) {
            return;
        }
        let image = badge::render(&self.base, state.badge_count(), state.looks_online());
        if let Err(e) = self.icon.set_icon(Some(to_image(&image))) {
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
    fn the_bundled_icon_is_square_rgba_and_takes_a_badge() {
        let base = base_image();
        assert_eq!((base.width, base.height), (64, 64));
        let img = badge::render(&base, 12, true);
        let (x, y, w, _) = badge::layout(64, "12").pill;
        assert_eq!(img.pixel(x + w / 2, y + 1), badge::BADGE_RED);
    }
}
