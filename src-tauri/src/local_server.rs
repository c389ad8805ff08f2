//! "Local server" mode: the app runs the bundled `herald-server` binary on
//! 127.0.0.1 with its embedded SQLite database in the app's data dir, for a
//! single-machine setup. The server is stopped when the app quits.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct LocalServer {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// Where its database and generated admin password live.
    pub data_dir: PathBuf,
    child: Child,
}

impl LocalServer {
    /// Finds `herald-server` (next to this executable, else on PATH), starts it on a
    /// free loopback port and waits until `/healthz` answers.
    pub async fn start(data_dir: &Path) -> Result<Self, String> {
        let binary = find_server_binary()
            .ok_or("herald-server was not found next to the app or on PATH; build it with `cargo build -p herald-server`")?;
        std::fs::create_dir_all(data_dir)
            .map_err(|e| format!("cannot create {}: {e}", data_dir.display()))?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let listen = format!("127.0.0.1:{port}");
        let log = std::fs::File::create(data_dir.join("server.log")).map_err(|e| e.to_string())?;
        let child = Command::new(&binary)
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(&listen)
            .stdin(Stdio::null())
            .stdout(log.try_clone().map_err(|e| e.to_string())?)
            .stderr(log)
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let server = Self {
            url: format!("http://{listen}"),
            data_dir: data_dir.to_path_buf(),
            child,
        };
        for _ in 0..100 {
            if tokio::net::TcpStream::connect(&listen).await.is_ok() {
                tracing::info!(url = %server.url, "local herald-server is up");
                return Ok(server);
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        Err(format!(
            "the local server did not start within 10 s; see {}",
            data_dir.join("server.log").display()
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

fn find_server_binary() -> Option<PathBuf> {
    let name = format!("herald-server{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe().ok()?.parent()?.join(&name);
    if beside.is_file() {
        return Some(beside);
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|dir| dir.join(&name))
            .find(|p| p.is_file())
    })
}
