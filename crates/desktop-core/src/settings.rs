//! The app's own settings file (`settings.json` in the app config dir): which
//! server and account to resume, popup preferences. Never the token — that is in
//! [`crate::secrets`].

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::popup_policy::PopupSettings;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct AppSettings {
    /// Server of the last login; the app resumes it at start.
    pub server: Option<String>,
    /// Account of the last login (the keyring item is `username@server`).
    pub username: Option<String>,
    pub popups: PopupSettings,
    /// Whether the last login was to the bundled local server.
    pub local_server: bool,
}

impl AppSettings {
    pub fn path(dir: &Path) -> PathBuf {
        dir.join("settings.json")
    }

    /// Reads the settings; a missing or unreadable file gives the defaults (logged).
    pub fn load(dir: &Path) -> Self {
        let path = Self::path(dir);
        match std::fs::read(&path) {
            Ok(bytes) => serde_json::from_slice(&bytes).unwrap_or_else(|e| {
                tracing::warn!(path = %path.display(), error = %e, "settings unreadable; using defaults");
                Self::default()
            }),
            Err(_) => Self::default(),
        }
    }

    /// Writes the settings atomically.
    pub fn save(&self, dir: &Path) -> std::io::Result<()> {
        std::fs::create_dir_all(dir)?;
        let path = Self::path(dir);
        let tmp = path.with_extension("json.tmp");
        let json = serde_json::to_vec_pretty(self).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, json)?;
        std::fs::rename(tmp, path)
    }

    /// The keyring account for the saved login.
    pub fn account(&self) -> Option<String> {
        Some(account(self.username.as_deref()?, self.server.as_deref()?))
    }
}

/// Keyring account naming one login: `alice@https://herald.example`.
pub fn account(username: &str, server: &str) -> String {
    format!("{username}@{server}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_round_trip_and_missing_keys_take_defaults() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(AppSettings::load(dir.path()), AppSettings::default());
        let mut s = AppSettings {
            server: Some("http://127.0.0.1:8787".into()),
            username: Some("alice".into()),
            ..Default::default()
        };
        s.popups.dnd = true;
        s.save(dir.path()).unwrap();
        assert_eq!(AppSettings::load(dir.path()), s);
        assert_eq!(s.account().as_deref(), Some("alice@http://127.0.0.1:8787"));
        std::fs::write(AppSettings::path(dir.path()), r#"{"username":"bob"}"#).unwrap();
        let loaded = AppSettings::load(dir.path());
        assert_eq!(loaded.username.as_deref(), Some("bob"));
        assert!(loaded.popups.desktop, "absent popup settings default to on");
    }
}
