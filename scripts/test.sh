#!/usr/bin/env bash
# Herald's whole test suite: formatting, lints, then every test (unit, integration
# over real sockets, the kill -9 crash test, the store suite on SQLite and
# PostgreSQL, a three-node cluster on PostgreSQL + Redis, the CLI against a real
# server), a schema fuzz run against the OpenAPI document (schemathesis), the
# desktop UI's unit tests, the desktop app end to end under Xvfb + D-Bus, and the
# Debian packages (built from the same debug binaries, installed, upgraded, purged).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
herald_setup
# The desktop crate embeds ui/dist, so the UI is built before any cargo command.
herald_build_ui
echo "==> UI unit tests (vitest)"
npm --prefix ui test --silent

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test (PostgreSQL and Redis on 127.0.0.1)"
herald_test_services
cargo test --workspace --locked

echo "==> OpenAPI conformance (schemathesis against the debug herald-server)"
# Reuses target/debug/herald-server, which cargo test just built.
tests/schema/run.sh

echo "==> Desktop app end to end (Xvfb, D-Bus, tauri-driver)"
if ! command -v tauri-driver >/dev/null && [[ ! -x "$HOME/.cargo/bin/tauri-driver" ]]; then
  echo "    installing tauri-driver"
  cargo install tauri-driver --version '^2' --locked --quiet
fi
# With the CLI too, in one invocation: the packages below reuse this very build.
cargo build --locked -p herald-desktop -p herald-server -p herald-client
tests/desktop/run.sh

echo "==> Debian packages: lintian, install, smoke test, upgrade, purge"
tests/packages/run.sh
