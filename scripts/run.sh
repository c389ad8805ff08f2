#!/usr/bin/env bash
# Builds Herald and runs it on this machine: the server on its embedded SQLite
# database, with an admin account ready to use, and — when there is a display —
# the desktop tray app logged in to it. Ctrl-C (or Quit in the tray) stops both.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
herald_setup

data_dir="${HERALD_DATA_DIR:-$PWD/.herald-data}"
listen="${HERALD_LISTEN:-127.0.0.1:8787}"
has_display=""
[[ -n "${DISPLAY:-}" || -n "${WAYLAND_DISPLAY:-}" ]] && has_display=1

if [[ -n "$has_display" ]]; then
  herald_build_ui
  echo "==> Building herald-server, the herald CLI and the desktop app (release)"
  cargo build --release --locked -p herald-server -p herald-client -p herald-desktop
else
  echo "==> Building herald-server and the herald CLI (release)"
  cargo build --release --locked -p herald-server -p herald-client
fi

echo "==> Starting herald-server on http://$listen (data in $data_dir)"
if [[ ! -s "$data_dir/herald.db" ]]; then
  echo "    First start: the admin password is saved to $data_dir/admin-password (and printed below on a terminal)"
fi
cat <<TXT
    Connect from another terminal:
      ./target/release/herald login --server http://$listen --user admin
      ./target/release/herald send --to admin --title "Hello from Herald" --desktop
      ./target/release/herald watch
TXT

if [[ -z "$has_display" ]]; then
  echo "    No display here (DISPLAY/WAYLAND_DISPLAY unset): running the server alone."
  echo "    On a desktop, run the tray app with: herald-desktop --server http://$listen"
  exec ./target/release/herald-server --data-dir "$data_dir" --listen "$listen"
fi

./target/release/herald-server --data-dir "$data_dir" --listen "$listen" &
server_pid=$!
trap 'kill "$server_pid" 2>/dev/null || true' EXIT
for _ in $(seq 100); do
  curl -fsS "http://$listen/healthz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { echo "error: herald-server did not start" >&2; exit 1; }
  sleep 0.1
done
if [[ -s "$data_dir/admin-password" ]]; then
  echo "==> Starting the Herald tray app, logged in as admin"
  HERALD_USERNAME=admin HERALD_PASSWORD="$(cat "$data_dir/admin-password")" \
    ./target/release/herald-desktop --server "http://$listen"
else
  echo "==> Starting the Herald tray app (no saved admin password: sign in in its window)"
  ./target/release/herald-desktop --server "http://$listen"
fi
