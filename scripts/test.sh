#!/usr/bin/env bash
# Herald's whole test suite: formatting, lints, then every test (unit, integration
# over real sockets, the kill -9 crash test, the CLI against a real server).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
herald_setup

echo "==> cargo fmt --check"
cargo fmt --all -- --check
echo "==> cargo clippy (warnings are errors)"
cargo clippy --workspace --all-targets --locked -- -D warnings
echo "==> cargo test"
cargo test --workspace --locked
