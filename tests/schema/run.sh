#!/usr/bin/env bash
# OpenAPI conformance: schemathesis (pinned in requirements.txt) against a live
# herald-server, every check and every phase (examples, coverage, fuzzing and
# the stateful phase, whose links schemathesis infers from the document), in a
# time budget of about two minutes. Fails on any 5xx and on any difference
# between what the server does and what /api/openapi.json says.
#
# Uses target/debug/herald-server (HERALD_SERVER_BIN to pick another; built if
# missing). HERALD_SCHEMA_MAX_TIME sets the budget in seconds (default 100),
# HERALD_SCHEMA_SEED the seed (default fixed, so a failure reproduces; `random`
# for a new one each run). HERALD_SCHEMA_KEEP=1 keeps the work directory with
# the server log and the JUnit report.
set -euo pipefail
cd "$(dirname "$0")/../.."

python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore -r tests/schema/requirements.txt

binary="${HERALD_SERVER_BIN:-target/debug/herald-server}"
if [[ ! -x "$binary" ]]; then
  cargo build --locked -p herald-server
fi

work="$(mktemp -d)"
server_pid=""
cleanup() {
  if [[ -n "$server_pid" ]]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  if [[ -n "${HERALD_SCHEMA_KEEP:-}" ]]; then echo "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

port="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
base="http://127.0.0.1:$port"
# The password is the one schemathesis.toml logs in with. Registration is open
# so POST /auth/register can succeed too. Every request of the run comes from
# 127.0.0.1, so the fuzzer's own wrong passwords would put that address into
# login backoff and lock the run out of its admin session, and one token's
# thousands of sends would spend the publish budget in the first seconds: the
# limits are raised out of the way here (what they do is tested by the Rust
# suite, crates/server/tests/login_limits.rs and rate_limits.rs; a 429 is still a documented answer).
HERALD_ADMIN_PASSWORD=schema-fuzz-admin RUST_LOG=warn "$binary" \
  --data-dir "$work/data" --listen "127.0.0.1:$port" --registration open \
  --login-free-failures 1000000 --publish-per-s 100000 --publish-burst 100000 \
  --chat-per-s 100000 --chat-burst 100000 \
  >"$work/server.log" 2>&1 &
server_pid=$!

# Waits for the server, then makes the stand-in user that hooks.py sends the
# run's changes to its own admin account to.
standin_id="$(python3 - "$base" <<'PY'
import json, sys, time, urllib.request
base = sys.argv[1]
def call(method, path, body=None, token=None):
    request = urllib.request.Request(base + path, method=method, data=json.dumps(body).encode() if body else None)
    request.add_header("content-type", "application/json")
    if token:
        request.add_header("authorization", "Bearer " + token)
    with urllib.request.urlopen(request, timeout=10) as response:
        return json.load(response)
for _ in range(600):
    try:
        urllib.request.urlopen(base + "/healthz", timeout=1)
        break
    except OSError:
        time.sleep(0.1)
else:
    sys.exit("herald-server did not become healthy")
token = call("POST", "/api/v1/auth/login", {"username": "admin", "password": "schema-fuzz-admin"})["token"]
user = call("POST", "/api/v1/users", {"username": "standin", "password": "standin-password"}, token)
print(user["id"])
PY
)"
export HERALD_SCHEMA_ADMIN_ID=1 HERALD_SCHEMA_STANDIN_ID="$standin_id"

seed="${HERALD_SCHEMA_SEED:-20261204}"
seed_args=(--seed "$seed")
[[ "$seed" == "random" ]] && seed_args=()

status=0
PYTHONPATH=tests/schema SCHEMATHESIS_HOOKS=hooks schemathesis \
  --config-file tests/schema/schemathesis.toml --no-color \
  run "$base/api/openapi.json" \
  --checks all \
  --phases examples,coverage,fuzzing,stateful \
  --max-time "${HERALD_SCHEMA_MAX_TIME:-100}" \
  --request-timeout 20 \
  --report junit --report-dir "$work/report" \
  "${seed_args[@]}" || status=$?

if [[ "$status" -ne 0 ]]; then
  echo "--- herald-server log (last 40 lines) ---"
  tail -n 40 "$work/server.log"
fi
# The server must not have died under the run.
kill -0 "$server_pid" 2>/dev/null || { echo "herald-server exited during the run"; status=1; }
exit "$status"
