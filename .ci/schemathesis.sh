#!/usr/bin/env bash
# Property-based API test of the real binary with Schemathesis, against the OpenAPI document
# it serves: zero 5xx, zero responses that break the documented schema, every documented status
# code real. All checks (`--checks all`), all phases, once as the kwh_admin and once as the demo
# main user, on a fresh SQLite database with the demo corporation.
#
# Nothing is excluded except requests that would delete or edit the two users the run signs in
# as (see .ci/schemathesis_hooks.py, which also gives every request a fresh Idempotency-Key as a
# correct client does). Fix the service or the document, never loosen a check.
#
# Env: MIJNKWH_BIN (default target/debug/mijnkwh, relative to the repository root);
#   SCHEMATHESIS_MAX_EXAMPLES  cases per operation and phase (default 50);
#   SCHEMATHESIS_SEED          (default 20240601) for reproducible runs;
#   SCHEMATHESIS_WORKERS       (default 1: Hypothesis' lambda introspection is not thread-safe on
#                              CPython 3.11 - 2 workers crashed once with "AST constructor
#                              recursion depth mismatch" - and 1 worker keeps --seed meaningful);
#   SCHEMATHESIS_REPORT_DIR    (default target/schemathesis-report): JUnit, NDJSON, output, server log;
#   SCHEMATHESIS_ARGS          extra `schemathesis run` options;
#   SCHEMATHESIS_SCHEMA_FILE   test against this document file instead of the served
#                              /openapi.json (to try a document change before coding it).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

SCHEMATHESIS_VERSION=4.32.5
MIN_CASES=1000
BIN=${MIJNKWH_BIN:-target/debug/mijnkwh}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
MAX_EXAMPLES=${SCHEMATHESIS_MAX_EXAMPLES:-50}
SEED=${SCHEMATHESIS_SEED:-20240601}
WORKERS=${SCHEMATHESIS_WORKERS:-1}
REPORT_DIR=${SCHEMATHESIS_REPORT_DIR:-$ROOT/target/schemathesis-report}
VENV=$ROOT/target/ci-venv

say() { printf '[schemathesis.sh %3ss] %s\n' "$SECONDS" "$*"; }
die() { say "FAIL: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no executable binary at $BIN (set MIJNKWH_BIN, or build it with cargo test)"

# --- Schemathesis, pinned, in a venv under target/ -------------------------------------------
if [ ! -x "$VENV/bin/schemathesis" ] || [ "$("$VENV/bin/schemathesis" --version 2>/dev/null)" != "schemathesis, version $SCHEMATHESIS_VERSION" ]; then
  say "installing schemathesis==$SCHEMATHESIS_VERSION into $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi
say "$("$VENV/bin/schemathesis" --version)"

# --- The server: fresh SQLite database, demo corporation, known kwh_admin ---------------------
. .ci/server.sh
ADMIN_EMAIL=ci-admin@example.nl
ADMIN_PASSWORD=$(head -c 18 /dev/urandom | base64 | tr -d '/+=')-Aa1
KWH_ADMIN_EMAIL=$ADMIN_EMAIL KWH_ADMIN_PASSWORD=$ADMIN_PASSWORD PUBLIC_BASE_URL=http://127.0.0.1:8080 \
RATE_LIMIT_PER_MINUTE=0 start_server serve --demo

DEMO_LINE=$(grep -m1 'Sign in as main user' "$WORK/server.log") || die "--demo did not print the demo main user"
MAIN_EMAIL=$(sed -E 's/.*main user ([^ ]+) with password .*/\1/' <<<"$DEMO_LINE")
MAIN_PASSWORD=$(sed -E 's/.*with password (.*)$/\1/' <<<"$DEMO_LINE")

# Both callers sign in before any fuzzing: the run also fuzzes POST /auth/login, whose failed
# attempts trip the sign-in throttle for 127.0.0.1 (5 per 15 minutes); the tokens are unaffected.
py() { "$VENV/bin/python" - "$@"; }
login() {
  py "$BASE" "$1" "$2" <<'EOF'
import json, sys, urllib.request
base, email, password = sys.argv[1:4]
req = urllib.request.Request(base + "/auth/login", json.dumps({"email": email, "password": password}).encode(),
                             {"Content-Type": "application/json"})
print(json.load(urllib.request.urlopen(req, timeout=10))["access_token"])
EOF
}
me() {  # prints "id role email" of the token's user
  py "$BASE" "$1" <<'EOF'
import json, sys, urllib.request
base, token = sys.argv[1:3]
req = urllib.request.Request(base + "/me", headers={"Authorization": "Bearer " + token})
me = json.load(urllib.request.urlopen(req, timeout=10))
print(me["id"], me["role"], me["email"])
EOF
}
ADMIN_TOKEN=$(login "$ADMIN_EMAIL" "$ADMIN_PASSWORD") || die "cannot sign in as the kwh_admin"
MAIN_TOKEN=$(login "$MAIN_EMAIL" "$MAIN_PASSWORD") || die "cannot sign in as the demo main user"
read -r ADMIN_ID ADMIN_ROLE _ <<<"$(me "$ADMIN_TOKEN")"
read -r MAIN_ID MAIN_ROLE _ <<<"$(me "$MAIN_TOKEN")"
[ "$ADMIN_ROLE" = kwh_admin ] || die "$ADMIN_EMAIL has role $ADMIN_ROLE, expected kwh_admin"
[ "$MAIN_ROLE" = main_user ] || die "$MAIN_EMAIL has role $MAIN_ROLE, expected main_user"
say "signed in: kwh_admin $ADMIN_EMAIL ($ADMIN_ID), main_user $MAIN_EMAIL ($MAIN_ID)"

OPERATIONS=$(py "$BASE" <<'EOF'
import json, sys, urllib.request
doc = json.load(urllib.request.urlopen(sys.argv[1] + "/openapi.json", timeout=10))
print(sum(m in ("get", "put", "post", "delete", "patch", "head", "options", "trace")
          for ops in doc["paths"].values() for m in ops))
EOF
)
say "the served document has $OPERATIONS operations; --max-examples $MAX_EXAMPLES, --seed $SEED, $WORKERS workers"
say "excluded: /scim/v2 (it takes a scim token, not these callers; .ci/scim.sh runs the SCIM checkers on it)"
say "and dropped: DELETE/PATCH /users/{id} on the two signed-in users, and POST /users/batch"
say "  items with their email (they would delete, demote or revoke the tokens of the caller under test)"

# --- The runs ---------------------------------------------------------------------------------
export SCHEMATHESIS_HOOKS=schemathesis_hooks PYTHONDONTWRITEBYTECODE=1
export PYTHONPATH=$ROOT/.ci${PYTHONPATH:+:$PYTHONPATH}
export MIJNKWH_PROTECTED_IDS=$ADMIN_ID,$MAIN_ID
export MIJNKWH_PROTECTED_EMAILS=$ADMIN_EMAIL,$MAIN_EMAIL
mkdir -p "$REPORT_DIR"
rm -rf "$REPORT_DIR/kwh_admin" "$REPORT_DIR/main_user" "$REPORT_DIR/server.log"

if [ -n "${SCHEMATHESIS_SCHEMA_FILE:-}" ]; then
  LOCATION=("$(realpath "$SCHEMATHESIS_SCHEMA_FILE")" --url "$BASE")
  say "NOTE: testing against the document $SCHEMATHESIS_SCHEMA_FILE, not the served /openapi.json"
else
  LOCATION=("$BASE/openapi.json")
fi
declare -A STATUS CASES DURATION
run_as() {  # caller-name token
  local name=$1 token=$2 started=$SECONDS rc
  mkdir -p "$REPORT_DIR/$name"
  say "=== run as $name ==="
  # The token goes in through the document's own security scheme (bearer_auth), i.e. as
  # `Authorization: Bearer <token>`. Not through --header: a global header is also added to the
  # coverage phase's "Authorization missing" cases, which then fail ST203 falsely. Only the
  # token is masked in the output; generated keys, passwords and tokens are fuzz data and are
  # shown so that every "Reproduce with" curl reproduces.
  cat >"$WORK/schemathesis-$name.toml" <<'EOF'
[auth.openapi.bearer_auth]
bearer = "${MIJNKWH_CI_TOKEN}"

# No state between runs (Schemathesis would otherwise keep a replay cache in ./.schemathesis):
# every run starts from the seed alone.
[cache]
enabled = false

[output.sanitization]
keys-to-sanitize = ["authorization"]
sensitive-markers = ["authorization"]

# "Schema-valid request rejected" (ST202) accepts 2xx, 401, 403 and 404 by default: a valid
# request may name something that does not exist. These operations have more answers of that
# kind, which depend on what is stored, not on the request's shape: an ETag that is no longer
# current (412), a conflict with another user or contractor (409), a reference to a
# corporation, contractor, survey part or catalog name that is not there or not the caller's,
# a role that does not go with the user's type, a cursor that this list never handed out. The
# document cannot say which stored values exist; everything else is checked in full.
[[operations]]
include-operation-id = ["list_users"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "400", "401", "403", "404"]

[[operations]]
include-operation-id = ["create_user", "create_contractor", "request_report_settings"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# Approval re-checks the request against the corporation's survey parts and the catalog as
# they are now (rule 9): the run's own edits of the corporation can make a request invalid.
[[operations]]
include-operation-id = ["approve"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

[[operations]]
include-operation-id = ["update_user"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "412", "422"]

[[operations]]
include-operation-id = ["delete_user"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "412"]

# `corporation_code` and `invites_new_users` belong to the scim scope: with another scope they
# are refused (422) rather than ignored, and a main user naming another corporation gets 404
# (rule 4). The document would need a oneOf per scope to say so; the refusal is tested in
# tests/api/scim.rs.
[[operations]]
include-operation-id = ["create_token"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "422"]

# Limits that hold across requests: failed sign-ins (5 per 15 minutes; the run fuzzes wrong
# passwords), invitations (5 per user per day), reset mails.
[[operations]]
include-operation-id = ["login", "invite_user", "request_password_reset"]
checks.positive_data_acceptance.expected-statuses = ["2xx", "401", "403", "404", "409", "429"]
EOF
  set +e
  MIJNKWH_DROPPED_LOG="$REPORT_DIR/$name/dropped-cases.txt" \
  MIJNKWH_CI_TOKEN=$token "$VENV/bin/schemathesis" --config-file "$WORK/schemathesis-$name.toml" \
    run "${LOCATION[@]}" \
    --checks all \
    --exclude-path-regex '^/scim/' \
    --max-examples "$MAX_EXAMPLES" \
    --seed "$SEED" \
    --generation-database none \
    --workers "$WORKERS" \
    --request-timeout 30 \
    --continue-on-failure \
    --no-color \
    --report junit,ndjson \
    --report-dir "$REPORT_DIR/$name" \
    ${SCHEMATHESIS_ARGS:-} \
    2>&1 | tee "$REPORT_DIR/$name/output.txt"
  rc=${PIPESTATUS[0]}
  set -e
  DURATION[$name]=$((SECONDS - started))
  if [ -s "$REPORT_DIR/$name/dropped-cases.txt" ]; then
    say "cases dropped to protect the signed-in users (as $name): $(paste -sd, "$REPORT_DIR/$name/dropped-cases.txt")"
  else
    say "no case had to be dropped to protect the signed-in users (as $name)"
  fi
  STATUS[$name]=$rc
  # Schemathesis' own count ("Test cases:" / "  N generated, ...") of the cases it sent.
  CASES[$name]=$(awk '/^Test cases:/ {getline; print $1; exit}' "$REPORT_DIR/$name/output.txt")
  [[ ${CASES[$name]} =~ ^[0-9]+$ ]] || CASES[$name]=0
}
run_as kwh_admin "$ADMIN_TOKEN"
run_as main_user "$MAIN_TOKEN"

# --- Post-conditions: both callers survived, the server too ------------------------------------
FAILED=0
kill -0 "$SERVER_PID" 2>/dev/null || { say "FAIL: the server died during the run"; FAILED=1; }
for pair in "kwh_admin:$ADMIN_TOKEN:$ADMIN_ID" "main_user:$MAIN_TOKEN:$MAIN_ID"; do
  IFS=: read -r role token id <<<"$pair"
  got=$(me "$token" 2>/dev/null) || got=
  if [ "${got%% *}" != "$id" ] || [ "$(cut -d' ' -f2 <<<"$got")" != "$role" ]; then
    say "FAIL: the $role caller is gone, demoted or its token revoked after the run (GET /me: '${got:-error}')"
    FAILED=1
  fi
done
# Level ERROR lines and panics (WARN lines are the expected 4xx answers).
if grep -qE 'panicked|ERROR' "$WORK/server.log"; then
  say "the server logged errors or panics (last 40; a panic is also a 5xx above, 'invalid Header' is actix refusing a malformed request):"
  grep -E 'panicked|ERROR' "$WORK/server.log" | tail -n 40
fi
cp "$WORK/server.log" "$REPORT_DIR/server.log"

# --- Summary ----------------------------------------------------------------------------------
echo
say "=== summary (reports under $REPORT_DIR) ==="
for name in kwh_admin main_user; do
  status=passed
  [ "${STATUS[$name]}" = 0 ] || { status="FAILED (exit ${STATUS[$name]})"; FAILED=1; }
  say "  as $name: $status, ${CASES[$name]} test cases generated, ${DURATION[$name]} s"
  if [ "${CASES[$name]:-0}" -lt "$MIN_CASES" ]; then
    say "  FAIL: fewer than $MIN_CASES cases as $name; raise SCHEMATHESIS_MAX_EXAMPLES"
    FAILED=1
  fi
  # Schemathesis' summary: phases, failures by check, warnings, case count.
  awk '/^=+ SUMMARY =+$/ {on=1; next} on && /^Reports:/ {off=1} on && !off && NF' "$REPORT_DIR/$name/output.txt" | sed 's/^/      /'
  # One line per distinct failure: operation, check, status and the problem's `code`.
  py "$REPORT_DIR/$name/output.txt" <<'EOF'
import re, sys
text = open(sys.argv[1], encoding="utf-8", errors="replace").read()
if "= FAILURES =" in text:
    section = text.split("= FAILURES =", 1)[1].split("= SUMMARY =", 1)[0]
    section = re.split(r"\n=+ ERRORS =+\n", section)[0]
    blocks = re.split(r"\n_{3,} (.+?) _{3,}\n", section)
    print("      Distinct failures:")
    for op, body in zip(blocks[1::2], blocks[2::2]):
        for case in re.split(r"(?:^|\n)\d+\. Test Case ID: ", body)[1:]:
            checks = "; ".join(re.findall(r"^- (ST\d+ [^\n]+)$", case, re.M))
            status = (re.findall(r"^\[(\d+)\] ", case, re.M) or ["?"])[0]
            code = (re.findall(r'"code":"([^"]*)"', case) or [""])[0]
            print(f"        {op}: {checks} -> {status} {code}".rstrip())
EOF
done
if [ "$FAILED" != 0 ]; then
  say "FAILED: see the failures above (each with a curl to reproduce); fix the service or openapi/openapi.json"
  exit 1
fi
say "OK: zero failures in $((CASES[kwh_admin] + CASES[main_user])) cases"
