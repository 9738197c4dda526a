#!/usr/bin/env bash
# The contract the frontend builds on, checked as a frontend developer's tools see it:
#   1. openapi-spec-validator (PyPI) and Redocly's linter (`redocly lint`, npm, redocly.yaml)
#      accept openapi/openapi.json: no error, no warning that redocly.yaml does not switch off;
#   2. openapi-typescript generates examples/frontend/src/api.d.ts as committed, and the typed
#      client (openapi-fetch) and page compile with `tsc --noEmit`;
#   3. Debian's Chromium, driven by Playwright (playwright-core), loads the page from an origin
#      listed in CORS_ORIGINS (a second local port) against the running binary and goes through
#      every step (examples/frontend/test/browser.mjs), and the same page served from a third
#      port, not listed, is refused by the browser.
# npm packages are pinned by examples/frontend/package-lock.json and installed with `npm ci`.
#
# Env: MIJNKWH_BIN (default target/debug/mijnkwh), CHROMIUM (default: chromium on PATH),
#   FRONTEND_REPORT_DIR (default target/frontend-report: screenshots, logs).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

VALIDATOR_VERSION=0.9.0
BIN=${MIJNKWH_BIN:-target/debug/mijnkwh}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}
REPORT_DIR=${FRONTEND_REPORT_DIR:-$ROOT/target/frontend-report}
VENV=$ROOT/target/openapi-venv
FRONTEND=$ROOT/examples/frontend
# Redocly CLI would otherwise send usage data and look for updates: this network is closed.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

say() { printf '[frontend.sh %3ss] %s\n' "$SECONDS" "$*"; }
die() { say "FAIL: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no executable binary at $BIN (set MIJNKWH_BIN, or build it with cargo test)"
command -v npm >/dev/null || die "no npm (Node.js 20 or later)"

# --- 1. The document, as the validator and the linter see it ---------------------------------
if [ ! -x "$VENV/bin/openapi-spec-validator" ] || ! "$VENV/bin/pip" show openapi-spec-validator 2>/dev/null | grep -qx "Version: $VALIDATOR_VERSION"; then
  say "installing openapi-spec-validator==$VALIDATOR_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "openapi-spec-validator==$VALIDATOR_VERSION"
fi
# On failure it prints the whole document after the error: the first line says what is wrong.
if ! "$VENV/bin/openapi-spec-validator" openapi/openapi.json 2>&1 | cut -c1-400; then
  die "openapi-spec-validator rejects openapi/openapi.json"
fi

say "npm ci (versions from examples/frontend/package-lock.json)"
(cd "$FRONTEND" && npm ci --no-audit --no-fund --loglevel=error)
mkdir -p "$REPORT_DIR"
# Once for people (the problems, if any, with where they are), once for the count. The box
# about Node.js 20's end of support is Redocly's notice, not a finding.
"$FRONTEND/node_modules/.bin/redocly" lint --config redocly.yaml openapi/openapi.json --format=stylish 2>&1 \
  | grep -v -e '[║╔╚]' -e '^\s*$' || true
"$FRONTEND/node_modules/.bin/redocly" lint --config redocly.yaml openapi/openapi.json --format=json 2>/dev/null \
  >"$REPORT_DIR/redocly-lint.json" || true
node -e '
  const { totals } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
  console.log(`redocly lint: ${totals.errors} errors, ${totals.warnings} warnings, ${totals.ignored} ignored`);
  // An ignore file would hide findings without a reason: those count too.
  process.exit(totals.errors + totals.warnings + totals.ignored === 0 ? 0 : 1);
' "$REPORT_DIR/redocly-lint.json" || die "redocly lint reports problems (fix them, or switch a rule off in redocly.yaml with the reason)"

# --- 2. Generated types as committed, and the client compiles ---------------------------------
(cd "$FRONTEND" && node_modules/.bin/openapi-typescript ../../openapi/openapi.json --output "$REPORT_DIR/api.d.ts" >/dev/null)
diff -u "$FRONTEND/src/api.d.ts" "$REPORT_DIR/api.d.ts" >"$REPORT_DIR/api.d.ts.diff" || {
  head -n 40 "$REPORT_DIR/api.d.ts.diff"
  die "examples/frontend/src/api.d.ts is stale: run  (cd examples/frontend && npm run types)"
}
say "openapi-typescript: src/api.d.ts is what openapi/openapi.json generates"
(cd "$FRONTEND" && node_modules/.bin/tsc --noEmit -p .) || die "tsc --noEmit reports errors"
say "tsc --noEmit: clean"
(cd "$FRONTEND" && npm run --silent build)

# --- 3. The page in Chromium, cross-origin -------------------------------------------------------
if [ -z "$CHROMIUM" ]; then
  # Debian's Chromium, as the machine's notes say; Playwright downloads no browser of its own.
  apt-get install -y chromium >/dev/null 2>&1 || { apt-get update >/dev/null 2>&1 && apt-get install -y chromium >/dev/null 2>&1; } || true
  CHROMIUM=$(command -v chromium || true)
fi
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || die "no chromium (apt-get install -y chromium)"
say "$("$CHROMIUM" --version 2>/dev/null | head -n1)"

. .ci/server.sh
STATIC_PIDS=()
stop_static() { for pid in "${STATIC_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done; }
trap 'stop_static; cleanup' EXIT

# Serves the page on a free port; sets ORIGIN.
serve_page() {
  local log=$WORK/static-$1.log
  node "$FRONTEND/serve.mjs" 0 >"$log" 2>&1 &
  STATIC_PIDS+=($!)
  ORIGIN=
  for _ in $(seq 1 50); do
    ORIGIN=$(grep -so 'http://127.0.0.1:[0-9]*' "$log" | head -n1) || true
    [ -n "$ORIGIN" ] && return 0
    sleep 0.1
  done
  cat "$log" >&2
  die "the static server for the $1 origin did not start"
}
serve_page allowed
PAGE_ORIGIN=$ORIGIN
serve_page other
OTHER_ORIGIN=$ORIGIN
say "page served from $PAGE_ORIGIN (in CORS_ORIGINS) and from $OTHER_ORIGIN (not)"

CORS_ORIGINS=$PAGE_ORIGIN start_server serve --demo
DEMO_LINE=$(grep -m1 'Sign in as main user' "$WORK/server.log") || die "--demo did not print the demo main user"
MAIN_EMAIL=$(sed -E 's/.*main user ([^ ]+) with password .*/\1/' <<<"$DEMO_LINE")
MAIN_PASSWORD=$(sed -E 's/.*with password (.*)$/\1/' <<<"$DEMO_LINE")

rc=0
API_BASE=$BASE PAGE_ORIGIN=$PAGE_ORIGIN OTHER_ORIGIN=$OTHER_ORIGIN MAIN_EMAIL=$MAIN_EMAIL \
MAIN_PASSWORD=$MAIN_PASSWORD CHROMIUM=$CHROMIUM REPORT_DIR=$REPORT_DIR \
  timeout 300 node "$FRONTEND/test/browser.mjs" || rc=$?
cp "$WORK/server.log" "$REPORT_DIR/server.log" 2>/dev/null || true
[ $rc = 0 ] || die "the browser test failed (screenshots and the server log in $REPORT_DIR)"
say "OK"
