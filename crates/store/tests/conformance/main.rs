//! One behaviour, two backends: every test here runs against SQLite and against
//! PostgreSQL (each test on a fresh database), so the backends cannot drift.
//! PostgreSQL tests need a server: `HERALD_TEST_POSTGRES` names an admin URL
//! (default `postgres://postgres@127.0.0.1:5432/postgres`).

// Test helpers outside #[test] functions unwrap too (clippy.toml allows it
// only inside them).
#![allow(clippy::unwrap_used)]

/// Expands each named `async fn(Fixture)` into a module holding a `sqlite` and a
/// `postgres` test, e.g. `users::duplicate_username_is_a_conflict::postgres`.
macro_rules! on_both_backends {
    ($($test:ident),* $(,)?) => {
        $(
            mod $test {
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn sqlite() {
                    super::$test($crate::harness::Fixture::sqlite().await).await
                }

                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn postgres() {
                    super::$test($crate::harness::Fixture::postgres().await).await
                }
            }
        )*
    };
}

mod chat;
mod commit_order;
mod contacts;
mod events;
mod harness;
mod notifications;
mod retention;
mod rooms;
mod users;
