#!/usr/bin/env bash
# End-to-end test of the Debian packages, as root on Debian 12: builds both from
# the debug binaries (scripts/package.sh --profile dev, lintian errors fail),
# installs them with apt-get, starts the server from its installed unit, sends and
# lists a notification with the installed CLI, starts the installed desktop app
# under Xvfb logged in, upgrades to a newer build (data and the edited conffile
# kept), removes the server (data kept), starts the desktop app's own server
# (--local-server), then purges both and checks nothing is left behind.
# Refuses to run where herald-server, herald-desktop or a `herald` user already is.
# Where systemd runs, the unit is driven with systemctl; elsewhere (containers,
# CI) its ExecStart line runs as the `herald` user.
# HERALD_PACKAGES_KEEP=1 keeps the work directory (logs, screenshots, packages);
# the desktop sessions log to session.log there.
set -euo pipefail
cd "$(dirname "$0")/../.."

passed=0
ok() { passed=$((passed + 1)); echo "ok   $*"; }
fail() {
  echo "FAIL $*" >&2
  echo "$passed passed, 1 failed"
  exit 1
}
check() { # description, command...
  local what="$1"
  shift
  if "$@"; then ok "$what"; else fail "$what"; fi
}
# `until_true SECONDS command...`: polls the command every 0.2 s.
until_true() {
  local deadline=$((SECONDS + $1))
  shift
  until "$@"; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}
# `is "$(command)" expected`, for checks of one value.
is() { [[ "$1" == "$2" ]] || { echo "    got: $1, expected: $2" >&2; return 1; }; }

for package in herald-server herald-desktop; do
  if dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qv '^not-installed$'; then
    echo "tests/packages: $package is installed here; this test installs and purges it. Remove it first." >&2
    exit 1
  fi
done
if getent passwd herald >/dev/null; then
  echo "tests/packages: a user herald exists; this test creates and deletes it. Remove it first." >&2
  exit 1
fi

work="$(mktemp -d)"
# apt's _apt user reads the .deb files from here.
chmod 0711 "$work"
installed=0
cleanup() {
  local file
  for file in "$work"/*.pid; do
    [[ -e "$file" ]] && kill "$(<"$file")" 2>/dev/null || true
  done
  if ((installed)); then
    DEBIAN_FRONTEND=noninteractive apt-get purge -y -qq herald-server herald-desktop >/dev/null 2>&1 || true
  fi
  if [[ -n "${HERALD_PACKAGES_KEEP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

export DEBIAN_FRONTEND=noninteractive
unit=/usr/lib/systemd/system/herald-server.service
config=/etc/herald/herald.toml
data=/var/lib/herald
port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
url="http://127.0.0.1:$port"
with_systemd=0
[[ -d /run/systemd/system ]] && with_systemd=1

echo "==> Building the packages from the debug binaries"
scripts/package.sh --profile dev --out "$work/v1"
version="$(dpkg-deb -f "$work"/v1/herald-server_*_amd64.deb Version)"
ok "both packages built, lintian reports no error"

echo "==> Installing herald-server and herald-desktop $version (apt-get install ./…deb)"
apt-get install -y -qq "$work/v1/herald-server_${version}_amd64.deb" \
  "$work/v1/herald-desktop_${version}_amd64.deb" 2>&1 | tee "$work/install.log"
installed=1
dpkg-query -L herald-server herald-desktop | sort -u >"$work/files.txt"
check "the postinst says where the admin password goes" grep -q "$data/admin-password" "$work/install.log"
for binary in /usr/bin/herald-server /usr/bin/herald /usr/bin/herald-desktop /usr/lib/herald-desktop/herald-server; do
  check "$binary is installed" test -x "$binary"
done
check "herald-server --version matches the package" is "$(herald-server --version)" "herald-server ${version%%+*}"
check "herald is a system user without a shell, at home in $data" \
  is "$(getent passwd herald | cut -d: -f6,7)" "$data:/usr/sbin/nologin"
check "herald's uid is a system one" test "$(id -u herald)" -lt 1000
check "$data is herald's, 0700" is "$(stat -c '%U:%G %a' "$data")" "herald:herald 700"
check "$config is a conffile" grep -q " $config " <<<"$(dpkg-query -W -f='${Conffiles}' herald-server) "
check "$config is root:herald, 0640" is "$(stat -c '%U:%G %a' "$config")" "root:herald 640"
for setting in User=herald NoNewPrivileges=yes ProtectSystem=strict ReadWritePaths=/var/lib/herald \
  PrivateTmp=yes Restart=on-failure; do
  check "the unit has $setting" grep -qx "$setting" "$unit"
done
for page in herald-server herald herald-desktop; do
  check "man page $page(1)" test -s "/usr/share/man/man1/$page.1.gz"
done
entry=/usr/share/applications/herald-desktop.desktop
check "the menu entry starts herald-desktop" grep -qx "Exec=herald-desktop" "$entry"
check "the menu entry is called Herald" grep -qx "Name=Herald" "$entry"
check "the app's icon is installed" test -s /usr/share/icons/hicolor/128x128/apps/herald-desktop.png
depends="$(dpkg-query -W -f='${Depends}' herald-desktop)"
check "herald-desktop depends on WebKitGTK 4.1" grep -q "libwebkit2gtk-4.1-0" <<<"$depends"
check "herald-desktop depends on the appindicator library" grep -q "libayatana-appindicator3-1" <<<"$depends"

# The server, started the way its unit starts it.
start_server() {
  if ((with_systemd)); then
    systemctl restart herald-server || return 1
  else
    local exec_start environment=() line
    exec_start="$(sed -n 's/^ExecStart=//p' "$unit")"
    while IFS= read -r line; do environment+=("$line"); done < <(sed -n 's/^Environment=//p' "$unit")
    is "$(sed -n 's/^UMask=//p' "$unit")" 0077 || return 1
    # shellcheck disable=SC2086 # ExecStart is split into words, as systemd does
    (cd / && umask 0077 && exec env -i PATH=/usr/bin:/bin "${environment[@]}" \
      setpriv --reuid=herald --regid=herald --init-groups -- $exec_start) >>"$work/server.log" 2>&1 &
    echo $! >"$work/server.pid"
  fi
  until_true 30 curl -fsS -o /dev/null "$url/healthz"
}
stop_server() {
  if ((with_systemd)); then
    systemctl stop herald-server
  else
    local pid
    pid="$(<"$work/server.pid")"
    kill "$pid"
    until_true 30 bash -c '! kill -0 "$1" 2>/dev/null' _ "$pid"
    rm "$work/server.pid"
  fi
}
ws_connections() { curl -fsS "$url/metrics" | sed -n 's/^herald_ws_connections //p'; }

echo "==> Starting herald-server from $unit on port $port"
sed -i "s|^# listen = .*|listen = \"127.0.0.1:$port\"|" "$config"
check "the server answers /healthz on the port set in $config" start_server
check "the admin password is in $data/admin-password, herald's, 0600" \
  is "$(stat -c '%U %a' "$data/admin-password")" "herald 600"
check "the database is herald's" is "$(stat -c '%U' "$data/herald.db")" herald

echo "==> Sending and listing a notification with the installed CLI"
export HERALD_SERVER="$url"
as_admin() { HERALD_CONFIG_DIR="$work/cli-admin" herald "$@"; }
as_alice() { HERALD_CONFIG_DIR="$work/cli-alice" herald "$@"; }
check "admin logs in with the generated password" \
  as_admin login --user admin --password-stdin <"$data/admin-password"
check "admin adds alice" as_admin admin user add alice --password-stdin <<<"alice-package-test"
check "alice logs in" as_alice login --user alice --password-stdin <<<"alice-package-test"
check "herald send reaches alice" grep -q "^Sent notification" \
  <<<"$(as_admin send --to alice --title "Installed from the package" --content "apt-get install ./…deb")"
check "herald list shows it to alice" grep -q "Installed from the package" <<<"$(as_alice list)"

# `desktop_session LOG ARGS…`: starts the installed app with ARGS under Xvfb and a
# private D-Bus session with an unlocked keyring and a HOME of its own (as
# tests/desktop does), waits until the shell function app_ready succeeds
# (→ LOG.ready) and the window shows more than a blank page (→ LOG.rendered, with
# the screenshot in LOG.png), then quits the app.
desktop_session() {
  local log="$1"
  shift
  Xvfb -displayfd 3 -screen 0 1280x800x24 -nolisten tcp 3>"$work/display" >"$work/xvfb.log" 2>&1 &
  echo $! >"$work/xvfb.pid"
  until_true 10 test -s "$work/display" || return 1
  mkdir -p "$work/home"
  HOME="$work/home" DISPLAY=":$(<"$work/display")" dbus-run-session -- bash -c '
    echo "" | gnome-keyring-daemon --unlock --components=secrets >/dev/null 2>&1 || true
    /usr/bin/herald-desktop "${@:2}" >"$work/$1" 2>&1 &
    echo $! >"$work/app.pid"
    if until_true 90 app_ready; then
      touch "$work/$1.ready"
      # A rendered window has far more colours than a blank one (2).
      rendered() { import -window root "$work/$1.png" && (($(convert "$work/$1.png" -format %k info:) > 100)); }
      until_true 60 rendered "$1" && touch "$work/$1.rendered"
    fi
    kill "$(<"$work/app.pid")" && wait "$(<"$work/app.pid")" || true
    rm "$work/app.pid"' _ "$log" "$@" >>"$work/session.log" 2>&1
  kill "$(<"$work/xvfb.pid")" && rm "$work/xvfb.pid" "$work/display"
}
export work url
export -f until_true ws_connections

echo "==> Starting the installed desktop app under Xvfb, logged in as alice"
app_ready() { [[ "$(ws_connections)" == 1 ]]; }
export -f app_ready
export HERALD_USERNAME=alice HERALD_PASSWORD=alice-package-test HERALD_DESKTOP_DATA_DIR="$work/desktop"
desktop_session desktop.log --server "$url"
unset HERALD_USERNAME HERALD_PASSWORD
check "herald-desktop logs in and holds a WebSocket to the server" test -e "$work/desktop.log.ready"
check "its window shows the message center, not a blank page" test -e "$work/desktop.log.rendered"
check "quitting the app closes its connection" until_true 10 bash -c '[[ "$(ws_connections)" == 0 ]]'

echo "==> Upgrading to a newer build (data and the edited configuration stay)"
stop_server
scripts/package.sh --profile dev --version-suffix +test1 --out "$work/v2" --no-lintian
sha256sum "$data/admin-password" "$data/herald.db" >"$work/data.sha256"
apt-get install -y -qq "$work/v2/herald-server_${version}+test1_amd64.deb" \
  "$work/v2/herald-desktop_${version}+test1_amd64.deb" 2>&1 | tee "$work/upgrade.log"
check "both packages are now $version+test1" \
  is "$(dpkg-query -W -f='${Version} ' herald-server herald-desktop)" "$version+test1 $version+test1 "
check "the edited listen line survived the upgrade" grep -qx "listen = \"127.0.0.1:$port\"" "$config"
check "$config is still root:herald, 0640" is "$(stat -c '%U:%G %a' "$config")" "root:herald 640"
check "the upgrade left the data alone" sha256sum --quiet -c "$work/data.sha256"
check "the upgraded server starts on the kept configuration" start_server
check "alice's login and notification survived the upgrade" \
  grep -q "Installed from the package" <<<"$(as_alice list)"

echo "==> Removing herald-server (data and configuration stay until purge)"
stop_server
apt-get remove -y -qq herald-server >/dev/null
check "the server and CLI are gone" bash -c '! test -e /usr/bin/herald-server && ! test -e /usr/bin/herald'
check "the database stays" test -s "$data/herald.db"
check "the configuration stays" grep -qx "listen = \"127.0.0.1:$port\"" "$config"
check "the herald user stays" is "$(getent passwd herald | cut -d: -f1)" herald

echo "==> herald-desktop --local-server starts the package's own herald-server"
export HERALD_DESKTOP_DATA_DIR="$work/local"
# Ready: the app's child is the packaged server, and the app is connected to it.
app_ready() {
  local port pid
  port="$(cat "$HERALD_DESKTOP_DATA_DIR/server/port" 2>/dev/null)" || return 1
  pid="$(pgrep -P "$(<"$work/app.pid")" -x herald-server)" || return 1
  echo "$pid" >"$work/local-server.pid"
  [[ "$(readlink "/proc/$pid/exe")" == /usr/lib/herald-desktop/herald-server ]] &&
    [[ "$(url="http://127.0.0.1:$port" ws_connections)" == 1 ]]
}
export -f app_ready
desktop_session local.log --local-server
check "the app runs /usr/lib/herald-desktop/herald-server and logs in to it as admin" \
  test -e "$work/local.log.ready"
check "its window shows the message center" test -e "$work/local.log.rendered"
check "the local server stops with the app" \
  until_true 10 bash -c '! kill -0 "$(<"$1")" 2>/dev/null' _ "$work/local-server.pid"
rm -f "$work/local-server.pid"

echo "==> Purging both packages"
apt-get purge -y -qq herald-server herald-desktop >/dev/null
installed=0
check "dpkg has neither package any more" \
  is "$(dpkg-query -W -f='${db:Status-Status}\n' herald-server herald-desktop 2>/dev/null | grep -v '^not-installed$')" ""
left_behind() { # the files (not directories) of files.txt that still exist
  local path
  while read -r path; do [[ -e "$path" && ! -d "$path" ]] && echo "$path"; done <"$work/files.txt"
}
check "no file of either package is left" is "$(left_behind)" ""
check "$data is gone" test ! -e "$data"
check "/etc/herald is gone" test ! -e /etc/herald
check "/usr/lib/herald-desktop is gone" test ! -e /usr/lib/herald-desktop
check "the herald user and group are gone" is "$(getent passwd herald; getent group herald)" ""
check "no statoverride is left" is "$(dpkg-statoverride --list | grep herald)" ""
check "the unit is no longer enabled" \
  is "$(find /etc/systemd/system /var/lib/systemd/deb-systemd-helper-enabled -name 'herald-server*' 2>/dev/null)" ""

echo "$passed passed, 0 failed"
