//! Who is signed in where: logging in with a password, keeping the token in the
//! keyring (or the fallback file) and the account in the settings, resuming that
//! login at the next start, and forgetting it at logout. The shell redraws the
//! tray and tells the window after each step.

use parking_lot::Mutex;
use std::path::PathBuf;

use herald_client::{Client, ClientEvent, ConnectionState, Credentials};
use serde::Serialize;
use utoipa::ToSchema;

use crate::error::{Error, Result};
use crate::popup_policy::PopupSettings;
use crate::secrets::{SecretStorage, Secrets};
use crate::settings::{self, AppSettings};

/// Who is signed in where, and how the token is kept (the window's account view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct SessionInfo {
    pub signed_in: bool,
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub server: Option<String>,
    pub storage: SecretStorage,
    pub online: bool,
    /// Why the app is offline, if it is.
    pub offline_reason: Option<String>,
    /// Signed in to the server this app started on this computer.
    pub local_server: bool,
    /// Set when an unattended or saved login failed, or the server refused the token.
    pub login_error: Option<String>,
}

/// The signed-in account of the desktop app, over the client core.
pub struct Session {
    /// The client core: cache, sync, actions.
    client: Client,
    secrets: Secrets,
    /// App config dir: settings.json.
    config_dir: PathBuf,
    settings: Mutex<AppSettings>,
    /// A login that failed (at start-up, or the server refused the token).
    login_error: Mutex<Option<String>>,
}

impl Session {
    pub fn new(
        client: Client,
        secrets: Secrets,
        config_dir: PathBuf,
        settings: AppSettings,
    ) -> Self {
        Self {
            client,
            secrets,
            config_dir,
            settings: Mutex::new(settings),
            login_error: Mutex::new(None),
        }
    }

    pub fn client(&self) -> &Client {
        &self.client
    }

    pub fn secrets(&self) -> &Secrets {
        &self.secrets
    }

    pub fn settings(&self) -> AppSettings {
        self.settings.lock().clone()
    }

    /// The account view; `local_server`: whether the shell runs the bundled server.
    pub fn info(&self, local_server: bool) -> SessionInfo {
        let settings = self.settings();
        let credentials = self.client.credentials();
        let user = self.client.user();
        let connection = self.client.state();
        let signed_in =
            credentials.is_some() && !matches!(connection, ConnectionState::AuthFailed { .. });
        SessionInfo {
            signed_in,
            username: user
                .as_ref()
                .map(|u| u.username.clone())
                .or(credentials.as_ref().map(|c| c.username.clone()))
                .or(settings.username),
            display_name: user.map(|u| u.display_name),
            server: credentials.map(|c| c.server).or(settings.server),
            storage: self.secrets.status(),
            online: connection.is_online(),
            offline_reason: match connection {
                ConnectionState::Online => None,
                ConnectionState::Connecting => Some("connecting…".into()),
                ConnectionState::Offline { reason, .. } => Some(reason),
                ConnectionState::AuthFailed { message } => Some(message),
            },
            local_server,
            login_error: self.login_error.lock().clone(),
        }
    }

    /// Remembers why a login failed, for the login form to show.
    pub fn set_login_error(&self, error: Option<String>) {
        *self.login_error.lock() = error;
    }

    /// Follows the client: a refused token ends the session with a sentence
    /// the login form shows.
    pub fn on_client_event(&self, event: &ClientEvent) {
        if let ClientEvent::ConnectionChanged {
            state: ConnectionState::AuthFailed { message },
        } = event
        {
            self.set_login_error(Some(format!(
                "The server refused the saved login: {message}"
            )));
        }
    }

    /// Logs in with a password, keeps the token and starts syncing.
    pub async fn login(
        &self,
        server: &str,
        username: &str,
        password: &str,
        local: bool,
    ) -> Result<()> {
        let credentials = self
            .client
            .login(server, username.trim(), password, &device_name())
            .await?;
        self.remember(&credentials, local).await;
        self.set_login_error(None);
        Ok(())
    }

    async fn remember(&self, credentials: &Credentials, local: bool) {
        let account = settings::account(&credentials.username, &credentials.server);
        let token = credentials.token.clone();
        let saved = self
            .secrets
            .blocking(move |s| s.save(&account, &token))
            .await;
        if let Err(e) = saved {
            tracing::warn!(error = %e, "could not save the session token; the login lasts until quit");
        }
        let mut s = self.settings.lock();
        s.server = Some(credentials.server.clone());
        s.username = Some(credentials.username.clone());
        s.local_server = local;
        if let Err(e) = s.save(&self.config_dir) {
            tracing::warn!(error = %e, "could not save settings");
        }
    }

    /// Resumes the saved login at start-up, if there is one. Returns at once; the
    /// client connects (and retries) in the background.
    pub async fn resume_saved(&self) -> Result<bool> {
        let (server, username, account) = {
            let s = self.settings.lock();
            match (s.server.clone(), s.username.clone(), s.account()) {
                (Some(server), Some(username), Some(account)) => (server, username, account),
                _ => return Ok(false),
            }
        };
        let (Some(token), _) = self.secrets.blocking(move |s| s.load(&account)).await else {
            return Ok(false);
        };
        self.client
            .connect(Credentials {
                server,
                username,
                token,
            })
            .await?;
        Ok(true)
    }

    /// Signs in to the bundled server at `url`: with the saved login when it is
    /// for this server (the shell keeps its port between runs), else as its admin
    /// with the password the server generated.
    pub async fn sign_in_local(&self, url: &str, admin_password: Option<String>) -> Result<()> {
        let saved_here = {
            let s = self.settings.lock();
            s.local_server && s.server.as_deref() == Some(url)
        };
        if saved_here && self.resume_saved().await? {
            return Ok(());
        }
        let password = admin_password.ok_or(Error::NoAdminPassword)?;
        self.login(url, "admin", &password, true).await
    }

    /// Logs out on the server (when it can be reached) and forgets the token here.
    pub async fn logout(&self) -> Result<()> {
        let credentials = self.client.credentials();
        let revoked = self.client.logout().await?;
        if !revoked {
            tracing::warn!("the server could not be told; the token is forgotten here anyway");
        }
        if let Some(c) = credentials {
            let account = settings::account(&c.username, &c.server);
            if let Err(e) = self.secrets.blocking(move |s| s.delete(&account)).await {
                tracing::warn!(error = %e, "could not remove the saved token");
            }
        }
        Ok(())
    }

    /// Keeps new popup settings in the settings file.
    pub fn save_popup_settings(&self, popups: PopupSettings) -> Result<()> {
        let mut s = self.settings.lock();
        s.popups = popups;
        Ok(s.save(&self.config_dir)?)
    }
}

/// Names this device's session in the user's token list.
fn device_name() -> String {
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "this computer".into());
    format!("Herald desktop on {host}")
}
