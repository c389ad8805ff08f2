//! What the scenarios measure: a server process and how to talk to it.
//!
//! Kept small on purpose: how a user connects, how to send a personal or a
//! broadcast notification, and which pid to sample. Herald and the peers differ
//! only here.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

use crate::http::{Http, Request};
use crate::seed::Seeded;
use crate::{Error, Result};

/// Which server a target runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    Herald,
    /// Node.js + `ws`, shaped like the seed design.
    Node,
    /// Python FastAPI/uvicorn, shaped like the seed design.
    Python,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Herald => "herald",
            Kind::Node => "node-ws",
            Kind::Python => "python-fastapi",
        }
    }
}

/// How to start each kind of server.
#[derive(Debug, Clone)]
pub struct Launch {
    /// `herald-server` binary; `None` runs this binary's `serve-herald`.
    pub herald_bin: Option<PathBuf>,
    /// `bench/peers`, holding `node/` and `python/`.
    pub peers_dir: PathBuf,
    /// Where server logs go.
    pub log_dir: PathBuf,
}

/// A running server.
pub struct Target {
    pub kind: Kind,
    pub addr: SocketAddr,
    child: Child,
    /// Herald's users and tokens; peers know users by name only.
    seeded: Arc<Seeded>,
}

/// Limits far above what the scenarios send (T6/T7 publish tens of thousands
/// a second from one token, T1 holds 19,000 sockets from one address), set
/// through the environment so a `herald-server` from before they existed
/// ignores them.
const BENCH_LIMITS: &[(&str, &str)] = &[
    ("HERALD_PUBLISH_PER_S", "1000000"),
    ("HERALD_PUBLISH_BURST", "1000000"),
    ("HERALD_CHAT_PER_S", "1000000"),
    ("HERALD_CHAT_BURST", "1000000"),
    ("HERALD_WS_PER_USER", "100000"),
    ("HERALD_WS_UNAUTHENTICATED_PER_IP", "100000"),
];

impl Target {
    /// Starts Herald on the seeded database in `data_dir`, with limits that
    /// stay out of the scenarios' way.
    pub async fn herald(launch: &Launch, data_dir: &Path, seeded: Arc<Seeded>) -> Result<Self> {
        Self::herald_with(launch, data_dir, seeded, BENCH_LIMITS).await
    }

    /// Starts Herald with `envs` on top of its shipped defaults.
    pub async fn herald_with(
        launch: &Launch,
        data_dir: &Path,
        seeded: Arc<Seeded>,
        envs: &[(&str, &str)],
    ) -> Result<Self> {
        let addr = free_addr()?;
        let mut command = match &launch.herald_bin {
            Some(bin) => Command::new(bin),
            None => {
                let mut c = Command::new(std::env::current_exe()?);
                c.arg("serve-herald");
                c
            }
        };
        command
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--listen")
            .arg(addr.to_string())
            .env("HERALD_ADMIN_PASSWORD", crate::seed::ADMIN_PASSWORD)
            .envs(envs.iter().copied())
            .env("RUST_LOG", "warn");
        Self::start(Kind::Herald, command, addr, launch, seeded).await
    }

    /// Starts a peer server.
    pub async fn peer(kind: Kind, launch: &Launch, users: usize) -> Result<Self> {
        let addr = free_addr()?;
        let port = addr.port().to_string();
        let command = match kind {
            Kind::Herald => return Err(Error::Setup("Herald is not a peer".into())),
            Kind::Node => {
                let mut c = Command::new("node");
                c.arg(launch.peers_dir.join("node/server.js")).arg(&port);
                c
            }
            Kind::Python => {
                let dir = launch.peers_dir.join("python");
                let mut c = Command::new(dir.join(".venv/bin/python"));
                c.args(["-m", "uvicorn", "server:app", "--host", "127.0.0.1"])
                    .args(["--port", &port, "--log-level", "warning", "--no-access-log"])
                    .arg("--app-dir")
                    .arg(&dir)
                    .args(["--ws-max-queue", "100000"]);
                c
            }
        };
        Self::start(kind, command, addr, launch, Arc::new(Seeded::names(users))).await
    }

    async fn start(
        kind: Kind,
        mut command: Command,
        addr: SocketAddr,
        launch: &Launch,
        seeded: Arc<Seeded>,
    ) -> Result<Self> {
        std::fs::create_dir_all(&launch.log_dir)?;
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(launch.log_dir.join(format!("{}.log", kind.name())))?;
        let child = command
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .map_err(|e| Error::Setup(format!("cannot start {}: {e}", kind.name())))?;
        let mut target = Self {
            kind,
            addr,
            child,
            seeded,
        };
        target.wait_ready().await?;
        Ok(target)
    }

    /// Polls the health route until it answers (start-up includes opening and
    /// migrating the database, or importing Python modules).
    async fn wait_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + Duration::from_secs(60);
        let path = match self.kind {
            Kind::Herald => "/healthz",
            Kind::Node | Kind::Python => "/health",
        };
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(Error::Setup(format!(
                    "{} exited during start-up ({status}); see its log",
                    self.kind.name()
                )));
            }
            if let Ok(mut http) = Http::connect(self.addr).await {
                let health = Request::get(path);
                let asked = tokio::time::timeout(Duration::from_secs(2), http.send(&health));
                if let Ok(Ok((200, _))) = asked.await {
                    return Ok(());
                }
            }
            if Instant::now() > deadline {
                return Err(Error::Setup(format!(
                    "{} never became ready",
                    self.kind.name()
                )));
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The process to sample for memory and CPU.
    pub fn pid(&self) -> u32 {
        self.child.id().unwrap_or(0)
    }

    pub fn users(&self) -> usize {
        self.seeded.users.len()
    }

    /// The WebSocket path and bearer token for user `i`.
    pub fn ws_route(&self, i: usize) -> (String, Option<String>) {
        let user = &self.seeded.users[i];
        match self.kind {
            Kind::Herald => ("/api/v1/ws".into(), Some(user.token.clone())),
            Kind::Node | Kind::Python => (format!("/ws?user={}", user.name), None),
        }
    }

    /// Herald holds live events until the client subscribes (or 500 ms).
    pub fn wants_subscribe(&self) -> bool {
        self.kind == Kind::Herald
    }

    /// What senders need, detached from the process so request builders can be
    /// moved into tasks.
    pub fn sender(&self) -> Sender {
        Sender {
            kind: self.kind,
            seeded: self.seeded.clone(),
        }
    }

    /// Stops the server: SIGTERM, then SIGKILL if it lingers.
    pub async fn stop(mut self) -> Result<()> {
        if let Some(pid) = self.child.id() {
            // SAFETY: signalling our own child by its pid.
            #[allow(unsafe_code)]
            unsafe {
                libc::kill(pid as i32, libc::SIGTERM)
            };
        }
        if tokio::time::timeout(Duration::from_secs(10), self.child.wait())
            .await
            .is_err()
        {
            self.child.kill().await?;
        }
        Ok(())
    }

    /// `kill -9`: no chance to flush or finish anything.
    pub async fn kill9(mut self) -> Result<()> {
        self.child.start_kill()?;
        self.child.wait().await?;
        Ok(())
    }
}

/// A loopback port nobody listens on right now.
fn free_addr() -> Result<SocketAddr> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    Ok(listener.local_addr()?)
}

/// Builds the send requests for one target.
#[derive(Clone)]
pub struct Sender {
    kind: Kind,
    seeded: Arc<Seeded>,
}

impl Sender {
    /// A personal notification to user `i` (Herald: durable before 201).
    pub fn personal(&self, i: usize, content: &str) -> Request {
        let to = &self.seeded.users[i].name;
        self.request(format!(
            r#"{{"to":["{to}"],"title":"b","content":"{content}"}}"#
        ))
    }

    /// A broadcast to every user.
    pub fn broadcast(&self, content: &str) -> Request {
        self.request(format!(
            r#"{{"broadcast":true,"title":"b","content":"{content}"}}"#
        ))
    }

    fn request(&self, body: String) -> Request {
        match self.kind {
            Kind::Herald => Request::post(
                "/api/v1/notifications",
                Some(self.seeded.admin_token.clone()),
                body,
            ),
            Kind::Node | Kind::Python => Request::post("/send", None, body),
        }
    }

    /// Which status means "accepted" (Herald: 201, durable).
    pub fn accepted(&self) -> fn(u16) -> bool {
        match self.kind {
            Kind::Herald => |status| status == 201,
            Kind::Node | Kind::Python => |status| status == 200,
        }
    }
}
