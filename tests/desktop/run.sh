#!/usr/bin/env bash
# End-to-end test of the real desktop app: Xvfb + a private D-Bus session, a tray
# host (trayer), a fake notification server, gnome-keyring, herald-server on a
# free port, and the app driven through tauri-driver (WebDriver).
# Needs: target/debug/{herald-desktop,herald-server} built, ui/dist built, and the
# Debian packages and tauri-driver that scripts/setup.sh and scripts/test.sh install.
# SCREENSHOTS=dir saves screenshots there (docs/screenshots when refreshing them);
# HERALD_E2E_KEEP=1 keeps the work directory (logs, recorded popups) for a look.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -c "import dbus_next, selenium" 2>/dev/null || python3 -m pip install -q --disable-pip-version-check -r tests/desktop/requirements.txt

work="$(mktemp -d)"
export HERALD_E2E_WORK="$work"
cleanup() {
  local file
  # One file at a time: `cat *.pid` would glue a pid written without a newline
  # to the next file's, and kill neither.
  for file in "$work"/*.pid; do
    [[ -e "$file" ]] && kill "$(<"$file")" 2>/dev/null || true
  done
  if [[ -n "${HERALD_E2E_KEEP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

display=":$((90 + RANDOM % 9))"
Xvfb "$display" -screen 0 1280x800x24 -nolisten tcp >"$work/xvfb.log" 2>&1 &
echo $! >"$work/xvfb.pid"
export DISPLAY="$display"
for _ in $(seq 50); do xdpyinfo >/dev/null 2>&1 && break; sleep 0.1; done

# Everything below shares one session bus, which ends with the command.
dbus-run-session -- bash -c '
  set -euo pipefail
  work="$HERALD_E2E_WORK"
  python3 tests/desktop/fake_notifications.py "$work/popups.jsonl" >"$work/fake.log" 2>&1 &
  echo $! >"$work/fake.pid"
  echo "" | gnome-keyring-daemon --unlock --components=secrets >"$work/keyring.log" 2>&1 || true
  trayer --edge top --align right --widthtype request --height 28 --transparent true --tint 0x1e1b4b --alpha 0 >"$work/trayer.log" 2>&1 &
  echo $! >"$work/trayer.pid"
  for _ in $(seq 50); do grep -q ready "$work/fake.log" 2>/dev/null && break; sleep 0.1; done
  python3 tests/desktop/test_desktop.py
'
