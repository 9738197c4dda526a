#!/usr/bin/env bash
# The public SCIM compliance checkers from PyPI against the real binary's /scim/v2 (issue #14),
# on a fresh SQLite file and on a fresh PostgreSQL database: scim2-tester (every check SUCCESS)
# and scim-sanity (no FAIL or ERROR), the latter also with its Entra profile. Each run signs in
# as the demo main user and makes a `scim` token for the demo corporation, as an association
# would for its identity provider.
#
# Env: MIJNKWH_BIN (default target/debug/mijnkwh); TEST_DATABASE_URL (the PostgreSQL server;
# its database "mijnkwh_scim_ci" is made afresh); SCIM_REPORT_DIR (default target/scim-report).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCIM2_TESTER_VERSION=0.5.2
SCIM_SANITY_VERSION=0.7.4
# scim2-tester's HTTP engine (its CLI, scim2-cli, brings it; we use the library directly).
HTTPX2_VERSION=2.16.2
BIN=${MIJNKWH_BIN:-target/debug/mijnkwh}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
REPORT_DIR=${SCIM_REPORT_DIR:-$ROOT/target/scim-report}
VENV=$ROOT/target/scim-venv
PG_SERVER=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/test}

say() { printf '[scim.sh %3ss] %s\n' "$SECONDS" "$*"; }
die() { say "FAIL: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no executable binary at $BIN (build it with cargo test)"

if [ ! -x "$VENV/bin/scim-sanity" ] || ! "$VENV/bin/pip" show -q httpx2 >/dev/null 2>&1 \
   || [ "$("$VENV/bin/pip" show scim2-tester 2>/dev/null | sed -n 's/^Version: //p')" != "$SCIM2_TESTER_VERSION" ] \
   || [ "$("$VENV/bin/pip" show scim-sanity 2>/dev/null | sed -n 's/^Version: //p')" != "$SCIM_SANITY_VERSION" ]; then
  say "installing scim2-tester==$SCIM2_TESTER_VERSION and scim-sanity==$SCIM_SANITY_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check \
    "scim2-tester==$SCIM2_TESTER_VERSION" "scim-sanity==$SCIM_SANITY_VERSION" "httpx2==$HTTPX2_VERSION"
fi

. .ci/server.sh
mkdir -p "$REPORT_DIR"
py() { "$VENV/bin/python" - "$@"; }

# Signs in as the demo main user and makes a scim token for its corporation; prints the secret.
scim_token() {
  py "$BASE" "$1" "$2" <<'PY'
import json, sys, urllib.request
base, email, password = sys.argv[1:4]
def call(path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = "Bearer " + token
    request = urllib.request.Request(base + path, json.dumps(body).encode(), headers)
    return json.load(urllib.request.urlopen(request, timeout=10))
session = call("/auth/login", {"email": email, "password": password})["access_token"]
print(call("/api-tokens", {"name": "SCIM checkers", "scope": "scim"}, session)["token"])
PY
}

check_backend() {  # name database-url-or-empty
  local name=$1 url=$2
  say "=== $name ==="
  # A port chosen here, so that PUBLIC_BASE_URL (meta.location, Location) names the server.
  local port
  port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  SERVER_DATABASE_URL=$url SERVER_BIND_ADDR=127.0.0.1:$port PUBLIC_BASE_URL=http://127.0.0.1:$port \
  RATE_LIMIT_PER_MINUTE=0 start_server serve --demo --force
  local line email password
  line=$(grep -m1 'Sign in as main user' "$WORK/server.log") || { cat "$WORK/server.log" >&2; die "--demo did not print the demo main user"; }
  email=$(sed -E 's/.*main user ([^ ]+) with password .*/\1/' <<<"$line")
  password=$(sed -E 's/.*with password (.*)$/\1/' <<<"$line")
  export SCIM_TOKEN
  SCIM_TOKEN=$(scim_token "$email" "$password") || die "cannot make a scim token as $email"
  local url_scim="$BASE/scim/v2"

  say "scim2-tester against $url_scim"
  "$VENV/bin/python" .ci/scim_tester.py "$url_scim" >"$REPORT_DIR/$name-scim2-tester.txt" 2>&1 \
    || { cat "$REPORT_DIR/$name-scim2-tester.txt"; die "scim2-tester on $name"; }
  tail -n1 "$REPORT_DIR/$name-scim2-tester.txt"

  for profile in "" entra; do
    say "scim-sanity${profile:+ --profile $profile} against $url_scim"
    "$VENV/bin/scim-sanity" probe "$url_scim" --token "$SCIM_TOKEN" ${profile:+--profile "$profile"} \
      --i-accept-side-effects >"$REPORT_DIR/$name-scim-sanity${profile:+-$profile}.txt" 2>&1 \
      || { cat "$REPORT_DIR/$name-scim-sanity${profile:+-$profile}.txt"; die "scim-sanity${profile:+ --profile $profile} on $name"; }
    grep -E 'passed|Result' "$REPORT_DIR/$name-scim-sanity${profile:+-$profile}.txt" | tail -n2
  done
  cp "$WORK/server.log" "$REPORT_DIR/$name-server.log"
  stop_server
}

check_backend sqlite ""

PG_BASE=${PG_SERVER%/*}
psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS mijnkwh_scim_ci" -c "CREATE DATABASE mijnkwh_scim_ci" \
  || die "PostgreSQL at $PG_SERVER is unreachable"
check_backend postgres "$PG_BASE/mijnkwh_scim_ci"
psql "$PG_SERVER" -q -c "DROP DATABASE IF EXISTS mijnkwh_scim_ci" || true
say "done"
