//! The machine's own services some suites need (PostgreSQL, Redis), and a clear
//! failure when one is not there, instead of a panic deep inside a client.

/// Which suites need what, for the messages below.
const NEEDS: &str = "the PostgreSQL store suite (crates/store/tests/conformance, `postgres` \
                     tests) and the cluster tests (crates/server/tests/cluster.rs) need \
                     PostgreSQL on 127.0.0.1:5432 with trust authentication and Redis on \
                     127.0.0.1:6379; scripts/test.sh installs and starts both";

/// Panics naming the suites that need `service` when `error` says it could not
/// be reached at `url`.
pub fn unreachable(service: &str, url: &str, error: impl std::fmt::Display) -> ! {
    panic!("{service} is not reachable at {url} ({error}): {NEEDS}")
}

/// `url` (`redis://host:port`) when something listens there; a clear panic if not.
pub fn redis(url: &str) -> &str {
    let address = url.trim_start_matches("redis://").trim_end_matches('/');
    if let Err(e) = std::net::TcpStream::connect(address) {
        unreachable("Redis", url, e);
    }
    url
}
