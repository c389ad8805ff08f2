//! The `herald` binary never passes control sequences from the server to the
//! terminal: text stored before the server refused it (written here straight
//! into the store) is printed with visible escapes, in tables, text, JSON and
//! the live feed.

use std::process::Stdio;
use std::time::Duration;

use herald_protocol::text::is_forbidden;
use herald_store::{Audience, MessageTarget, NewMessage, NewNotification, UserChanges};
use herald_testkit::{TestServer, TestUser};
use tokio::io::{AsyncBufReadExt, BufReader};

mod herald_cli;
use herald_cli::herald;

/// An OSC 52 clipboard write, a screen clear, a carriage return that rewrites
/// the line, a one-byte CSI and a right-to-left override.
const TITLE: &str = "plan #42 \u{1b}]52;c;ZWNobyBoaQ==\u{7} done\u{1b}[2J";
const CONTENT: &str = "3 failed\r\u{1b}[1Aall green \u{9b}2J";
const MESSAGE: &str = "see \u{1b}[8mhidden\u{202e}txt.exe";

/// Runs `herald` as `user` and returns (stdout, stderr), asserting success.
async fn herald_ok(server: &TestServer, user: &TestUser, args: &[&str]) -> (String, String) {
    let run = herald(server, user, args).await;
    assert_eq!(run.code, 0, "herald {args:?}: {run:?}");
    (run.stdout, run.stderr)
}

/// The next line of a running command's output, within a failure bound.
async fn next<R: tokio::io::AsyncRead + Unpin>(
    lines: &mut tokio::io::Lines<BufReader<R>>,
    what: &str,
) -> String {
    tokio::time::timeout(Duration::from_secs(15), lines.next_line())
        .await
        .unwrap_or_else(|_| panic!("no {what} in time"))
        .expect("read")
        .unwrap_or_else(|| panic!("{what}: the stream ended"))
}

/// Fails when `output` holds anything a terminal would obey.
fn assert_clean(what: &str, output: &str) {
    let raw: Vec<char> = output
        .chars()
        .filter(|&c| is_forbidden(c) && c != '\n')
        .collect();
    assert!(raw.is_empty(), "{what} printed {raw:?} raw:\n{output}");
}

/// Stores what today's server would refuse: a notification from Alice to Bob,
/// a message from Alice, and a display name with an escape.
async fn store_hostile_text(server: &TestServer, alice: &TestUser) {
    let store = server.store();
    store
        .insert_notification(NewNotification {
            audience: Audience::Users(vec!["bob".into()]),
            category: Some("\u{1b}[31mred".into()),
            title: TITLE.into(),
            content: CONTENT.into(),
            link: Some("https://ci.example.com/\u{1b}]8;;x".into()),
            priority: 4,
            desktop: false,
            sender: Some((alice.id, "alice".into())),
        })
        .await
        .expect("stored");
    store
        .send_message(NewMessage {
            sender: alice.id,
            target: MessageTarget::User("bob".into()),
            content: MESSAGE.into(),
            client_id: "hostile-1".into(),
        })
        .await
        .expect("sent");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stored_control_sequences_are_printed_as_visible_escapes() {
    let server = TestServer::spawn().await;
    let admin = server.admin().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    bob.add_contact("alice").await;
    let changes = UserChanges {
        display_name: Some("Alice\u{1b}[8m".into()),
        ..UserChanges::default()
    };
    server
        .store()
        .update_user(alice.id, changes)
        .await
        .expect("renamed");
    store_hostile_text(&server, &alice).await;

    let (list, _) = herald_ok(&server, &bob, &["list"]).await;
    assert_clean("list", &list);
    assert!(list.contains(r"\u{1b}]52;c;"), "{list}");

    let (json, _) = herald_ok(&server, &bob, &["list", "--json"]).await;
    assert_clean("list --json", &json);
    let listed: herald_protocol::Notification =
        serde_json::from_str(json.trim()).expect("one notification as JSON");
    assert_eq!(listed.title, TITLE, "JSON still carries the exact text");
    assert_eq!(listed.content, CONTENT);

    for args in [
        &["chat", "history", "alice"][..],
        &["chat", "history", "alice", "--json"],
        &["chat", "ls"],
        &["contacts", "ls"],
    ] {
        let (out, err) = herald_ok(&server, &bob, args).await;
        assert_clean(&format!("{args:?}"), &out);
        assert_clean(&format!("{args:?} on stderr"), &err);
    }
    let (history, _) = herald_ok(&server, &bob, &["chat", "history", "alice"]).await;
    assert!(
        history.contains(r"see \u{1b}[8mhidden\u{202e}txt.exe"),
        "{history}"
    );

    let (users, _) = herald_ok(&server, &admin, &["admin", "user", "list"]).await;
    assert_clean("admin user list", &users);
    assert!(users.contains(r"Alice\u{1b}[8m"), "{users}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_live_feed_prints_hostile_events_escaped() {
    let server = TestServer::spawn().await;
    let alice = server.user("alice").await;
    let bob = server.user("bob").await;
    let config = tempfile::tempdir().expect("temp config dir");
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .arg("watch")
        .env("HERALD_CONFIG_DIR", config.path())
        .env("HERALD_SERVER", server.url())
        .env("HERALD_TOKEN", &bob.token)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("spawn herald watch");
    let mut stdout = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut stderr = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let connected = next(&mut stderr, "connected notice").await;
    assert!(connected.starts_with("Connected"), "{connected}");

    store_hostile_text(&server, &alice).await;
    let notification = next(&mut stdout, "the notification").await;
    assert_clean("watch", &notification);
    assert!(notification.contains(r"\u{1b}]52;c;"), "{notification}");
    let message = next(&mut stdout, "the message").await;
    assert_clean("watch", &message);
    assert!(message.contains(r"\u{202e}"), "{message}");
    child.kill().await.expect("stop herald watch");
}
