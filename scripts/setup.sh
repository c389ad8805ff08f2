#!/usr/bin/env bash
# Installs what building and testing Herald needs on Debian 12 (run as root).
# Idempotent and quick when everything is already there; sourced by run.sh and test.sh.
set -euo pipefail

herald_debian_packages=(build-essential pkg-config ca-certificates curl python3)

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

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then
  herald_setup
fi
