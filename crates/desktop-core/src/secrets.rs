//! Where the session token lives: the OS keyring (Secret Service on Linux), or —
//! when no secret service runs — a 0600 file in the app's data dir. The window
//! shows which one is in use ([`SecretStorage`]), so a fallback is never silent.

use parking_lot::Mutex;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use keyring_core::{CredentialStore, Entry};
use serde::Serialize;
use utoipa::ToSchema;

/// Keyring "service" attribute of every Herald item.
const SERVICE: &str = "dev.herald.desktop";
/// File used when the keyring is unavailable.
const FALLBACK_FILE: &str = "session-token";

/// Where tokens are stored right now; shown in Settings → Account.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum SecretStorage {
    /// The OS keyring accepted the last operation.
    Keyring,
    /// The keyring failed (`reason`), so the token is in `path`, readable only by
    /// this OS user.
    File {
        #[schema(value_type = String)]
        path: PathBuf,
        reason: String,
    },
}

/// The session token store: keyring first, file as the visible fallback.
///
/// Every call is a blocking D-Bus round trip (and the Secret Service may hold it
/// while it asks to unlock), so async code goes through [`Secrets::blocking`].
#[derive(Clone)]
pub struct Secrets {
    /// The OS credential store, or why it could not even be opened.
    keyring: Result<Arc<CredentialStore>, String>,
    /// The app's data dir; the fallback file goes here.
    dir: PathBuf,
    /// Where the last save or load actually found the token. A keyring that
    /// opened can still refuse a write (a locked collection), so what was
    /// predicted at start is not what Settings should show after that.
    last: Arc<Mutex<Option<SecretStorage>>>,
}

impl Secrets {
    /// A store over `keyring`: the platform's secret service as the shell opened
    /// it, or why it could not (tests pass keyring-core's mock store).
    pub fn new(keyring: Result<Arc<CredentialStore>, String>, dir: &Path) -> Self {
        Self {
            keyring,
            dir: dir.to_path_buf(),
            last: Arc::default(),
        }
    }

    /// Runs `f` on the blocking thread pool, so a slow keyring cannot stall the
    /// async runtime that also drives the sync engine and the window's commands.
    pub async fn blocking<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Secrets) -> T + Send + 'static,
    ) -> T {
        let secrets = self.clone();
        match tokio::task::spawn_blocking(move || f(&secrets)).await {
            Ok(value) => value,
            Err(e) => std::panic::resume_unwind(e.into_panic()),
        }
    }

    fn fallback_path(&self) -> PathBuf {
        self.dir.join(FALLBACK_FILE)
    }

    fn entry(&self, account: &str) -> Result<Entry, String> {
        match &self.keyring {
            Ok(store) => Entry::new_in_store(store, SERVICE, account).map_err(|e| e.to_string()),
            Err(reason) => Err(reason.clone()),
        }
    }

    /// Saves `token` for `account` (e.g. `alice@https://herald.example`).
    pub fn save(&self, account: &str, token: &str) -> std::io::Result<SecretStorage> {
        let storage = self.save_somewhere(account, token)?;
        self.remember(&storage);
        Ok(storage)
    }

    fn save_somewhere(&self, account: &str, token: &str) -> std::io::Result<SecretStorage> {
        match self
            .entry(account)
            .and_then(|e| e.set_password(token).map_err(|e| e.to_string()))
        {
            Ok(()) => {
                // A token left over from an earlier fallback must not outlive this one.
                remove_if_exists(&self.fallback_path())?;
                Ok(SecretStorage::Keyring)
            }
            Err(reason) => {
                tracing::warn!(%reason, "OS keyring unavailable; storing the token in a 0600 file");
                let path = self.fallback_path();
                write_private(&path, &serde_json::json!({ account: token }).to_string())?;
                Ok(SecretStorage::File { path, reason })
            }
        }
    }

    /// The saved token for `account`, from the keyring or the fallback file.
    pub fn load(&self, account: &str) -> (Option<String>, SecretStorage) {
        let (token, storage) = self.load_from_somewhere(account);
        if token.is_some() {
            self.remember(&storage);
        }
        (token, storage)
    }

    fn load_from_somewhere(&self, account: &str) -> (Option<String>, SecretStorage) {
        let keyring_result = self.entry(account).and_then(|e| match e.get_password() {
            Ok(token) => Ok(Some(token)),
            Err(keyring_core::Error::NoEntry) => Ok(None),
            Err(e) => Err(e.to_string()),
        });
        let from_file = || {
            std::fs::read_to_string(self.fallback_path())
                .ok()
                .and_then(|s| serde_json::from_str::<serde_json::Value>(&s).ok())
                .and_then(|v| v.get(account)?.as_str().map(str::to_string))
        };
        match keyring_result {
            Ok(Some(token)) => (Some(token), SecretStorage::Keyring),
            // Saved while the keyring was down: still usable.
            Ok(None) => match from_file() {
                Some(token) => (
                    Some(token),
                    self.file_status("saved while the keyring was unavailable"),
                ),
                None => (None, SecretStorage::Keyring),
            },
            Err(reason) => (from_file(), self.file_status(&reason)),
        }
    }

    /// Forgets the token for `account` everywhere (logout).
    pub fn delete(&self, account: &str) -> std::io::Result<()> {
        if let Ok(entry) = self.entry(account) {
            match entry.delete_credential() {
                Ok(()) | Err(keyring_core::Error::NoEntry) => {}
                Err(e) => tracing::warn!(error = %e, "could not remove the token from the keyring"),
            }
        }
        *self.last.lock() = None;
        remove_if_exists(&self.fallback_path())
    }

    /// Where the token is: where the last save or load found it, else where one
    /// would go now (without touching anything).
    pub fn status(&self) -> SecretStorage {
        if let Some(storage) = self.last.lock().clone() {
            return storage;
        }
        match &self.keyring {
            Ok(_) => SecretStorage::Keyring,
            Err(reason) => self.file_status(reason),
        }
    }

    fn remember(&self, storage: &SecretStorage) {
        *self.last.lock() = Some(storage.clone());
    }

    fn file_status(&self, reason: &str) -> SecretStorage {
        SecretStorage::File {
            path: self.fallback_path(),
            reason: reason.to_string(),
        }
    }
}

/// Writes `contents` to `path` readable and writable by the owner only (0600),
/// replacing it atomically.
fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let mut file = options.open(&tmp)?;
    #[cfg(unix)]
    {
        // `mode` only applies to new files; an old tmp file keeps its bits otherwise.
        use std::os::unix::fs::PermissionsExt;
        file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(contents.as_bytes())?;
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}

fn remove_if_exists(path: &Path) -> std::io::Result<()> {
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mock_store() -> Arc<CredentialStore> {
        keyring_core::mock::Store::new().expect("mock store")
    }

    #[test]
    fn token_round_trips_through_the_keyring_and_leaves_no_file() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::new(Ok(mock_store()), dir.path());
        assert_eq!(
            secrets.save("alice@http://h", "t0k3n").unwrap(),
            SecretStorage::Keyring
        );
        let (token, storage) = secrets.load("alice@http://h");
        assert_eq!(token.as_deref(), Some("t0k3n"));
        assert_eq!(storage, SecretStorage::Keyring);
        assert!(!dir.path().join(FALLBACK_FILE).exists());
        secrets.delete("alice@http://h").unwrap();
        assert_eq!(secrets.load("alice@http://h").0, None);
    }

    #[test]
    fn without_a_secret_service_the_token_goes_to_a_private_file_and_says_so() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::new(
            Err("org.freedesktop.secrets was not provided".into()),
            dir.path(),
        );
        let storage = secrets.save("alice@http://h", "t0k3n").unwrap();
        let path = dir.path().join(FALLBACK_FILE);
        assert_eq!(
            storage,
            SecretStorage::File {
                path: path.clone(),
                reason: "org.freedesktop.secrets was not provided".into()
            }
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o600, "the fallback file must be private");
        }
        let (token, storage) = secrets.load("alice@http://h");
        assert_eq!(token.as_deref(), Some("t0k3n"));
        assert!(matches!(storage, SecretStorage::File { .. }));
        assert!(matches!(secrets.status(), SecretStorage::File { .. }));
        secrets.delete("alice@http://h").unwrap();
        assert!(!path.exists(), "logout removes the fallback file");
        assert_eq!(secrets.load("alice@http://h").0, None);
    }

    #[test]
    fn a_keyring_that_fails_at_save_time_falls_back_without_losing_the_login() {
        let dir = tempfile::tempdir().unwrap();
        let store = mock_store();
        let secrets = Secrets::new(Ok(store.clone()), dir.path());
        let entry = Entry::new_in_store(&store, SERVICE, "bob@http://h").unwrap();
        let cred: &keyring_core::mock::Cred = entry.as_any().downcast_ref().unwrap();
        cred.set_error(keyring_core::Error::NoStorageAccess(
            "collection is locked".into(),
        ));
        let storage = secrets.save("bob@http://h", "s3cret").unwrap();
        assert!(
            matches!(storage, SecretStorage::File { ref reason, .. } if reason.contains("locked"))
        );
        // Settings shows where the token went, not that a keyring exists.
        assert_eq!(secrets.status(), storage);
        // The keyring works again but holds nothing: the file still answers.
        assert_eq!(secrets.load("bob@http://h").0.as_deref(), Some("s3cret"));
    }

    #[tokio::test]
    async fn keyring_calls_from_async_code_run_off_the_runtime_thread() {
        let dir = tempfile::tempdir().unwrap();
        let secrets = Secrets::new(Ok(mock_store()), dir.path());
        let runtime_thread = std::thread::current().id();
        let (storage, thread) = secrets
            .blocking(|s| (s.save("a@h", "t").unwrap(), std::thread::current().id()))
            .await;
        assert_eq!(storage, SecretStorage::Keyring);
        assert_ne!(thread, runtime_thread);
        assert_eq!(
            secrets.blocking(|s| s.load("a@h").0).await.as_deref(),
            Some("t")
        );
    }

    #[test]
    fn a_keyring_save_after_a_fallback_removes_the_old_file() {
        let dir = tempfile::tempdir().unwrap();
        Secrets::new(Err("no secret service".into()), dir.path())
            .save("a@h", "old")
            .unwrap();
        assert!(dir.path().join(FALLBACK_FILE).exists());
        let secrets = Secrets::new(Ok(mock_store()), dir.path());
        secrets.save("a@h", "new").unwrap();
        assert!(!dir.path().join(FALLBACK_FILE).exists());
        assert_eq!(secrets.load("a@h").0.as_deref(), Some("new"));
    }
}
