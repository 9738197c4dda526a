#!/usr/bin/env bash
# Instructions per request under callgrind: a count that does not depend on what else the
# machine is doing (the same binary, data and requests give the same count), for comparing two
# builds on a noisy machine where req/s moves by ±20% from one minute to the next.
#
# Usage: bench/instructions.sh BUILD [BUILD ...]
#        PATHS="/users?limit=50 /users/{id} PATCH:/users/{id}" REQUESTS=200 bench/instructions.sh target/release/mijnkwh
#        INVITE=2000 bench/instructions.sh ...   # every seeded user invited first
# Each build serves a copy of one SQLite database of 2,000 users (seeded once, by the first
# build); every path is requested 20 times to warm up, then REQUESTS times one after the other
# on one connection while callgrind counts. `{id}` stands for a seeded user; `PATCH:` before a
# path sends a PATCH with a new job title each time instead of a GET. Counts the
# service's own instructions (user space), not the kernel's or the client's.
set -euo pipefail
cd "$(dirname "$0")/.."
[ $# -ge 1 ] || { echo "usage: bench/instructions.sh BUILD [BUILD ...]" >&2; exit 2; }
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
venv=target/bench-venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install --quiet httpx; }
paths=${PATHS:-"/health/live /users/{id} /users?limit=50"}
requests=${REQUESTS:-200}
export ADMIN_EMAIL=bench@kwh.example.nl ADMIN_PASSWORD=bench-wachtwoord-123
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# Starts BUILD ($1) on the database file $2, under $3 (a wrapper command, or nothing).
start() {
  env DATABASE_URL="sqlite://$2" BIND_ADDR=127.0.0.1:0 MAIL_DIR="$work/mail" JWT_SECRET=bench-signing-key-of-at-least-32-characters \
    KWH_ADMIN_EMAIL="$ADMIN_EMAIL" KWH_ADMIN_PASSWORD="$ADMIN_PASSWORD" RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn \
    $3 "$1" >"$work/log" 2>&1 &
  pids+=($!)
  started_pid=$!
  for _ in $(seq 1 600); do grep -q "running on" "$work/log" && break; sleep 0.2; done
  started_base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/log" | head -n1)
}

# Seed once with the first build, then stop it: every build reads a copy of the same file.
start "$1" "$work/seed.sqlite" ""
TOKEN=$(curl -s "$started_base/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
export TOKEN IDS_FILE="$work/ids"
BENCH_USERS=2000 MIJNKWH_URL=$started_base "$venv/bin/python" bench/seed.py >&2
# INVITE=N: the first N seeded users get an invitation (and its email), as most users of a
# corporation have; the seed alone has none.
if [ "${INVITE:-0}" -gt 0 ]; then
  "$venv/bin/python" - "$started_base" <<'PY'
import os, sys, httpx
ids = open(os.environ["IDS_FILE"]).read().split()
with httpx.Client(headers={"Authorization": "Bearer " + os.environ["TOKEN"]}) as client:
    for user_id in ids[:int(os.environ["INVITE"])]:
        answer = client.post(sys.argv[1] + "/users/" + user_id + "/invite")
        assert answer.status_code < 300, (answer.status_code, answer.text[:300])
PY
  sleep 3 # the mail sender delivers them (to files), so each email reads as sent
fi
kill "$started_pid"
wait "$started_pid" 2>/dev/null || true
id=$(head -n1 "$IDS_FILE")

# Sends $3 requests of method $1 to $2 one after the other; a PATCH gives the user a new job
# title each time ($4 keeps the warm-up's titles apart from the counted ones), a real write.
send() {
  "$venv/bin/python" - "$@" <<'PY'
import os, sys, httpx
method, url, count, phase = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
with httpx.Client(headers={"Authorization": "Bearer " + os.environ["TOKEN"]}) as client:
    for n in range(count):
        body = {"job_title": f"Functie {phase} {n}"} if method == "PATCH" else None
        answer = client.request(method, url, json=body)
        assert answer.status_code == 200, (answer.status_code, answer.text[:300])
PY
}

echo "| build | path | instructions per request |"
echo "|---|---|---|"
for build in "$@"; do
  rm -f "$work"/run.sqlite*
  # SQLite's backup, not cp: the last writes may still be in the seed's write-ahead log.
  python3 -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).backup(sqlite3.connect(sys.argv[2]))' "$work/seed.sqlite" "$work/run.sqlite"
  start "$build" "$work/run.sqlite" "valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file=$work/callgrind.%p"
  for spec in $paths; do
    method=GET path=${spec//\{id\}/$id}
    case "$spec" in PATCH:*) method=PATCH path=${path#PATCH:} ;; esac
    send "$method" "$started_base$path" 20 warm >/dev/null
    callgrind_control -z "$started_pid" >/dev/null 2>&1
    callgrind_control -i on "$started_pid" >/dev/null 2>&1
    send "$method" "$started_base$path" "$requests" counted
    callgrind_control -i off "$started_pid" >/dev/null 2>&1
    before=$(ls "$work"/callgrind.* 2>/dev/null | wc -l)
    callgrind_control -d "$started_pid" >/dev/null 2>&1
    for _ in $(seq 1 50); do [ "$(ls "$work"/callgrind.* | wc -l)" -gt "$before" ] && break; sleep 0.2; done
    dump=$(ls -t "$work"/callgrind.* | head -n1)
    total=$(awk '/^totals:/ {print $2; exit}' "$dump")
    echo "| $build | ${spec} | $((total / requests)) |"
  done
  kill "$started_pid"
  wait "$started_pid" 2>/dev/null || true
done
