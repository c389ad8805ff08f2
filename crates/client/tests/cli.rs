//! The `herald` binary against a real in-process server: what a person or a CI job
//! types, and what they see.

use std::path::Path;
use std::process::Stdio;
use std::time::Duration;

use herald_protocol::{Counts, Notification, SendResult};
use herald_testkit::{password_of, TestServer};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::process::{Child, Command};

/// How long a test waits for a line from a running `herald watch`.
const LINE_TIMEOUT: Duration = Duration::from_secs(15);

/// One person's shell: the `herald` binary with its own config directory.
struct Shell {
    config: tempfile::TempDir,
    /// Extra environment for every command (e.g. `HERALD_TOKEN`).
    env: Vec<(String, String)>,
}

/// What a finished command printed, and how it exited.
#[derive(Debug)]
struct Run {
    code: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    fn ok(self) -> String {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        self.stdout
    }

    /// Asserts failure with `code` and returns stderr.
    fn fails_with(self, code: i32) -> String {
        assert_eq!(self.code, code, "unexpected exit code: {self:?}");
        assert!(
            self.stdout.is_empty(),
            "a failure printed to stdout: {self:?}"
        );
        assert_eq!(
            self.stderr.trim().lines().count(),
            1,
            "errors are one line: {self:?}"
        );
        self.stderr
    }
}

impl Shell {
    fn new() -> Self {
        Self {
            config: tempfile::tempdir().expect("temp config dir"),
            env: Vec::new(),
        }
    }

    fn with_env(mut self, key: &str, value: &str) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    fn config_dir(&self) -> &Path {
        self.config.path()
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_herald"));
        command
            .args(args)
            .env("HERALD_CONFIG_DIR", self.config.path())
            .env_remove("HERALD_TOKEN")
            .env_remove("HERALD_SERVER")
            .envs(self.env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        command
    }

    async fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, "").await
    }

    async fn run_with_stdin(&self, args: &[&str], stdin: &str) -> Run {
        let mut child = self.command(args).spawn().expect("spawn herald");
        let mut input = child.stdin.take().expect("stdin");
        input
            .write_all(stdin.as_bytes())
            .await
            .expect("write stdin");
        drop(input);
        let output = tokio::time::timeout(Duration::from_secs(60), child.wait_with_output())
            .await
            .expect("herald finishes within a minute")
            .expect("herald runs");
        Run {
            code: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
            stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
        }
    }

    /// `herald login` as an existing user, password on stdin.
    async fn login(&self, server: &TestServer, username: &str, password: &str) -> Run {
        self.run_with_stdin(
            &[
                "login",
                "--server",
                &server.url(),
                "--user",
                username,
                "--password-stdin",
            ],
            &format!("{password}\n"),
        )
        .await
    }
}

/// A shell already logged in as `username` (created by the testkit when not admin).
async fn logged_in(server: &TestServer, username: &str) -> Shell {
    let password = if username == "admin" {
        server.admin_password().to_string()
    } else {
        server.user(username).await;
        password_of(username)
    };
    let shell = Shell::new();
    shell.login(server, username, &password).await.ok();
    shell
}

fn json_lines<T: serde::de::DeserializeOwned>(stdout: &str) -> Vec<T> {
    stdout
        .lines()
        .map(|line| serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}")))
        .collect()
}

async fn next_line(
    lines: &mut tokio::io::Lines<BufReader<impl tokio::io::AsyncRead + Unpin>>,
    what: &str,
) -> String {
    tokio::time::timeout(LINE_TIMEOUT, lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("no {what} within {LINE_TIMEOUT:?}"))
        .expect("read line")
        .unwrap_or_else(|| panic!("stream ended before {what}"))
}

/// A running `herald watch --json`, once it reports being connected.
struct Watch {
    child: Child,
    stdout: tokio::io::Lines<BufReader<tokio::process::ChildStdout>>,
    /// Kept open so the watcher's later notices do not hit a closed pipe.
    _stderr: tokio::io::Lines<BufReader<tokio::process::ChildStderr>>,
    /// What it said on stderr when it connected.
    connected: String,
}

impl Watch {
    async fn start(shell: &Shell) -> Self {
        let mut child = shell
            .command(&["watch", "--json"])
            .spawn()
            .expect("spawn herald watch");
        let stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
        let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
        let connected = next_line(&mut stderr, "the connected notice").await;
        assert!(connected.starts_with("Connected to "), "{connected}");
        Self {
            child,
            stdout,
            _stderr: stderr,
            connected,
        }
    }

    async fn next_event(&mut self) -> Value {
        let line = next_line(&mut self.stdout, "an event").await;
        serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"))
    }

    async fn stop(mut self) {
        self.child.kill().await.expect("kill herald watch");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_with_password_on_stdin_saves_a_private_session_and_counts_work() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let shell = Shell::new();

    let out = shell.login(&server, "alice", "password-alice").await.ok();
    assert_eq!(out, format!("Logged in to {} as alice\n", server.url()));

    let saved: Value = serde_json::from_slice(
        &std::fs::read(shell.config_dir().join("credentials.json")).expect("credentials saved"),
    )
    .expect("credentials are JSON");
    assert_eq!(saved["server"], server.url());
    assert_eq!(saved["username"], "alice");
    assert!(saved["token"].as_str().is_some_and(|t| !t.is_empty()));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let meta = std::fs::metadata(shell.config_dir().join("credentials.json")).unwrap();
        assert_eq!(meta.permissions().mode() & 0o777, 0o600);
    }

    let out = shell.run(&["counts"]).await.ok();
    assert_eq!(out, "Unread: 0 (personal 0, broadcast 0, chats 0)\n");
    let counts: Vec<Counts> = json_lines(&shell.run(&["counts", "--json"]).await.ok());
    assert_eq!(counts, [Counts::new(0, 0, 0)]);

    let out = shell.run(&["whoami"]).await.ok();
    assert!(out.starts_with("alice ("), "{out}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_is_an_auth_failure_and_saves_nothing() {
    let server = TestServer::spawn().await;
    server.user("alice").await;
    let shell = Shell::new();

    let err = shell.login(&server, "alice", "wrong").await.fails_with(3);
    assert!(err.starts_with("herald: not authenticated"), "{err}");
    assert!(!shell.config_dir().join("credentials.json").exists());

    let err = shell.run(&["counts"]).await.fails_with(3);
    assert!(err.contains("not logged in"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_notification_sent_to_alice_is_in_her_unread_list() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let bob = logged_in(&server, "bob").await;

    let out = bob
        .run(&[
            "send",
            "--to",
            "alice",
            "--title",
            "test plan #42 finished: 3 failed",
            "--content",
            "see the report",
            "--category",
            "test-run",
            "--link",
            "https://ci.example.com/42",
            "--priority",
            "4",
        ])
        .await
        .ok();
    let id: i64 = out
        .strip_prefix("Sent notification #")
        .and_then(|rest| rest.strip_suffix(" to 1 recipient\n"))
        .and_then(|id| id.parse().ok())
        .unwrap_or_else(|| panic!("unexpected send output: {out:?}"));

    let table = alice.run(&["list", "--unread"]).await.ok();
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 2, "header and one row: {table}");
    for column in ["ID", "TIME", "CATEGORY", "TITLE", "FROM"] {
        assert!(lines[0].contains(column), "{table}");
    }
    let row: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(row[0], "*", "unread marker first: {table}");
    assert_eq!(row[1], id.to_string());
    assert!(lines[1].contains("test-run"), "{table}");
    assert!(
        lines[1].contains("test plan #42 finished: 3 failed"),
        "{table}"
    );
    assert!(lines[1].trim_end().ends_with("bob"), "{table}");

    let items: Vec<Notification> =
        json_lines(&alice.run(&["list", "--unread", "--json"]).await.ok());
    assert_eq!(items.len(), 1);
    let n = &items[0];
    assert_eq!(
        (
            n.id,
            n.title.as_str(),
            n.content.as_str(),
            n.priority,
            n.read
        ),
        (
            id,
            "test plan #42 finished: 3 failed",
            "see the report",
            4,
            false
        )
    );
    assert_eq!(n.link.as_deref(), Some("https://ci.example.com/42"));
    assert_eq!(n.sender.as_deref(), Some("bob"));

    // Bob sent it; it is not in his inbox.
    assert_eq!(bob.run(&["list"]).await.ok(), "No notifications.\n");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn read_all_clears_the_counts_and_unread_brings_one_back() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let bob = server.user("bob").await;
    let first = bob.notify(&["alice"], "first").await;
    bob.notify(&["alice"], "second").await;

    let out = alice.run(&["counts"]).await.ok();
    assert_eq!(out, "Unread: 2 (personal 2, broadcast 0, chats 0)\n");

    assert_eq!(
        alice.run(&["read", "--all"]).await.ok(),
        "Marked 2 notifications read\n"
    );
    assert_eq!(
        alice.run(&["counts"]).await.ok(),
        "Unread: 0 (personal 0, broadcast 0, chats 0)\n"
    );
    assert_eq!(
        alice.run(&["list", "--unread"]).await.ok(),
        "No unread notifications.\n"
    );

    let out = alice.run(&["unread", &format!("#{first}")]).await.ok();
    assert_eq!(out, "Marked 1 notification unread\n");
    let unread: Vec<Notification> =
        json_lines(&alice.run(&["list", "--unread", "--json"]).await.ok());
    assert_eq!(unread.iter().map(|n| n.id).collect::<Vec<_>>(), [first]);

    assert_eq!(
        alice.run(&["delete", &first.to_string()]).await.ok(),
        format!("Deleted notification #{first}\n")
    );
    let err = alice
        .run(&["delete", &first.to_string()])
        .await
        .fails_with(4);
    assert_eq!(err, format!("herald: notification {first} not found\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn list_follows_pages_up_to_the_limit() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let bob = server.user("bob").await;
    // One more than the largest page, so a full list needs a second page.
    let total = herald_protocol::MAX_PAGE_LIMIT as usize + 5;
    let mut sends = tokio::task::JoinSet::new();
    for i in 0..total {
        let bob = bob.clone();
        sends.spawn(async move { bob.notify(&["alice"], &format!("n{i}")).await });
    }
    let mut ids: Vec<i64> = sends.join_all().await;
    ids.sort_unstable();

    let three: Vec<Notification> =
        json_lines(&alice.run(&["list", "--json", "--limit", "3"]).await.ok());
    let newest: Vec<i64> = ids.iter().rev().take(3).copied().collect();
    assert_eq!(three.iter().map(|n| n.id).collect::<Vec<_>>(), newest);

    let all: Vec<Notification> =
        json_lines(&alice.run(&["list", "--json", "--limit", "1000"]).await.ok());
    let mut listed: Vec<i64> = all.iter().map(|n| n.id).collect();
    listed.sort_unstable();
    assert_eq!(listed, ids);

    let table = alice.run(&["list"]).await.ok();
    assert_eq!(table.lines().count(), 1 + 50, "the default limit is 50");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_send_only_token_from_the_environment_can_send_but_not_read() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let bob = server.user("bob").await;

    let created = alice.run(&["token", "create", "jenkins"]).await;
    assert!(
        created.stderr.contains("send-only token \"jenkins\""),
        "{created:?}"
    );
    assert!(
        created.stderr.contains("export HERALD_SERVER="),
        "{created:?}"
    );
    assert!(created.stderr.contains("HERALD_TOKEN="), "{created:?}");
    let secret = created.ok().trim().to_string();
    assert!(
        !secret.is_empty() && !secret.contains(' '),
        "only the secret on stdout: {secret:?}"
    );

    let listed = alice.run(&["token", "list"]).await.ok();
    assert!(
        listed
            .lines()
            .any(|l| l.contains("send") && l.ends_with("jenkins")),
        "{listed}"
    );

    // A CI runner: no login, only the environment.
    let ci = Shell::new()
        .with_env("HERALD_TOKEN", &secret)
        .with_env("HERALD_SERVER", &server.url());
    let result: Vec<SendResult> = json_lines(
        &ci.run(&[
            "send",
            "--to",
            "bob",
            "--title",
            "nightly build green",
            "--json",
        ])
        .await
        .ok(),
    );
    assert_eq!(result[0].recipients, 1);
    assert!(result[0].id.is_some());
    assert_eq!(bob.counts().await.personal, 1);

    let err = ci.run(&["list"]).await.fails_with(3);
    assert!(err.contains("may only send notifications"), "{err}");

    let id = listed
        .lines()
        .find(|l| l.ends_with("jenkins"))
        .and_then(|l| l.split_whitespace().next())
        .expect("token id");
    assert_eq!(
        alice.run(&["token", "rm", id]).await.ok(),
        format!("Revoked token {id}\n")
    );
    let err = ci
        .run(&["send", "--to", "bob", "--title", "x"])
        .await
        .fails_with(3);
    assert!(err.contains("check HERALD_TOKEN"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_recipient_is_named_in_the_error_and_nothing_is_sent() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let bob = server.user("bob").await;

    let run = alice
        .run(&["send", "--to", "bob,nobody", "--title", "hello"])
        .await;
    assert_ne!(run.code, 0);
    let err = run.fails_with(1);
    assert!(err.contains("nobody"), "{err}");
    assert!(!err.contains("bob"), "only the unknown name: {err}");
    assert_eq!(bob.counts().await.unread_total, 0);

    let err = alice
        .run(&["send", "--to", "Not A Name", "--title", "hello"])
        .await
        .fails_with(2);
    assert!(err.contains("invalid username \"Not A Name\""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_json_prints_an_event_sent_after_it_starts_and_resumes_after_a_restart() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let bob = server.user("bob").await;

    let mut watch = Watch::start(&alice).await;
    assert!(watch.connected.contains("as alice"), "{}", watch.connected);
    let id = bob.notify(&["alice"], "deploy finished").await;
    let line = watch.next_event().await;
    assert_eq!(line["event"]["type"], "notification.created");
    assert_eq!(line["event"]["notification"]["id"], id);
    assert_eq!(line["event"]["notification"]["title"], "deploy finished");
    let cursor = line["cursor"].as_i64().expect("cursor");
    // The line is printed before the position is saved (a crash in between
    // repeats an event rather than losing one), so wait for the file.
    let cursor_file = alice.config_dir().join("watch-cursor");
    let saved = async {
        loop {
            let saved = std::fs::read_to_string(&cursor_file).unwrap_or_default();
            if saved.trim() == cursor.to_string() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(LINE_TIMEOUT, saved)
        .await
        .expect("the watch position is saved after the event");
    watch.stop().await;

    // While nobody watches, alice reads it elsewhere and gets a new one.
    alice.run(&["read", &id.to_string()]).await.ok();
    let missed = bob.notify(&["alice"], "missed while away").await;

    let mut watch = Watch::start(&alice).await;
    assert!(
        watch
            .connected
            .contains(&format!("resuming after event {cursor}")),
        "{}",
        watch.connected
    );
    let replayed = watch.next_event().await;
    assert_eq!(replayed["event"]["type"], "notification.read");
    assert_eq!(replayed["event"]["ids"], serde_json::json!([id]));
    let replayed = watch.next_event().await;
    assert_eq!(replayed["event"]["notification"]["id"], missed);
    assert!(replayed["cursor"].as_i64() > Some(cursor));
    watch.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unreachable_server_exits_5_with_a_readable_message() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    let shell = Shell::new();

    let err = shell
        .run_with_stdin(
            &[
                "login",
                "--server",
                &url,
                "--user",
                "alice",
                "--password-stdin",
            ],
            "pw\n",
        )
        .await
        .fails_with(5);
    assert!(
        err.starts_with(&format!("herald: cannot reach the server at {url}")),
        "{err}"
    );
    assert!(err.to_lowercase().contains("refused"), "{err}");

    let ci = Shell::new().with_env("HERALD_TOKEN", "whatever");
    let err = ci.run(&["--server", &url, "counts"]).await.fails_with(5);
    assert!(err.contains(&url), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_admin_adds_a_user_who_can_then_log_in_and_be_disabled() {
    let server = TestServer::spawn().await;
    let admin = logged_in(&server, "admin").await;

    let out = admin
        .run_with_stdin(
            &[
                "admin",
                "user",
                "add",
                "carol",
                "--password-stdin",
                "--display-name",
                "Carol Tester",
            ],
            "carol-secret\n",
        )
        .await
        .ok();
    assert!(out.starts_with("Created user carol (id "), "{out}");
    assert!(out.ends_with(", user)\n"), "{out}");

    let users = admin.run(&["admin", "user", "list"]).await.ok();
    let carol_row = users
        .lines()
        .find(|l| l.contains("carol"))
        .expect("carol listed");
    assert!(
        carol_row.contains("active") && carol_row.ends_with("Carol Tester"),
        "{users}"
    );

    let carol = Shell::new();
    let out = carol.login(&server, "carol", "carol-secret").await.ok();
    assert_eq!(out, format!("Logged in to {} as carol\n", server.url()));
    let out = carol.run(&["whoami"]).await.ok();
    assert_eq!(
        out,
        format!("carol (Carol Tester, user) on {}\n", server.url())
    );

    // Carol is no admin.
    let err = carol
        .run_with_stdin(
            &["admin", "user", "add", "dave", "--password-stdin"],
            "pw\n",
        )
        .await
        .fails_with(3);
    assert!(err.contains("permission denied"), "{err}");

    assert_eq!(
        admin.run(&["admin", "user", "disable", "carol"]).await.ok(),
        "Disabled user carol\n"
    );
    carol.run(&["counts"]).await.fails_with(3);
    assert_eq!(
        admin.run(&["admin", "user", "enable", "carol"]).await.ok(),
        "Enabled user carol\n"
    );
    carol.login(&server, "carol", "carol-secret").await.ok();
    carol.run(&["counts"]).await.ok();

    let err = admin
        .run(&["admin", "user", "disable", "caro"])
        .await
        .fails_with(4);
    assert!(err.contains("no user named \"caro\""), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logout_revokes_the_session_and_forgets_it() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let saved: Value = serde_json::from_slice(
        &std::fs::read(alice.config_dir().join("credentials.json")).unwrap(),
    )
    .unwrap();
    let token = saved["token"].as_str().unwrap().to_string();

    assert_eq!(
        alice.run(&["logout"]).await.ok(),
        format!("Logged out of {}\n", server.url())
    );
    assert!(!alice.config_dir().join("credentials.json").exists());
    alice.run(&["counts"]).await.fails_with(3);

    // The old token no longer works either.
    let stolen = Shell::new()
        .with_env("HERALD_TOKEN", &token)
        .with_env("HERALD_SERVER", &server.url());
    stolen.run(&["counts"]).await.fails_with(3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_saved_token_is_never_sent_to_another_server() {
    let server = TestServer::spawn().await;
    let alice = logged_in(&server, "alice").await;
    let err = alice
        .run(&["--server", "http://127.0.0.1:9", "counts"])
        .await
        .fails_with(2);
    assert!(
        err.contains(&format!("you are logged in to {}", server.url())),
        "{err}"
    );
}
