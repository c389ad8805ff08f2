//! Test helpers: a real Herald server in-process on `127.0.0.1:0` with a temp
//! SQLite file, plus clients that talk to it over real sockets.
//!
//! ```ignore
//! let server = TestServer::spawn().await;
//! let alice = server.user("alice").await;
//! let mut ws = alice.ws().await;
//! ```

pub mod postgres;
pub mod process;
pub mod services;
mod ws;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use herald_protocol::{Conversation, Message, Page, Room};
use herald_server::state::AppState;
use herald_server::{Config, Registration, Server};
use herald_store::Store;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};
use tokio::sync::oneshot;

pub use ws::WsClient;

/// Bounds every request, so a wedged server fails a test instead of hanging it.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(60);

/// The HTTP client of every [`TestUser`].
fn http_client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .build()
        .expect("http client")
}

/// Password of the `admin` user every test server starts with.
pub const ADMIN_PASSWORD: &str = "admin-password";

/// Limits far above anything a test does, so only the tests about limits (which
/// set their own) meet them: the shipped defaults protect a real deployment and
/// would refuse, say, a test's hundreds of sends in a second. Configuration
/// keys, set on every [`TestServer`] and, as `HERALD_<KEY>`, every
/// [`process::ServerProcess`].
pub const GENEROUS_LIMITS: &[(&str, u64)] = &[
    ("hash_threads", 16),
    ("login_free_failures", 1_000),
    ("publish_per_s", 1_000_000),
    ("publish_burst", 1_000_000),
    ("chat_per_s", 1_000_000),
    ("chat_burst", 1_000_000),
    ("ws_per_user", 10_000),
    ("ws_unauthenticated_per_ip", 10_000),
];

/// `config` with [`GENEROUS_LIMITS`].
fn with_generous_limits(config: Config) -> Config {
    let mut value = serde_json::to_value(config).expect("config serializes");
    for (key, limit) in GENEROUS_LIMITS {
        value[*key] = json!(limit);
    }
    serde_json::from_value(value).expect("generous limits fit the config")
}

pub struct TestServer {
    pub addr: SocketAddr,
    state: AppState,
    stop: Option<oneshot::Sender<()>>,
    task: Option<tokio::task::JoinHandle<herald_server::Result<()>>>,
    /// Holds the database; removed when the server is dropped.
    pub dir: tempfile::TempDir,
    http: reqwest::Client,
    /// The configuration it runs with, so [`TestServer::restart`] can run it again.
    config: Config,
}

impl TestServer {
    pub async fn spawn() -> Self {
        Self::spawn_with(|_| {}).await
    }

    /// Spawns with a tweaked configuration (registration, heartbeat, queue size…).
    pub async fn spawn_with(tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut config = with_generous_limits(Config {
            data_dir: dir.path().to_path_buf(),
            admin_password: Some(ADMIN_PASSWORD.into()),
            registration: Registration::Closed,
            ..Config::default()
        });
        tweak(&mut config);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind 127.0.0.1:0");
        let addr = listener.local_addr().expect("local addr");
        let (state, stop, task) = Self::start(config.clone(), listener).await;
        Self {
            addr,
            state,
            stop: Some(stop),
            task: Some(task),
            dir,
            http: http_client(),
            config,
        }
    }

    async fn start(
        config: Config,
        listener: tokio::net::TcpListener,
    ) -> (
        AppState,
        oneshot::Sender<()>,
        tokio::task::JoinHandle<herald_server::Result<()>>,
    ) {
        let server = Server::open(config).await.expect("server opens");
        let state = server.state().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        let task = tokio::spawn(server.run(listener, async move {
            let _ = stopped.await;
        }));
        (state, stop, task)
    }

    /// Stops the server gracefully and starts it again on the same address and
    /// data: what clients see when a server is restarted mid-stream (their
    /// connections close, the port refuses for a moment, then it is back with
    /// everything it had committed). Tokens and users survive.
    pub async fn restart(&mut self) {
        self.shutdown().await;
        self.start_again().await;
    }

    /// Starts a server stopped with [`TestServer::shutdown`] again on the same
    /// address and data (for tests that act while it is down).
    pub async fn start_again(&mut self) {
        assert!(self.task.is_none(), "the server is still running");
        // The old listener is closed; the port is free again, but another
        // process could take it, so retry briefly before giving up.
        let mut attempts = 0;
        let listener = loop {
            match tokio::net::TcpListener::bind(self.addr).await {
                Ok(listener) => break listener,
                Err(_) if attempts < 50 => {
                    attempts += 1;
                    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                }
                Err(e) => panic!("rebind {}: {e}", self.addr),
            }
        };
        let (state, stop, task) = Self::start(self.config.clone(), listener).await;
        self.state = state;
        self.stop = Some(stop);
        self.task = Some(task);
    }

    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn admin_password(&self) -> &str {
        ADMIN_PASSWORD
    }

    /// Direct access to storage, for what no route does (e.g. forcing a purge).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.state.store
    }

    /// Runs the retention purge as if everything committed so far were older
    /// than the server keeps (chat messages stay).
    pub async fn purge_everything(&self) -> herald_store::PurgeStats {
        let later = time::OffsetDateTime::now_utc() + time::Duration::seconds(1);
        self.store()
            .purge(&herald_store::Retention::before(later))
            .await
            .expect("the purge runs")
    }

    /// The server's shared state, to drive a service step by step where the
    /// order of two events matters (a race no request sequence can produce).
    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// A client with no token.
    pub fn anonymous(&self) -> TestUser {
        TestUser {
            id: 0,
            username: String::new(),
            token: String::new(),
            base: self.url(),
            http: self.http.clone(),
        }
    }

    pub async fn login(&self, username: &str, password: &str, device: &str) -> TestUser {
        TestUser::login_at(&self.url(), username, password, device).await
    }

    pub async fn admin(&self) -> TestUser {
        self.login("admin", ADMIN_PASSWORD, "test-admin").await
    }

    /// Creates `name` (password `password-<name>`) and logs in as them.
    pub async fn user(&self, name: &str) -> TestUser {
        let admin = self.admin().await;
        let created = admin
            .post(
                "/api/v1/users",
                json!({"username": name, "password": password_of(name)}),
            )
            .await;
        assert_eq!(created.status, 201, "create {name}: {}", created.body);
        self.login(name, &password_of(name), "test-device").await
    }

    /// Another device (session) of an existing user.
    pub async fn device(&self, user: &TestUser, device: &str) -> TestUser {
        self.login(&user.username, &password_of(&user.username), device)
            .await
    }

    /// Stops the server gracefully and waits for it.
    pub async fn shutdown(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(task) = self.task.take() {
            task.await
                .expect("server task")
                .expect("server stops cleanly");
        }
    }
}

impl Drop for TestServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A `client_id` no other call in this process uses.
pub fn client_id() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!("test-{}", NEXT.fetch_add(1, Ordering::Relaxed))
}

pub fn password_of(username: &str) -> String {
    format!("password-{username}")
}

/// A logged-in user (one device) talking REST to the test server.
#[derive(Clone)]
pub struct TestUser {
    pub id: i64,
    pub username: String,
    pub token: String,
    base: String,
    http: reqwest::Client,
}

/// Status and JSON body of a response (`Value::Null` when the body is empty).
#[derive(Debug)]
pub struct TestResponse {
    pub status: u16,
    pub body: Value,
}

impl TestResponse {
    pub fn json<T: DeserializeOwned>(&self) -> T {
        serde_json::from_value(self.body.clone())
            .unwrap_or_else(|e| panic!("unexpected body {}: {e}", self.body))
    }

    /// The `error.code` of an error response.
    pub fn error_code(&self) -> &str {
        self.body["error"]["code"].as_str().unwrap_or("")
    }

    /// Asserts the status and the `error.code`, and that the error says something.
    pub fn assert_refused(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "unexpected answer: {}", self.body);
        assert_eq!(self.error_code(), code, "unexpected answer: {}", self.body);
        let message = self.body["error"]["message"].as_str().unwrap_or("");
        assert!(
            !message.is_empty(),
            "error without a message: {}",
            self.body
        );
    }
}

impl TestUser {
    /// Logs in to the server at `base` (any node of a cluster).
    pub async fn login_at(base: &str, username: &str, password: &str, device: &str) -> TestUser {
        let anonymous = TestUser {
            id: 0,
            username: String::new(),
            token: String::new(),
            base: base.to_owned(),
            http: http_client(),
        };
        let response = anonymous
            .post(
                "/api/v1/auth/login",
                json!({"username": username, "password": password, "device": device}),
            )
            .await;
        assert_eq!(response.status, 200, "login {username}: {}", response.body);
        TestUser {
            id: response.body["user"]["id"].as_i64().expect("user id"),
            username: username.to_owned(),
            token: response.body["token"].as_str().expect("token").to_owned(),
            ..anonymous
        }
    }

    /// The same session talking to another node.
    pub fn on(&self, base: &str) -> TestUser {
        TestUser {
            base: base.to_owned(),
            ..self.clone()
        }
    }

    pub fn with_token(&self, token: &str) -> TestUser {
        TestUser {
            token: token.to_owned(),
            ..self.clone()
        }
    }

    pub async fn get(&self, path: &str) -> TestResponse {
        self.send(self.http.get(self.url(path))).await
    }

    pub async fn post(&self, path: &str, body: Value) -> TestResponse {
        self.send(self.http.post(self.url(path)).json(&body)).await
    }

    /// A POST that may find no server: for sending to a node that is about to
    /// be killed, where only the answers that did arrive count.
    pub async fn try_post(&self, path: &str, body: Value) -> reqwest::Result<TestResponse> {
        self.try_send(self.http.post(self.url(path)).json(&body))
            .await
    }

    /// POSTs raw bytes as JSON, for malformed and oversized bodies.
    pub async fn post_raw(&self, path: &str, body: impl Into<reqwest::Body>) -> TestResponse {
        let request = self
            .http
            .post(self.url(path))
            .header("content-type", "application/json")
            .body(body);
        self.send(request).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> TestResponse {
        self.send(self.http.patch(self.url(path)).json(&body)).await
    }

    pub async fn delete(&self, path: &str) -> TestResponse {
        self.send(self.http.delete(self.url(path))).await
    }

    /// Any method by name, for tables of routes; `body` goes only with POST and
    /// PATCH.
    pub async fn call(&self, method: &str, path: &str, body: &Value) -> TestResponse {
        match method {
            "GET" => self.get(path).await,
            "POST" => self.post(path, body.clone()).await,
            "PATCH" => self.patch(path, body.clone()).await,
            "DELETE" => self.delete(path).await,
            other => panic!("no such method {other}"),
        }
    }

    /// Sends a personal notification and returns its id.
    pub async fn notify(&self, to: &[&str], title: &str) -> i64 {
        let response = self
            .post("/api/v1/notifications", json!({"to": to, "title": title}))
            .await;
        assert_eq!(response.status, 201, "send: {}", response.body);
        response.body["id"].as_i64().expect("id")
    }

    /// Sends a broadcast (the user must be an admin) and returns its id.
    pub async fn broadcast(&self, title: &str) -> i64 {
        let response = self
            .post(
                "/api/v1/notifications",
                json!({"broadcast": true, "title": title}),
            )
            .await;
        assert_eq!(response.status, 201, "broadcast: {}", response.body);
        response.body["id"].as_i64().expect("id")
    }

    pub async fn counts(&self) -> herald_protocol::Counts {
        self.get("/api/v1/notifications/counts").await.json()
    }

    /// Ids of the user's notifications for a query string such as `status=unread`.
    pub async fn ids(&self, query: &str) -> Vec<i64> {
        let page = self.get(&format!("/api/v1/notifications?{query}")).await;
        assert_eq!(page.status, 200, "list: {}", page.body);
        page.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|n| n["id"].as_i64().expect("id"))
            .collect()
    }

    /// Sends a direct message to `to` (a fresh `client_id` each time).
    pub async fn chat(&self, to: &str, content: &str) -> Message {
        self.send_message(json!({"to": to, "content": content, "client_id": client_id()}))
            .await
    }

    /// Sends a message to a room (a fresh `client_id` each time).
    pub async fn chat_room(&self, room: i64, content: &str) -> Message {
        self.send_message(json!({"room": room, "content": content, "client_id": client_id()}))
            .await
    }

    async fn send_message(&self, body: Value) -> Message {
        let response = self.post("/api/v1/messages", body).await;
        assert_eq!(response.status, 201, "send message: {}", response.body);
        response.json()
    }

    /// Creates a room owned by this user.
    pub async fn create_room(&self, name: &str, members: &[&str]) -> Room {
        let response = self
            .post("/api/v1/rooms", json!({"name": name, "members": members}))
            .await;
        assert_eq!(response.status, 201, "create room: {}", response.body);
        response.json()
    }

    pub async fn add_contact(&self, username: &str) {
        let response = self
            .post("/api/v1/contacts", json!({ "username": username }))
            .await;
        assert!(
            matches!(response.status, 200 | 201),
            "add contact: {}",
            response.body
        );
    }

    /// The direct conversation with `peer`, which must exist.
    pub async fn conversation_with(&self, peer: &str) -> Conversation {
        let page = self
            .get(&format!("/api/v1/conversations?peer={peer}"))
            .await;
        assert_eq!(page.status, 200, "conversations: {}", page.body);
        let page: Page<Conversation> = page.json();
        page.items
            .into_iter()
            .next()
            .unwrap_or_else(|| panic!("{} has no conversation with {peer}", self.username))
    }

    /// Ids of one history page of a conversation for a query such as `limit=10`.
    pub async fn history(&self, conversation: i64, query: &str) -> Vec<i64> {
        let page = self
            .get(&format!(
                "/api/v1/conversations/{conversation}/messages?{query}"
            ))
            .await;
        assert_eq!(page.status, 200, "history: {}", page.body);
        let page: Page<Message> = page.json();
        page.items.iter().map(|m| m.id).collect()
    }

    pub async fn ws(&self) -> WsClient {
        WsClient::connect(&self.base, Some(&self.token)).await
    }

    /// A socket that is live like a real client's (see [`WsClient::connect_ready`]).
    pub async fn ws_ready(&self) -> WsClient {
        WsClient::connect_ready(&self.base, &self.token).await.0
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> TestResponse {
        self.try_send(request)
            .await
            .expect("request reaches the server")
    }

    async fn try_send(&self, request: reqwest::RequestBuilder) -> reqwest::Result<TestResponse> {
        let request = if self.token.is_empty() {
            request
        } else {
            request.bearer_auth(&self.token)
        };
        let response = request.send().await?;
        let status = response.status().as_u16();
        let bytes = response.bytes().await?;
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        };
        Ok(TestResponse { status, body })
    }
}
