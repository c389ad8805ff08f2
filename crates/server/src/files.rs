//! The server's own files: the data directory and the generated admin password.
//!
//! The data directory holds the database (password hashes, every message) and
//! the first admin's password in plain text, so only the server's user may
//! enter it: it is created `0700` and the password file `0600`.

use std::io::Write;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use crate::{Config, Result};

/// Where a generated admin password is kept, in the data directory.
pub fn admin_password_path(config: &Config) -> PathBuf {
    config.data_dir.join("admin-password")
}

/// Creates `dir` with mode `0700` (its parents as usual). One that already
/// exists is left as the admin made it, with a warning when others may enter
/// it: it may be shared on purpose (a backup group), and the server would not
/// know what it breaks by changing it.
pub fn create_private_dir(dir: &Path) -> Result<()> {
    if let Some(parent) = dir.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)?;
    }
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => return Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(e.into()),
    }
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(
            dir = %dir.display(),
            mode = format!("{mode:03o}"),
            "the data directory is open to other users; `chmod 700` it unless that is intended"
        );
    }
    Ok(())
}

/// Keeps a generated admin password where only the server's user can read it.
pub fn write_admin_password(config: &Config, password: &str) -> Result<()> {
    create_private_dir(&config.data_dir)?;
    let path = admin_password_path(config);
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&path)?;
    // `mode` applies only to a new file; one left from before may be wider.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    writeln!(file, "{password}")?;
    Ok(())
}
