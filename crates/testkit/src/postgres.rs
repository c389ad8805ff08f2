//! A fresh PostgreSQL database per test, dropped when the test ends.

use std::sync::atomic::{AtomicU32, Ordering};

/// Where tests create their databases: `HERALD_TEST_POSTGRES`, or the local
/// server with trust authentication.
fn admin_url() -> String {
    std::env::var("HERALD_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub struct TestDatabase {
    /// The URL of the new database, for `database_url`.
    pub url: String,
    name: String,
    admin_url: String,
}

impl TestDatabase {
    /// In the server named by `HERALD_TEST_POSTGRES` (default: local, trust).
    pub async fn create() -> Self {
        Self::create_at(&admin_url()).await
    }

    /// In the server whose `postgres` database `admin_url` names.
    pub async fn create_at(admin_url: &str) -> Self {
        static NEXT: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "herald_test_{}_{}_{:08x}",
            std::process::id(),
            NEXT.fetch_add(1, Ordering::Relaxed),
            rand::random::<u32>()
        );
        run(admin_url, &format!("CREATE DATABASE {name}")).await;
        Self {
            url: with_database(admin_url, &name),
            name,
            admin_url: admin_url.to_owned(),
        }
    }

    /// A plain connection to the database, for what no API of Herald's does.
    pub async fn connect(&self) -> tokio_postgres::Client {
        let (client, connection) = tokio_postgres::connect(&self.url, tokio_postgres::NoTls)
            .await
            .unwrap_or_else(|e| panic!("connecting to {}: {e}", self.url));
        tokio::spawn(connection);
        client
    }
}

/// `url` with its database replaced by `name` (user, host, port and query kept).
fn with_database(url: &str, name: &str) -> String {
    let authority = url.find("://").map_or(0, |i| i + 3);
    let path = url[authority..].find('/').map(|i| authority + i);
    let query = url.find('?');
    let base = &url[..path.or(query).unwrap_or(url.len())];
    let query = query.map_or("", |q| &url[q..]);
    format!("{base}/{name}{query}")
}

impl Drop for TestDatabase {
    /// Also on a panicking test, from a thread of its own since the test's
    /// runtime may be gone.
    fn drop(&mut self) {
        let sql = format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name);
        let admin_url = self.admin_url.clone();
        let dropped = std::thread::spawn(move || {
            tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("a runtime to drop the database")
                .block_on(run(&admin_url, &sql));
        })
        .join();
        if dropped.is_err() {
            eprintln!("could not drop test database {}", self.name);
        }
    }
}

/// Runs one statement as the admin user.
async fn run(url: &str, sql: &str) {
    let (client, connection) = tokio_postgres::connect(url, tokio_postgres::NoTls)
        .await
        .unwrap_or_else(|e| {
            crate::services::unreachable("PostgreSQL (HERALD_TEST_POSTGRES)", url, e)
        });
    let task = tokio::spawn(connection);
    client
        .batch_execute(sql)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"));
    drop(client);
    let _ = task.await;
}
