//! The front door over raw sockets: idle connections, half-sent heads and
//! trickled bodies time out; past `max_connections` a new socket gets a `503`
//! instead of breaking the server; long-polls are not cut; and a shutdown
//! neither waits on a half-sent head nor loses an acknowledged write.

use std::path::Path;
use std::time::Duration;

use herald_server::Config;
use herald_testkit::process::ServerProcess;
use herald_testkit::{TestServer, TestUser};
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// How long anything the tests wait for may take on a loaded machine.
const BOUND: Duration = Duration::from_secs(20);

/// A server whose HTTP timeouts are a second or two.
async fn server(tweak: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::spawn_with(|config| {
        config.header_read_timeout_s = 1;
        config.keep_alive_timeout_s = 2;
        config.request_body_timeout_s = 1;
        tweak(config);
    })
    .await
}

/// Reads until the server closes the socket, which must happen within
/// [`BOUND`]; returns what it sent.
async fn read_until_closed(stream: &mut TcpStream) -> String {
    let mut received = Vec::new();
    let read = tokio::time::timeout(BOUND, async {
        let mut chunk = [0u8; 4096];
        loop {
            match stream.read(&mut chunk).await {
                Ok(0) | Err(_) => return,
                Ok(n) => received.extend_from_slice(&chunk[..n]),
            }
        }
    });
    read.await.expect("the server closed the connection");
    String::from_utf8_lossy(&received).into_owned()
}

/// The start of a send whose body promises 100 bytes and brings a few.
fn unfinished_send(token: &str) -> String {
    format!(
        "POST /api/v1/notifications HTTP/1.1\r\nhost: herald\r\nauthorization: Bearer {token}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"to\":"
    )
}

#[tokio::test]
async fn a_connection_that_sends_nothing_is_closed_after_the_header_timeout() {
    let server = server(|_| {}).await;
    let mut idle = TcpStream::connect(server.addr).await.unwrap();
    assert_eq!(read_until_closed(&mut idle).await, "");
}

#[tokio::test]
async fn a_half_sent_request_head_is_closed_after_the_header_timeout() {
    let server = server(|_| {}).await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: herald\r\n")
        .await
        .unwrap();
    assert_eq!(read_until_closed(&mut slow).await, "");
}

#[tokio::test]
async fn an_idle_keep_alive_connection_is_closed_after_its_answer() {
    let server = server(|_| {}).await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client
        .write_all(b"GET /healthz HTTP/1.1\r\nhost: herald\r\n\r\n")
        .await
        .unwrap();
    let received = read_until_closed(&mut client).await;
    assert!(received.starts_with("HTTP/1.1 200"), "{received}");
}

#[tokio::test]
async fn a_trickled_body_gets_408_when_its_deadline_passes() {
    let server = server(|_| {}).await;
    let admin = server.admin().await;
    let mut client = TcpStream::connect(server.addr).await.unwrap();
    client
        .write_all(unfinished_send(&admin.token).as_bytes())
        .await
        .unwrap();
    let received = read_until_closed(&mut client).await;
    assert!(received.starts_with("HTTP/1.1 408"), "{received}");
    assert!(received.contains("request_timeout"), "{received}");
}

#[tokio::test]
async fn a_long_poll_outlives_the_connection_timeouts() {
    let server = server(|_| {}).await;
    let alice = server.user("alice").await;
    // Longer than both the header and the keep-alive timeout.
    let page = alice.get("/api/v1/events?wait=4").await;
    assert_eq!(page.status, 200, "{}", page.body);
    assert_eq!(page.body["events"], json!([]));
}

#[tokio::test]
async fn sockets_past_max_connections_get_503_and_the_server_recovers() {
    let server = server(|config| {
        config.max_connections = Some(3);
        config.header_read_timeout_s = 60;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(server.addr).await.unwrap());
    }
    let mut refused = TcpStream::connect(server.addr).await.unwrap();
    let answer = read_until_closed(&mut refused).await;
    assert!(answer.starts_with("HTTP/1.1 503"), "{answer}");
    assert!(answer.contains("too_many_connections"), "{answer}");
    assert!(answer.to_lowercase().contains("retry-after: 1"), "{answer}");

    drop(held);
    let health = tokio::time::timeout(BOUND, async {
        loop {
            let fresh = reqwest::Client::new();
            if let Ok(r) = fresh.get(format!("{}/healthz", server.url())).send().await {
                if r.status() == 200 {
                    return;
                }
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    });
    health
        .await
        .expect("healthz answers once the sockets are gone");
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_half_sent_head() {
    // A long drain deadline: only closing idle connections at once ends this
    // shutdown within the bound.
    let mut server = server(|config| {
        config.header_read_timeout_s = 120;
        config.shutdown_timeout_s = 120;
    })
    .await;
    let mut slow = TcpStream::connect(server.addr).await.unwrap();
    slow.write_all(b"GET /healthz HTTP/1.1\r\nhost: her")
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(BOUND, server.shutdown())
        .await
        .expect("shutdown finished");
}

#[tokio::test]
async fn shutdown_closes_a_request_still_in_flight_at_its_deadline() {
    let mut server = server(|config| {
        config.request_body_timeout_s = 120;
        config.shutdown_timeout_s = 1;
    })
    .await;
    let admin = server.admin().await;
    // A body that never finishes keeps its request in flight.
    let mut stuck = TcpStream::connect(server.addr).await.unwrap();
    stuck
        .write_all(unfinished_send(&admin.token).as_bytes())
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(100)).await;
    tokio::time::timeout(BOUND, server.shutdown())
        .await
        .expect("shutdown finished at its deadline");
    read_until_closed(&mut stuck).await;
}

/// Starts the real binary on `data_dir`.
async fn start(data_dir: &Path) -> ServerProcess {
    let binary = Path::new(env!("CARGO_BIN_EXE_herald-server"));
    let args = ["--data-dir".to_owned(), data_dir.display().to_string()];
    let envs = [("HERALD_ADMIN_PASSWORD", "sigterm-admin-password")];
    ServerProcess::start(binary, &args, &envs, data_dir.with_extension("log")).await
}

#[tokio::test]
async fn sigterm_with_a_half_sent_head_exits_0_and_keeps_every_acknowledged_write() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut server = start(&data_dir).await;
    let admin = TestUser::login_at(&server.url, "admin", "sigterm-admin-password", "t").await;
    let sent = admin
        .post(
            "/api/v1/notifications",
            json!({"to": ["admin"], "title": "kept"}),
        )
        .await;
    assert_eq!(sent.status, 201, "{}", sent.body);
    let address = server.url.trim_start_matches("http://");
    let mut slow = TcpStream::connect(address).await.unwrap();
    slow.write_all(b"POST /api/v1/auth/login HTTP/1.1\r\nhost: her")
        .await
        .unwrap();

    let status = server.terminate().await;
    assert!(status.success(), "exit {status}:\n{}", server.log_text());
    drop(slow);

    let server = start(&data_dir).await;
    let admin = TestUser::login_at(&server.url, "admin", "sigterm-admin-password", "t").await;
    let id = sent.body["id"].as_i64().expect("id");
    assert!(admin.ids("status=all").await.contains(&id));
}
