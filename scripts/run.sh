#!/usr/bin/env bash
# Builds Herald and runs it on this machine: the server on its embedded SQLite
# database, with an admin account ready to use. Ctrl-C stops it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
herald_setup

data_dir="${HERALD_DATA_DIR:-$PWD/.herald-data}"
listen="${HERALD_LISTEN:-127.0.0.1:8787}"

echo "==> Building herald-server and the herald CLI (release)"
cargo build --release --locked -p herald-server -p herald-client

echo "==> Starting herald-server on http://$listen (data in $data_dir)"
if [[ ! -s "$data_dir/herald.db" ]]; then
  echo "    First start: the admin password is printed below and saved to $data_dir/admin-password"
fi
cat <<TXT
    Connect from another terminal:
      ./target/release/herald login --server http://$listen --user admin
      ./target/release/herald send --to admin --title "Hello from Herald" --desktop
      ./target/release/herald watch
TXT
exec ./target/release/herald-server --data-dir "$data_dir" --listen "$listen"
