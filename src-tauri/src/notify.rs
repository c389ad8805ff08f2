//! The popup sink on this desktop: notify-rust on the session bus. What pops up
//! and when is decided in [`herald_desktop_core::popups`].

use std::sync::Arc;

use herald_desktop_core::popup_content::popup_body;
use herald_desktop_core::popups::{ClickTarget, Popup, PopupSink};

/// The capability of a notification server that renders a subset of HTML in
/// popup bodies (freedesktop notification spec).
const BODY_MARKUP: &str = "body-markup";

/// notify-rust on the session bus; a click runs `on_click` with the popup's target.
pub struct NativeSink {
    on_click: Arc<dyn Fn(ClickTarget) + Send + Sync>,
}

impl NativeSink {
    pub fn new(on_click: impl Fn(ClickTarget) + Send + Sync + 'static) -> Self {
        Self {
            on_click: Arc::new(on_click),
        }
    }
}

impl PopupSink for NativeSink {
    fn show(&self, popup: &Popup, replaces: Option<u32>) -> Option<u32> {
        let mut n = notify_rust::Notification::new();
        n.appname("Herald")
            .summary(&popup.title)
            .body(&popup_body(&popup.body, renders_markup()))
            .icon("dialog-information")
            .action("default", "Open");
        #[cfg(all(unix, not(target_os = "macos")))]
        {
            n.urgency(match popup.priority {
                5 => notify_rust::Urgency::Critical,
                1 | 2 => notify_rust::Urgency::Low,
                _ => notify_rust::Urgency::Normal,
            });
        }
        if let Some(id) = replaces {
            n.id(id);
        }
        match n.show() {
            Ok(handle) => {
                #[cfg(all(unix, not(target_os = "macos")))]
                {
                    let id = handle.id();
                    let target = popup.target.clone();
                    let on_click = self.on_click.clone();
                    // Blocks until the popup is clicked or closed, so it gets a thread.
                    std::thread::spawn(move || {
                        handle.wait_for_action(|action| {
                            if action == "default" || action == "Open" {
                                on_click(target);
                            }
                        });
                    });
                    Some(id)
                }
                #[cfg(not(all(unix, not(target_os = "macos"))))]
                {
                    let _ = handle;
                    None
                }
            }
            Err(e) => {
                tracing::warn!(error = %e, "no notification server answered; popup dropped");
                None
            }
        }
    }
}

/// Whether the running notification server renders markup in bodies. Asked per
/// popup: the server can be replaced while the app runs, and popups are rare.
fn renders_markup() -> bool {
    #[cfg(all(unix, not(target_os = "macos")))]
    {
        notify_rust::get_capabilities().is_ok_and(|caps| caps.iter().any(|c| c == BODY_MARKUP))
    }
    #[cfg(not(all(unix, not(target_os = "macos"))))]
    {
        false
    }
}
