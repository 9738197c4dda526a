#!/usr/bin/env bash
# Throughput against the machine's floor, in one run (issue #6, first part): release build on
# SQLite and PostgreSQL, 10,000 seeded users, wrk from a separate process on 127.0.0.1.
# Floors: GET /health/live (the HTTP stack alone) and pgbench's primary-key SELECT.
# Usage: bench/run.sh [seconds per scenario, default 10]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
venv=target/bench-venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install --quiet httpx; }
cargo build --release --quiet --locked
pg_server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export ADMIN_EMAIL=bench@kwh.example.nl ADMIN_PASSWORD=bench-wachtwoord-123

# wrk's summary as "req/s | p50 | p99".
measure() {
  local output
  output=$(wrk -t2 -c"$1" -d"${seconds}s" --latency "${@:2}" 2>&1)
  local rps p50 p99 errors
  rps=$(awk '/Requests\/sec/ {print int($2)}' <<<"$output")
  p50=$(awk '$1=="50%" {print $2}' <<<"$output")
  p99=$(awk '$1=="99%" {print $2}' <<<"$output")
  errors=$(awk '/Non-2xx|Socket errors/ {print}' <<<"$output" | tr '\n' ' ')
  echo "$rps | $p50 | $p99 | ${errors:-0}"
}

run_backend() {
  local name=$1 url=$2 work
  work=$(mktemp -d)
  env DATABASE_URL="$url" BIND_ADDR=127.0.0.1:0 MAIL_DIR="$work/mail" JWT_SECRET=bench-signing-key-of-at-least-32-characters \
    KWH_ADMIN_EMAIL="$ADMIN_EMAIL" KWH_ADMIN_PASSWORD="$ADMIN_PASSWORD" RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn \
    target/release/mijnkwh > "$work/out.log" 2>&1 &
  local server=$!
  for _ in $(seq 1 100); do grep -q "running on" "$work/out.log" && break; sleep 0.1; done
  local base
  base=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out.log" | head -n1)
  TOKEN=$(curl -s "$base/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  export TOKEN IDS_FILE="$work/ids"
  MIJNKWH_URL=$base "$venv/bin/python" bench/seed.py >&2
  for connections in 32 128; do
    echo "| $name | GET /health/live (floor) | $connections | $(measure "$connections" "$base/health/live") |"
    echo "| $name | GET /users/{id} | $connections | $(measure "$connections" -s bench/random_user.lua "$base") |"
    echo "| $name | GET /users?limit=50 | $connections | $(measure "$connections" -s bench/authorized.lua "$base/users?limit=50") |"
  done
  echo "| $name | peak RSS of the service | | $(awk '/VmHWM/ {print $2 " kB"}' "/proc/$server/status") | | | |"
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$work"
}

echo "| backend | scenario | connections | req/s | p50 | p99 | errors |"
echo "|---|---|---|---|---|---|---|"
run_backend SQLite "sqlite://$(mktemp -d)/bench.sqlite"
psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_bench" -c "CREATE DATABASE mijnkwh_bench" >/dev/null 2>&1
run_backend PostgreSQL "${pg_server%/*}/mijnkwh_bench"
pgbench -q -i -s 10 "${pg_server%/*}/mijnkwh_bench" >/dev/null 2>&1
for connections in 32 128; do
  # The server's max_connections (100 by default) refuses 128 clients: say so instead of failing.
  rps=$( (pgbench -n -S -c "$connections" -j 2 -T "$seconds" "${pg_server%/*}/mijnkwh_bench" 2>/dev/null || true) | awk '/^tps/ {print int($3)}')
  echo "| PostgreSQL | pgbench primary-key SELECT (floor) | $connections | ${rps:-refused by max_connections} | | | |"
done
psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_bench" >/dev/null 2>&1
