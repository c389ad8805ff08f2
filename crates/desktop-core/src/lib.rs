//! herald-desktop-core: everything the tray app decides, without Tauri. The shell
//! (`src-tauri`) holds only what touches Tauri, GTK or D-Bus and calls in here;
//! these modules build and test on a machine without a desktop.
//!
//! - [`session`]: log in, keep the token ([`secrets`]) and the account
//!   ([`settings`]), resume at start, log out.
//! - [`popup_content`] (what an event pops up), [`popup_policy`] (whether, now:
//!   settings, Do-not-disturb, quiet hours, bursts) and [`popups`] (the notifier
//!   that raises them through the shell's sink, and what a click does).
//! - [`tray`] (what the tray shows) and [`badge`] (the count drawn into its icon).
//! - [`wake`]: when a wake-up should reconnect.
//! - [`ipc`]: event names and payloads the window receives.

pub mod badge;
pub mod error;
pub mod ipc;
pub mod popup_content;
pub mod popup_policy;
pub mod popups;
pub mod secrets;
pub mod session;
pub mod settings;
pub mod tray;
pub mod wake;

pub use error::{Error, Result};
