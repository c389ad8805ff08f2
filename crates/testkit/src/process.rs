//! The real `herald-server` binary as a child process, for tests that kill it or
//! run several side by side.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use tokio::time::Instant;

/// Bounds waiting for a start; a debug build on a busy machine can be slow.
const START_LIMIT: Duration = Duration::from_secs(60);
/// Bounds waiting for an exit after SIGTERM (the server's own drain deadline
/// is 10 s by default).
const EXIT_LIMIT: Duration = Duration::from_secs(60);

/// A running `herald-server`; dropped, it is killed so a failing test leaves
/// nothing behind.
pub struct ServerProcess {
    child: Child,
    pub url: String,
    log: PathBuf,
}

impl ServerProcess {
    /// Starts `binary` (the test's `env!("CARGO_BIN_EXE_herald-server")`) on a
    /// free loopback port with `args` and `envs` (over [`GENEROUS_LIMITS`]),
    /// its output (stdout and stderr, where its tracing log goes) in `log`;
    /// returns once `/healthz` answers.
    ///
    /// [`GENEROUS_LIMITS`]: crate::GENEROUS_LIMITS
    pub async fn start(
        binary: &Path,
        args: &[String],
        envs: &[(&str, &str)],
        log: PathBuf,
    ) -> Self {
        let port = free_port();
        let mut command = Command::new(binary);
        // Only what the test sets may configure the server.
        for (key, _) in std::env::vars().filter(|(key, _)| key.starts_with("HERALD_")) {
            command.env_remove(key);
        }
        for (key, limit) in crate::GENEROUS_LIMITS {
            command.env(format!("HERALD_{}", key.to_uppercase()), limit.to_string());
        }
        let output = std::fs::File::create(&log).expect("server log file");
        let errors = output.try_clone().expect("server log file");
        let child = command
            .args(args)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .envs(envs.iter().copied())
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(output)
            .stderr(errors)
            .spawn()
            .expect("herald-server starts");
        let mut server = Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
            log,
        };
        server.wait_until_healthy().await;
        server
    }

    async fn wait_until_healthy(&mut self) {
        let http = reqwest::Client::new();
        let deadline = Instant::now() + START_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                panic!("herald-server exited with {status}:\n{}", self.log_text());
            }
            let health = http.get(format!("{}/healthz", self.url)).send().await;
            if health.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            if Instant::now() > deadline {
                panic!(
                    "herald-server not healthy in {START_LIMIT:?}:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGTERM, as systemd stops it, and waits (at most a minute) for it to exit.
    pub async fn terminate(&mut self) -> std::process::ExitStatus {
        // SAFETY: signalling our own child by its pid.
        #[allow(unsafe_code)]
        unsafe {
            libc::kill(self.child.id() as i32, libc::SIGTERM)
        };
        let deadline = Instant::now() + EXIT_LIMIT;
        loop {
            if let Some(status) = self.child.try_wait().expect("child status") {
                return status;
            }
            if Instant::now() > deadline {
                panic!(
                    "herald-server still running {EXIT_LIMIT:?} after SIGTERM:\n{}",
                    self.log_text()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush, no goodbye.
    pub fn kill_9(&mut self) {
        self.child.kill().expect("SIGKILL herald-server");
        self.child.wait().expect("reap herald-server");
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A loopback port nothing listens on right now.
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .expect("a free loopback port")
        .port()
}
