#!/usr/bin/env bash
# Installs what building and testing Herald needs on Debian 12 (run as root).
# Idempotent and quick when everything is already there; sourced by run.sh and test.sh.
set -euo pipefail

herald_debian_packages=(
  build-essential pkg-config ca-certificates curl python3 python3-pip
  # Desktop app (src-tauri): WebKitGTK, tray, notifications, keyring.
  libwebkit2gtk-4.1-dev libayatana-appindicator3-dev librsvg2-dev libxdo-dev
  libssl-dev libdbus-1-dev
  # Headless end-to-end test of the desktop app (tests/desktop).
  webkit2gtk-driver xvfb xauth imagemagick x11-utils xdotool trayer
  dbus dbus-x11 gnome-keyring libsecret-tools
)

herald_setup() {
  local missing=()
  for pkg in "${herald_debian_packages[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if ((${#missing[@]})); then
    echo "==> Installing Debian packages: ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
  if ! command -v cargo >/dev/null; then
    echo "error: cargo is not installed; install Rust stable (https://rustup.rs) first" >&2
    exit 1
  fi
}

# The PostgreSQL and Redis the store conformance suite and the cluster tests use
# (127.0.0.1:5432 with trust authentication, 127.0.0.1:6379). Started when they
# are installed but stopped; installed and configured on a bare machine.
herald_test_services() {
  if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
    if ! command -v pg_ctlcluster >/dev/null; then
      echo "==> Installing PostgreSQL"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql
      local hba
      hba=$(ls /etc/postgresql/*/main/pg_hba.conf | head -1)
      sed -i '1i host all all 127.0.0.1/32 trust' "$hba"
    fi
    echo "==> Starting PostgreSQL"
    pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
    for _ in $(seq 50); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.2; done
  fi
  if ! (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null; then
    if ! command -v redis-server >/dev/null; then
      echo "==> Installing Redis"
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server
    fi
    echo "==> Starting Redis"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
      --dir /tmp --logfile /tmp/herald-test-redis.log
    for _ in $(seq 50); do (exec 3<>/dev/tcp/127.0.0.1/6379) 2>/dev/null && break; sleep 0.2; done
  fi
}

# Builds the desktop app's UI into ui/dist, which the herald-desktop crate embeds
# (it does not compile without it). Quick when node_modules is already current.
herald_build_ui() {
  if ! command -v npm >/dev/null; then
    echo "error: npm is not installed; install Node.js 20.19+ with npm first" >&2
    exit 1
  fi
  if [[ ! -d ui/node_modules ]] || [[ ui/package-lock.json -nt ui/node_modules/.package-lock.json ]]; then
    echo "==> Installing the UI's npm packages (npm ci)"
    npm --prefix ui ci --no-audit --no-fund --loglevel=error
  fi
  echo "==> Building the UI (tsc + vite)"
  npm --prefix ui run --silent build
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  herald_setup
fi
