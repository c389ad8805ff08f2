//! The saved login: which server, as whom, with which session token.
//!
//! The token is as good as a password, so the file is written with mode 0600 inside
//! a 0700 directory, and replaced atomically (write a temporary file, then rename)
//! so a crash mid-write never leaves half a token behind.

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// Environment variable that moves the config directory (tests, multiple profiles).
pub const CONFIG_DIR_ENV: &str = "HERALD_CONFIG_DIR";

const CREDENTIALS_FILE: &str = "credentials.json";

/// A login: what `herald login` remembers for the next command, and what the
/// desktop app keeps in the OS keyring and hands to [`crate::Client::connect`].
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Credentials {
    /// Base URL of the server, normalized (no trailing slash, no `/api/v1`), so it
    /// can be compared with `--server` before the token is sent anywhere.
    pub server: String,
    /// Shown in messages; the token alone decides who we are.
    pub username: String,
    /// Session token from `POST /auth/login`.
    pub token: String,
}

/// Shows everything but the token, so a login can be logged safely.
impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("server", &self.server)
            .field("username", &self.username)
            .field("token", &"<redacted>")
            .finish()
    }
}

/// The directory holding the CLI's files: `HERALD_CONFIG_DIR` if set, else the
/// platform's config directory (`~/.config/herald` on Linux).
pub fn config_dir() -> Result<PathBuf> {
    if let Some(dir) = std::env::var_os(CONFIG_DIR_ENV).filter(|d| !d.is_empty()) {
        return Ok(PathBuf::from(dir));
    }
    directories::ProjectDirs::from("dev", "herald", "herald")
        .map(|dirs| dirs.config_dir().to_path_buf())
        .ok_or_else(|| {
            Error::Usage(format!(
                "cannot find a home directory for the config; set {CONFIG_DIR_ENV}"
            ))
        })
}

impl Credentials {
    /// Where the credentials live inside `dir`.
    pub fn path(dir: &Path) -> PathBuf {
        dir.join(CREDENTIALS_FILE)
    }

    /// Reads the saved login; `None` when nobody is logged in.
    pub fn load(dir: &Path) -> Result<Option<Self>> {
        let path = Self::path(dir);
        let bytes = match fs::read(&path) {
            Ok(bytes) => bytes,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(source) => {
                return Err(Error::File {
                    action: "cannot read",
                    path,
                    source,
                })
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| Error::CorruptFile {
                path,
                reason: format!("{e}; run `herald login` again"),
            })
    }

    /// Saves the login readable by its owner only.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let json = serde_json::to_vec_pretty(self).expect("credentials always serialize");
        write_private(&Self::path(dir), &json)
    }

    /// Forgets the login; returns whether there was one.
    pub fn remove(dir: &Path) -> Result<bool> {
        remove_file_if_exists(&Self::path(dir))
    }
}

/// Atomically replaces `path` with `contents`, creating its directory (0700) and
/// the file (0600) so that no other local user can read them.
pub fn write_private(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    create_private_dir(dir)?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp-{}", std::process::id()));
    let file_err = |action, source| Error::File {
        action,
        path: tmp.clone(),
        source,
    };
    let mut options = fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options
        .open(&tmp)
        .map_err(|e| file_err("cannot create", e))?;
    file.write_all(contents)
        .and_then(|()| file.sync_all())
        .map_err(|e| file_err("cannot write", e))?;
    drop(file);
    fs::rename(&tmp, path).map_err(|source| {
        let _ = fs::remove_file(&tmp);
        Error::File {
            action: "cannot replace",
            path: path.to_path_buf(),
            source,
        }
    })
}

/// Deletes `path`; a file that is already gone is not an error.
pub fn remove_file_if_exists(path: &Path) -> Result<bool> {
    match fs::remove_file(path) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(false),
        Err(source) => Err(Error::File {
            action: "cannot remove",
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// Creates `dir` (and its parents) readable by its owner only: it holds the
/// user's token or messages. Shared with the cache.
pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, 0o700);
    builder.create(dir).map_err(|source| Error::File {
        action: "cannot create directory",
        path: dir.to_path_buf(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Credentials {
        Credentials {
            server: "http://127.0.0.1:8080".into(),
            username: "alice".into(),
            token: "secret".into(),
        }
    }

    #[test]
    fn saved_credentials_load_back_and_only_the_owner_can_read_them() {
        let dir = tempfile::tempdir().unwrap();
        let nested = dir.path().join("herald");
        assert_eq!(Credentials::load(&nested).unwrap(), None);

        sample().save(&nested).unwrap();
        assert_eq!(Credentials::load(&nested).unwrap(), Some(sample()));

        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(Credentials::path(&nested))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }

        assert!(Credentials::remove(&nested).unwrap());
        assert!(!Credentials::remove(&nested).unwrap());
        assert_eq!(Credentials::load(&nested).unwrap(), None);
    }

    #[test]
    fn a_corrupt_file_says_where_it_is_and_what_to_do() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(Credentials::path(dir.path()), b"not json").unwrap();
        let err = Credentials::load(dir.path()).unwrap_err().to_string();
        assert!(err.contains("credentials.json"), "{err}");
        assert!(err.contains("herald login"), "{err}");
    }
}
