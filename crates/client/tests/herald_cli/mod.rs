//! Running the `herald` binary as a user of a test server, for the tests that
//! need the `cli` feature.

#![allow(dead_code)] // each test file uses its own subset

use std::time::Duration;

use herald_testkit::{TestServer, TestUser};

/// What a finished command printed, and how it exited.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// Asserts success and returns stdout.
    pub fn ok(self) -> String {
        assert_eq!(self.code, 0, "command failed: {self:?}");
        self.stdout
    }
}

/// Runs `herald` as `user` (token from the environment, no saved login).
pub async fn herald(server: &TestServer, user: &TestUser, args: &[&str]) -> Run {
    let config = tempfile::tempdir().expect("temp config dir");
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_herald"))
        .args(args)
        .env("HERALD_CONFIG_DIR", config.path())
        .env("HERALD_SERVER", server.url())
        .env("HERALD_TOKEN", &user.token)
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(60), output)
        .await
        .expect("herald finishes within a minute")
        .expect("herald runs");
    Run {
        code: output.status.code().unwrap_or(-1),
        stdout: String::from_utf8(output.stdout).expect("utf-8 stdout"),
        stderr: String::from_utf8(output.stderr).expect("utf-8 stderr"),
    }
}
