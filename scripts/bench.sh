#!/usr/bin/env bash
# Herald's benchmark suite (targets T1–T12 of PERFORMANCE.md): builds release
# binaries, installs the peer servers from npm and PyPI, runs every scenario
# against Herald and the peers, and writes bench/results/<date>.json and .md.
# About 15 minutes on a 2-core machine; `--hold 60` shortens T1's 10-minute hold.
# Extra arguments go to herald-bench (see `target/release/herald-bench --help`).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
herald_setup

echo "==> Building herald-server and herald-bench (release)"
cargo build --release --locked -p herald-server -p herald-bench

smoke=false
for arg in "$@"; do [[ "$arg" == "--smoke" || "$arg" == "--no-peers" ]] && smoke=true; done
if ! $smoke; then
  echo "==> Installing peers (npm: ws; pip: fastapi, uvicorn)"
  command -v node >/dev/null || { echo "error: node and npm are needed for the Node.js peer" >&2; exit 1; }
  (cd bench/peers/node && npm ci --no-audit --no-fund --silent)
  if [[ ! -x bench/peers/python/.venv/bin/python ]]; then
    python3 -m venv bench/peers/python/.venv
  fi
  bench/peers/python/.venv/bin/pip install --quiet --disable-pip-version-check -r bench/peers/python/requirements.txt
fi

# 19,000 connections need ~19,100 descriptors in each process.
ulimit -n 20000 2>/dev/null || true
echo "==> Running (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
exec ./target/release/herald-bench "$@"
