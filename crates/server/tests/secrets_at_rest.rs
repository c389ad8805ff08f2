//! Secrets at rest, with the real binary: the data directory is private, and a
//! generated admin password is kept in a 0600 file and never written to a log.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use herald_testkit::process::ServerProcess;

fn binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_herald-server"))
}

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Starts the server on `data_dir` with stderr (its log) in a file; returns
/// the process and what it logged by the time it was serving.
async fn start(work: &Path, data_dir: &Path) -> (ServerProcess, String) {
    let args = ["--data-dir".to_owned(), data_dir.display().to_string()];
    let server = ServerProcess::start(&binary(), &args, &[], work.join("stderr.log")).await;
    let log = server.log_text();
    (server, log)
}

#[tokio::test]
async fn a_generated_admin_password_is_kept_in_a_private_file_and_not_logged() {
    let work = tempfile::tempdir().expect("temp dir");
    let data_dir = work.path().join("state").join("herald");
    let (_server, log) = start(work.path(), &data_dir).await;

    assert_eq!(mode(&data_dir), 0o700, "the data directory");
    let password_file = data_dir.join("admin-password");
    assert_eq!(mode(&password_file), 0o600, "the password file");
    let password = std::fs::read_to_string(&password_file).expect("password saved");
    let password = password.trim();
    assert!(password.len() >= 8, "a real password: {password:?}");
    assert!(
        !log.contains(password),
        "stderr is not a terminal, yet the password was logged:\n{log}"
    );
    assert!(
        log.contains(&password_file.display().to_string()),
        "the log names the file that holds the password:\n{log}"
    );
}

#[tokio::test]
async fn a_data_directory_open_to_others_is_reported() {
    let work = tempfile::tempdir().expect("temp dir");
    let data_dir = work.path().join("shared");
    std::fs::create_dir(&data_dir).expect("mkdir");
    std::fs::set_permissions(&data_dir, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    let (_server, log) = start(work.path(), &data_dir).await;

    assert!(
        log.contains("open to other users") && log.contains(&data_dir.display().to_string()),
        "no warning about the 755 data directory:\n{log}"
    );
    assert_eq!(
        mode(&data_dir),
        0o755,
        "an existing directory is left as it was"
    );
    assert_eq!(mode(&data_dir.join("admin-password")), 0o600);
}
