//! Logins under attack: password checks run on a small bounded pool, failures
//! back off per client address and per username, and none of it slows the
//! real user. The server trusts 127.0.0.1 as its reverse proxy here, so each
//! test picks client addresses with `X-Forwarded-For`.

use futures_util::future::join_all;
use herald_server::Config;
use herald_testkit::{password_of, TestServer};
use serde_json::json;

const ATTACKER: &str = "203.0.113.66";
const ANOTHER_ATTACKER: &str = "203.0.113.67";
const ALICE_AT_HOME: &str = "198.51.100.7";

/// A server behind a proxy on 127.0.0.1, with two hashing threads and the
/// backoff tuned by `tweak`.
async fn server(tweak: impl FnOnce(&mut Config)) -> TestServer {
    TestServer::spawn_with(|config| {
        config.trusted_proxies = vec!["127.0.0.1".parse().expect("proxy")];
        config.hash_threads = Some(2);
        config.login_free_failures = 5;
        // Long enough that no wait runs out while a test looks.
        config.login_backoff_ms = 60_000;
        config.login_lockout_max_s = 600;
        tweak(config);
    })
    .await
}

/// What a login answered.
#[derive(Debug)]
struct Answer {
    status: u16,
    code: String,
    retry_after: Option<u64>,
}

async fn login_from(
    http: &reqwest::Client,
    server: &TestServer,
    client: &str,
    username: &str,
    password: &str,
) -> Answer {
    let response = http
        .post(format!("{}/api/v1/auth/login", server.url()))
        .header("x-forwarded-for", client)
        .json(&json!({"username": username, "password": password}))
        .send()
        .await
        .expect("login reaches the server");
    let status = response.status().as_u16();
    let retry_after = response
        .headers()
        .get("retry-after")
        .and_then(|v| v.to_str().ok()?.parse().ok());
    let body: serde_json::Value = response.json().await.unwrap_or_default();
    Answer {
        status,
        code: body["error"]["code"].as_str().unwrap_or("").to_owned(),
        retry_after,
    }
}

fn assert_rate_limited(answer: &Answer) {
    assert_eq!(
        (answer.status, answer.code.as_str()),
        (429, "rate_limited"),
        "{answer:?}"
    );
    assert!(answer.retry_after.is_some_and(|s| s >= 1), "{answer:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_login_flood_is_refused_at_once_while_another_users_correct_login_succeeds() {
    let server = server(|_| {}).await;
    server.user("alice").await;
    let http = reqwest::Client::new();
    let flood = join_all(
        (0..200).map(|_| login_from(&http, &server, ATTACKER, "admin", "not-the-password")),
    );
    let password = password_of("alice");
    let alice = login_from(&http, &server, ALICE_AT_HOME, "alice", &password);
    let (answers, alice) = tokio::join!(flood, alice);

    assert_eq!(alice.status, 200, "{alice:?}");
    let hashed = answers.iter().filter(|a| a.status == 401).count();
    let refused: Vec<_> = answers.iter().filter(|a| a.status == 429).collect();
    assert_eq!(hashed + refused.len(), 200, "{answers:?}");
    // Only the address's free tries were worth a hash; the rest were refused
    // before one, without queueing.
    assert!(hashed <= 5, "{hashed} wrong passwords were hashed");
    refused.iter().for_each(|a| assert_rate_limited(a));

    // Every refusal was the backoff's or the busy pool's, and no thread is
    // left claimed.
    let metrics = server.anonymous().get("/metrics").await.body;
    let metrics = metrics.as_str().expect("metrics text");
    let counter = |name: &str| {
        metrics
            .lines()
            .find_map(|line| line.strip_prefix(name)?.trim().parse::<f64>().ok())
            .unwrap_or(0.0) as usize
    };
    let throttled = counter(r#"herald_login_throttled_total{reason="address"} "#);
    let saturated = counter("herald_password_hash_saturated_total ");
    assert_eq!(throttled + saturated, refused.len(), "{metrics}");
    assert_eq!(counter("herald_password_hash_busy "), 0, "{metrics}");
}

#[tokio::test]
async fn failed_logins_back_off_per_address_and_the_wait_lets_the_next_try_in() {
    let server = server(|config| {
        config.login_free_failures = 2;
        config.login_backoff_ms = 1000;
        config.login_lockout_max_s = 60;
    })
    .await;
    server.user("alice").await;
    let http = reqwest::Client::new();
    for _ in 0..2 {
        let answer = login_from(&http, &server, ATTACKER, "alice", "wrong-password").await;
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    // Throttled: not even the right password is checked from this address...
    let refused = login_from(&http, &server, ATTACKER, "alice", &password_of("alice")).await;
    assert_rate_limited(&refused);
    // ...while another address is not slowed at all.
    let admin = login_from(
        &http,
        &server,
        ALICE_AT_HOME,
        "admin",
        server.admin_password(),
    )
    .await;
    assert_eq!(admin.status, 200, "{admin:?}");

    let wait = refused.retry_after.expect("retry-after");
    tokio::time::sleep(std::time::Duration::from_millis(wait * 1000 + 100)).await;
    let after = login_from(&http, &server, ATTACKER, "alice", &password_of("alice")).await;
    assert_eq!(after.status, 200, "{after:?}");
}

#[tokio::test]
async fn a_username_under_attack_still_lets_its_owner_in_and_recovers() {
    let server = server(|config| config.login_free_failures = 2).await;
    server.user("alice").await;
    let http = reqwest::Client::new();
    for attacker in [ATTACKER, ANOTHER_ATTACKER] {
        let answer = login_from(&http, &server, attacker, "alice", "wrong-password").await;
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    // Alice's username has used its free failures: an address that has been
    // guessing waits, though its own budget is not used up.
    let guess = login_from(&http, &server, ATTACKER, "alice", "another-guess").await;
    assert_rate_limited(&guess);
    // Alice, from a machine that has not failed, gets in.
    let alice = login_from(
        &http,
        &server,
        ALICE_AT_HOME,
        "alice",
        &password_of("alice"),
    )
    .await;
    assert_eq!(alice.status, 200, "{alice:?}");
    // Her success cleared the username: the guesser is back to its own budget.
    let guess = login_from(&http, &server, ATTACKER, "alice", "third-guess").await;
    assert_eq!(guess.status, 401, "{guess:?}");
    let guess = login_from(&http, &server, ATTACKER, "alice", "fourth-guess").await;
    assert_rate_limited(&guess);
}

#[tokio::test]
async fn forwarded_headers_from_a_peer_that_is_no_proxy_do_not_pick_the_address() {
    let server = server(|config| {
        config.trusted_proxies.clear();
        config.login_free_failures = 2;
    })
    .await;
    let http = reqwest::Client::new();
    for fake in ["192.0.2.1", "192.0.2.2"] {
        let answer = login_from(&http, &server, fake, "admin", "wrong-password").await;
        assert_eq!(answer.status, 401, "{answer:?}");
    }
    // A third made-up address is still 127.0.0.1 to the server.
    let answer = login_from(&http, &server, "192.0.2.3", "bob", "wrong-password").await;
    assert_rate_limited(&answer);
}
