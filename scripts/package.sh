#!/usr/bin/env bash
# Builds Herald's Debian packages from this checkout (Debian 12, as root):
#   herald-server_<version>_amd64.deb   the server and the `herald` CLI as a systemd
#                                       service (cargo-deb; crates/server/Cargo.toml)
#   herald-desktop_<version>_amd64.deb  the tray app with its menu entry and icons, and
#                                       a private herald-server for --local-server
#                                       (Tauri's bundler; tauri.conf.json's bundle)
# then checks both with lintian: an error fails the script.
#
# Usage: scripts/package.sh [--profile release|dev] [--version-suffix SUFFIX]
#                           [--out DIR] [--no-lintian]
#   --profile dev      package the debug binaries the test suite builds anyway
#                      (tests/packages) instead of a release build (the default)
#   --version-suffix   appended to the workspace version, e.g. +test1 or ~rc1
#   --out DIR          where the two .deb files go [default: target/packages]
#   --no-lintian       skip the lintian check
#
# Installs what it needs: the build dependencies (scripts/setup.sh), lintian and
# help2man (apt), cargo-deb (cargo install, pinned below) and the Tauri CLI (pinned
# in ui/package.json, installed with the UI's npm packages).
set -euo pipefail
cd "$(dirname "$0")/.."
root="$PWD"
source scripts/setup.sh

CARGO_DEB_VERSION=3.8.0

profile=release
suffix=""
out=target/packages
lint=1
while (($#)); do
  case "$1" in
    --profile) profile="${2:?--profile needs release or dev}"; shift 2 ;;
    --version-suffix) suffix="${2:?--version-suffix needs a value}"; shift 2 ;;
    --out) out="${2:?--out needs a directory}"; shift 2 ;;
    --no-lintian) lint=0; shift ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "package.sh: unknown option $1 (see --help)" >&2; exit 2 ;;
  esac
done
case "$profile" in
  release) profile_dir=release; tauri_profile=() ;;
  dev) profile_dir=debug; tauri_profile=(--debug) ;;
  *) echo "package.sh: --profile must be release or dev" >&2; exit 2 ;;
esac

herald_setup
missing=()
for tool in lintian help2man; do command -v "$tool" >/dev/null || missing+=("$tool"); done
if ((${#missing[@]})); then
  echo "==> Installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
if [[ "$(cargo deb --version 2>/dev/null)" != *" $CARGO_DEB_VERSION"* ]]; then
  echo "==> Installing cargo-deb $CARGO_DEB_VERSION"
  cargo install cargo-deb --version "=$CARGO_DEB_VERSION" --locked --quiet
fi
# The desktop crate embeds ui/dist, and npm ci brings the Tauri CLI. A current
# ui/dist is kept: building it again would make cargo rebuild the app.
ui_inputs=(ui/src ui/public ui/index.html ui/package.json ui/package-lock.json ui/tsconfig.json ui/vite.config.ts)
if [[ ! -x ui/node_modules/.bin/tauri || ui/package-lock.json -nt ui/node_modules/.package-lock.json ||
  ! -f ui/dist/index.html || -n "$(find "${ui_inputs[@]}" -newer ui/dist/index.html -print -quit)" ]]; then
  herald_build_ui
fi

echo "==> Building herald-server, herald and herald-desktop ($profile profile)"
# One cargo invocation for the three, like tests/desktop's, so features unify the
# same way and the test suite's build is reused as it is.
cargo build --locked --profile "$profile" -p herald-server -p herald-client -p herald-desktop

# Facts from Cargo: where the binaries are, the version, the maintainer.
metadata="$(cargo metadata --locked --no-deps --format-version 1)"
meta() { node -e "const m = JSON.parse(require('fs').readFileSync(0, 'utf8')); $1" <<<"$metadata"; }
bin_dir="$(meta 'console.log(m.target_directory)')/$profile_dir"
version="$(meta 'console.log(m.packages.find(p => p.name === "herald-server").version)')$suffix"
maintainer="$(meta 'console.log(m.packages.find(p => p.name === "herald-server").metadata.deb.maintainer)')"
# Dates from the commit, so the same checkout gives the same packages.
export SOURCE_DATE_EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}"
commit="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"

# Generated files go to <target>/<profile>/packages, which the server's
# [package.metadata.deb] assets name as target/release/packages.
gen="$bin_dir/packages"
rm -rf "$gen"
mkdir -p "$gen/herald-server" "$gen/herald-desktop" "$out"

echo "==> Man pages and changelogs ($version)"
man_page() { # binary, one-line description
  help2man --no-info --no-discard-stderr --name "$2" \
    --include "deploy/debian/man/$1.h2m" "$bin_dir/$1" | gzip -9n >"$gen/$1.1.gz"
}
man_page herald-server "Herald's self-hosted notification server"
man_page herald "send, list and watch Herald notifications"
man_page herald-desktop "Herald's tray app: unread badge, popups and the message center"
changelog() { # package
  printf '%s (%s) unstable; urgency=medium\n\n  * Built from commit %s.\n\n -- %s  %s\n' \
    "$1" "$version" "$commit" "$maintainer" "$(date -R -d "@$SOURCE_DATE_EPOCH")"
}
changelog herald-server | gzip -9n >"$gen/herald-server/changelog.gz"
changelog herald-desktop >"$gen/herald-desktop/changelog" # the bundler compresses it

echo "==> herald-server_${version}_amd64.deb (cargo-deb)"
# cargo-deb strips its copies of the binaries; --fast only lightens compression.
fast=()
[[ "$profile" == dev ]] && fast=(--fast)
cargo deb --locked -p herald-server --no-build --profile "$profile" --deb-version "$version" \
  "${fast[@]}" --output "$out/herald-server_${version}_amd64.deb"

echo "==> herald-desktop_${version}_amd64.deb (Tauri's bundler)"
# The bundler takes the binary from <CARGO_TARGET_DIR>/<profile>/: point it at
# stripped copies, so the build's own binaries keep their symbols.
bundle_target="$gen/herald-desktop/target"
mkdir -p "$bundle_target/$profile_dir"
strip_to() { strip --remove-section=.comment --remove-section=.note -o "$2" "$1"; }
strip_to "$bin_dir/herald-desktop" "$bundle_target/$profile_dir/herald-desktop"
strip_to "$bin_dir/herald-server" "$gen/herald-desktop/herald-server"
# Shared libraries the binaries link, as Debian dependencies (libc6, GTK, WebKitGTK…);
# tauri.conf.json adds what is loaded at run time (the appindicator library).
shlibs="$gen/herald-desktop/shlibs"
mkdir -p "$shlibs/debian"
printf 'Source: herald\n\nPackage: herald-desktop\nArchitecture: any\n' >"$shlibs/debian/control"
(cd "$shlibs" && dpkg-shlibdeps -O -e"$bundle_target/$profile_dir/herald-desktop" \
  -e"$gen/herald-desktop/herald-server" 2>"$shlibs/warnings") >"$shlibs/substvars" ||
  { cat "$shlibs/warnings" >&2; exit 1; }

# The Tauri CLI reads tauri.conf.json only from the app crate's directory, while
# ours sits at the root (DESIGN.md): give it, for this run only, a copy with paths
# made absolute and the package's name, version, maintainer and build products.
generated_config=src-tauri/tauri.conf.json
trap 'rm -f "$root/$generated_config"' EXIT
ROOT="$root" GEN="$gen" VERSION="$version" MAINTAINER="$maintainer" node - >"$generated_config" <<'EOF'
const fs = require("fs");
const path = require("path");
const env = process.env;
const at = (p) => path.resolve(env.ROOT, p);
const config = JSON.parse(fs.readFileSync(at("tauri.conf.json"), "utf8"));
const deb = config.bundle.linux.deb;
const name = (dep) => dep.split(/[\s(]/)[0];
const linked = fs.readFileSync(path.join(env.GEN, "herald-desktop/shlibs/substvars"), "utf8")
  .match(/^shlibs:Depends=(.*)$/m)[1].split(",").map((d) => d.trim());
config.productName = "herald-desktop"; // the Debian package's name
config.version = env.VERSION;
config.bundle.publisher = env.MAINTAINER; // the Maintainer field
config.build.frontendDist = at(config.build.frontendDist);
config.bundle.icon = config.bundle.icon.map(at);
deb.desktopTemplate = at(deb.desktopTemplate);
deb.depends = [...linked, ...deb.depends.filter((d) => !linked.some((l) => name(l) === name(d)))];
deb.changelog = path.join(env.GEN, "herald-desktop/changelog");
deb.files = Object.fromEntries(Object.entries(deb.files).map(([to, from]) => [to, at(from)]));
// Beside herald-server's /usr/bin/herald-server, not on it: both packages install.
deb.files["/usr/lib/herald-desktop/herald-server"] = path.join(env.GEN, "herald-desktop/herald-server");
deb.files["/usr/share/man/man1/herald-desktop.1.gz"] = path.join(env.GEN, "herald-desktop.1.gz");
console.log(JSON.stringify(config, null, 2));
EOF
(cd src-tauri && CARGO_TARGET_DIR="$bundle_target" "$root/ui/node_modules/.bin/tauri" bundle \
  --bundles deb --no-binary-patching --ci "${tauri_profile[@]}")
rm -f "$generated_config"
cp "$bundle_target/$profile_dir/bundle/deb/herald-desktop_${version}_amd64.deb" "$out/"

if ((lint)); then
  for deb in "$out/herald-server_${version}_amd64.deb" "$out/herald-desktop_${version}_amd64.deb"; do
    echo "==> lintian $(basename "$deb")"
    lintian --allow-root --fail-on error --tag-display-limit 0 "$deb"
  done
fi
echo "==> Packages in $out:"
ls -l "$out/herald-server_${version}_amd64.deb" "$out/herald-desktop_${version}_amd64.deb"
