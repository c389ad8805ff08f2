//! "Local server" mode: the app runs the bundled `herald-server` binary on
//! 127.0.0.1 with its embedded SQLite database in the app's data dir, for a
//! single-machine setup. The server is stopped when the app quits.

use std::ffi::OsString;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

/// Keeps the port between runs, so the server's URL — and with it the local
/// cache and the saved login, both keyed by URL — stays the same.
const PORT_FILE: &str = "port";
/// First start creates the database and hashes the admin password; a busy
/// machine needs a while.
const START_TIMEOUT: Duration = Duration::from_secs(30);

pub struct LocalServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where its database and generated admin password live.
    pub data_dir: PathBuf,
    child: Child,
}

impl LocalServer {
    /// Finds `herald-server` (next to this executable, else on PATH), starts it on
    /// the loopback port it had last time (or a free one) and waits until
    /// `/healthz` answers — the server accepts connections before it has
    /// written its admin password, so an open port is not enough.
    pub async fn start(data_dir: &Path) -> Result<Self, String> {
        let binary = find_server_binary()
            .ok_or("herald-server was not found in /usr/lib/herald-desktop, next to the app or on PATH; build it with `cargo build -p herald-server`")?;
        private_dir(data_dir).map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let port = pick_port(data_dir).map_err(|e| format!("no free port: {e}"))?;
        let listen = format!("127.0.0.1:{port}");
        let log = private_log(&data_dir.join("server.log"))
            .map_err(|e| format!("cannot open the server log: {e}"))?;
        let mut command = Command::new(&binary);
        command
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(&listen)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log);
        stop_with_this_process(&mut command);
        let child = command
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let mut server = Self {
            url: format!("http://{listen}"),
            data_dir: data_dir.to_path_buf(),
            child,
        };
        let log = data_dir.join("server.log");
        let health = format!("{}/healthz", server.url);
        let deadline = tokio::time::Instant::now() + START_TIMEOUT;
        while tokio::time::Instant::now() < deadline {
            if let Ok(Some(status)) = server.child.try_wait() {
                return Err(format!(
                    "the local server stopped at start ({status}); see {}",
                    log.display()
                ));
            }
            // Until the server is ready, connections wait in the listen queue.
            let probe = tokio::time::timeout(Duration::from_secs(1), reqwest::get(&health)).await;
            if probe.is_ok_and(|r| r.is_ok_and(|r| r.status().is_success())) {
                tracing::info!(url = %server.url, "local herald-server is up");
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "the local server did not start within {} s; see {}",
            START_TIMEOUT.as_secs(),
            log.display()
        ))
    }

    /// The first-start admin password the server saved in its data dir.
    pub fn admin_password(&self) -> Option<String> {
        std::fs::read_to_string(self.data_dir.join("admin-password"))
            .ok()
            .map(|p| p.trim().to_string())
            .filter(|p| !p.is_empty())
    }
}

impl Drop for LocalServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Drop stops the server when the app quits; this stops it when the app is
/// killed or crashes, which would otherwise leave it holding the port.
#[cfg(target_os = "linux")]
fn stop_with_this_process(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: prctl is async-signal-safe and touches only the child's own state.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(|| {
            if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGTERM) == -1 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

#[cfg(not(target_os = "linux"))]
fn stop_with_this_process(_: &mut Command) {}

/// The server's directory holds its database and the admin password: only this
/// user may enter it. It is the app's own, so one left wider by an older
/// version is narrowed too.
fn private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// The server's log, readable by this user only (it names files in the data
/// directory and may hold what users sent); emptied at each start.
fn private_log(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // `mode` applies only to a new file; one from an older version may be wider.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    Ok(file)
}

/// The port of the last run if it is still free, else a new free one (saved).
fn pick_port(data_dir: &Path) -> std::io::Result<u16> {
    let path = data_dir.join(PORT_FILE);
    let saved = std::fs::read_to_string(&path)
        .ok()
        .and_then(|p| p.trim().parse::<u16>().ok());
    if let Some(port) = saved.filter(|&p| TcpListener::bind(("127.0.0.1", p)).is_ok()) {
        return Ok(port);
    }
    let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
    std::fs::write(&path, port.to_string())?;
    Ok(port)
}

fn find_server_binary() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    server_binary_for(exe.parent()?, std::env::var_os("PATH"))
}

/// The first `herald-server` of: the package's private copy (the .deb puts it in
/// /usr/lib/herald-desktop/, off /usr/bin, so the herald-server package installs
/// beside it), the one next to the app (a cargo build's target dir), then PATH's.
fn server_binary_for(app_dir: &Path, path: Option<OsString>) -> Option<PathBuf> {
    let name = format!("herald-server{}", std::env::consts::EXE_SUFFIX);
    let packaged = app_dir
        .parent()
        .map(|prefix| prefix.join("lib/herald-desktop").join(&name));
    let beside = app_dir.join(&name);
    let on_path = path
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(&name));
    packaged
        .into_iter()
        .chain([beside])
        .chain(on_path)
        .find(|p| p.is_file())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_data_dir_and_the_log_are_private_even_when_they_existed() {
        use std::os::unix::fs::PermissionsExt;
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let root = tempfile::tempdir().unwrap();
        let dir = root.path().join("app").join("server");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        let log = dir.join("server.log");
        private_log(&log).unwrap();
        assert_eq!(mode(&log), 0o600);

        // Left by an older version with the umask's modes.
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::set_permissions(&log, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_dir(&dir).unwrap();
        private_log(&log).unwrap();
        assert_eq!((mode(&dir), mode(&log)), (0o700, 0o600));
    }

    #[test]
    fn the_port_is_kept_between_runs_unless_something_else_took_it() {
        let dir = tempfile::tempdir().unwrap();
        let first = pick_port(dir.path()).unwrap();
        assert_eq!(pick_port(dir.path()).unwrap(), first);
        let _taken = TcpListener::bind(("127.0.0.1", first)).unwrap();
        let second = pick_port(dir.path()).unwrap();
        assert_ne!(second, first);
        assert_eq!(
            std::fs::read_to_string(dir.path().join(PORT_FILE)).unwrap(),
            second.to_string()
        );
    }

    /// A fake installation under `root`: a file at each path.
    fn install(root: &Path, paths: &[&str]) {
        for path in paths {
            let file = root.join(path);
            std::fs::create_dir_all(file.parent().unwrap()).unwrap();
            std::fs::write(file, "").unwrap();
        }
    }

    #[test]
    fn the_packaged_app_starts_its_own_server_before_the_server_package_or_path() {
        let root = tempfile::tempdir().unwrap();
        let usr = root.path().join("usr");
        install(
            &usr,
            &[
                "bin/herald-desktop",
                "bin/herald-server",
                "lib/herald-desktop/herald-server",
                "local/bin/herald-server",
            ],
        );
        let path = std::env::join_paths([usr.join("local/bin")]).unwrap();
        assert_eq!(
            server_binary_for(&usr.join("bin"), Some(path)),
            Some(usr.join("lib/herald-desktop/herald-server"))
        );
    }

    #[test]
    fn a_built_app_finds_the_server_beside_it_else_on_path() {
        let root = tempfile::tempdir().unwrap();
        let target = root.path().join("target");
        install(&target, &["debug/herald-desktop", "other/herald-server"]);
        let path = std::env::join_paths([target.join("other")]).unwrap();
        let found = server_binary_for(&target.join("debug"), Some(path.clone()));
        assert_eq!(found, Some(target.join("other/herald-server")));
        install(&target, &["debug/herald-server"]);
        let found = server_binary_for(&target.join("debug"), Some(path));
        assert_eq!(found, Some(target.join("debug/herald-server")));
        assert_eq!(server_binary_for(&root.path().join("none"), None), None);
    }
}
