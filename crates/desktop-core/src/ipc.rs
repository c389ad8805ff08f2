//! What crosses between the shell and its window besides the client's own types:
//! the names of the events the shell sends, and their payloads of its own.

use serde::Serialize;

use crate::popup_policy::PopupSettings;

/// Every [`herald_client::ClientEvent`], as is.
pub const CLIENT_EVENT: &str = "herald://event";
/// Show an item: a popup was clicked ([`FocusRequest`]).
pub const FOCUS_EVENT: &str = "herald://focus";
/// New popup settings, e.g. Do-not-disturb toggled from the tray ([`PopupSettings`]).
pub const SETTINGS_EVENT: &str = "herald://settings";

/// Where the window should go after a popup click: a notification, a
/// conversation, or (neither) just the message center.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct FocusRequest {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notification: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conversation: Option<i64>,
}

/// Settings → Notifications and Settings → General.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SettingsView {
    pub popups: PopupSettings,
    pub autostart: bool,
}
