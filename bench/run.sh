#!/usr/bin/env bash
# Throughput and latency against the machine's floors, in one run (issue #6): release build,
# SQLite then PostgreSQL, seeded users, wrk from a separate process on 127.0.0.1.
# Floors measured in the same run: GET /health/live (the HTTP stack alone), pgbench's
# primary-key SELECT (PostgreSQL alone) and raw argon2id verifications on all cores.
#
# Usage: bench/run.sh [seconds per scenario, default 10]
#        BENCH_USERS=1000000 bench/run.sh   # the deep-page scenario at a million users
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-10}
users=${BENCH_USERS:-10000}
api_users=$((users < 10000 ? users : 10000))
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v pgbench >/dev/null || apt-get install -y postgresql-contrib >/dev/null
venv=target/bench-venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install --quiet httpx; }
cargo build --release --quiet --locked --bin mijnkwh --example argon2_floor
pg_server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
# The server is on this machine: no TLS between it and its clients (the service's libpq and
# pgbench alike). With TLS on loopback the reads' tails were ten times longer (BENCHMARKS.md,
# "Tails on PostgreSQL"); BENCH_PG_TLS=1 measures with it.
[ "${BENCH_PG_TLS:-0}" = 1 ] || export PGSSLMODE=disable
export ADMIN_EMAIL=bench@kwh.example.nl ADMIN_PASSWORD=bench-wachtwoord-123
results=$(mktemp)

# Runs one wrk scenario; prints a table row and keeps "backend|scenario|connections rps".
measure() {
  local backend=$1 scenario=$2 connections=$3 script=$4 url=$5 line
  line=$(wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s -s "bench/lua/$script" "$url" 2>&1 >/dev/null | grep '^RESULT' || echo "RESULT 0 - - - failed")
  read -r _ rps p50 p99 p999 errors <<<"$line"
  printf "%s|%s|%s\t%s\n" "$backend" "$scenario" "$connections" "$rps" >>"$results"
  echo "| $backend | $scenario | $connections | $rps | $p50 | $p99 | $p999 | $errors |"
}

rate() { awk -F"\t" -v key="$1|$2|$3" '$1 == key {print $2}' "$results"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.1f%%", 100 * a / b; else print "n/a" }'; }

# Starts the service on database $1 with RATE_LIMIT_PER_MINUTE=$3, its output in the file $2;
# sets started_pid and started_base. The first start on a database creates the kwh_admin.
start_service() {
  env DATABASE_URL="$1" BIND_ADDR=127.0.0.1:0 MAIL_DIR="$(dirname "$2")/mail" JWT_SECRET=bench-signing-key-of-at-least-32-characters \
    KWH_ADMIN_EMAIL="$ADMIN_EMAIL" KWH_ADMIN_PASSWORD="$ADMIN_PASSWORD" RATE_LIMIT_PER_MINUTE="$3" RUST_LOG=warn \
    target/release/mijnkwh >"$2" 2>&1 &
  started_pid=$!
  for _ in $(seq 1 100); do grep -q "running on" "$2" && break; sleep 0.1; done
  started_base=$(grep -o 'http://127.0.0.1:[0-9]*' "$2" | head -n1)
}

run_backend() {
  local backend=$1 url=$2 work base server deep_cursor limited
  work=$(mktemp -d)
  start_service "$url" "$work/out.log" 0
  server=$started_pid base=$started_base
  TOKEN=$(curl -s "$base/auth/login" -H 'content-type: application/json' \
    -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
  export TOKEN IDS_FILE="$work/ids"
  BENCH_USERS=$api_users MIJNKWH_URL=$base "$venv/bin/python" bench/seed.py >&2
  "$venv/bin/python" bench/seed_direct.py "$url" "$api_users" "$users"
  # A cursor 90% of the way through the walk by last name (the cursor is base64url JSON).
  deep_cursor=$(printf '{"s":"last_name","k":"Gebruiker %07d","i":""}' $((users * 9 / 10)) | base64 -w0 | tr '+/' '-_' | tr -d '=')
  # Accounts for the sign-in scenario: one per connection and more, each signing in rarely.
  export LOGIN_ACCOUNTS=160
  for n in $(seq 0 $((LOGIN_ACCOUNTS - 1))); do
    printf '%s\n' "$ADMIN_PASSWORD" | env DATABASE_URL="$url" JWT_SECRET=bench-signing-key-of-at-least-32-characters RUST_LOG=warn \
      target/release/mijnkwh create-admin --email "bench-login-$n@kwh.example.nl" --password-stdin >/dev/null
  done
  for connections in 32 128; do
    measure "$backend" "GET /health/live (floor)" "$connections" get.lua "$base/health/live"
    measure "$backend" "GET /users/{id}" "$connections" get_user.lua "$base"
    measure "$backend" "GET /users?limit=50 (first page)" "$connections" get.lua "$base/users?limit=50"
    measure "$backend" "GET /users?limit=50 (deep page)" "$connections" get.lua "$base/users?limit=50&cursor=$deep_cursor"
    measure "$backend" "POST /users" "$connections" create_user.lua "$base"
    measure "$backend" "PATCH /users/{id}" "$connections" update_user.lua "$base"
    measure "$backend" "POST /auth/login" "$connections" login.lua "$base"
    measure "$backend" "mixed (70% read, 10% list, 10% edit, 10% create)" "$connections" mixed.lua "$base"
  done
  # The scenarios above run without the rate limit; deployed, every request of a signed-in
  # caller is also counted (in the instance, written to the database every
  # RATE_LIMIT_SYNC_MS). A second instance on the same database with a limit this run cannot
  # reach shows what that costs, for every read.
  start_service "$url" "$work/limited.log" 1000000
  limited=$started_pid
  measure "$backend" "GET /users/{id}, rate limit counted" 32 get_user.lua "$started_base"
  measure "$backend" "GET /users?limit=50 (first page), rate limit counted" 32 get.lua "$started_base/users?limit=50"
  measure "$backend" "GET /users?limit=50 (deep page), rate limit counted" 32 get.lua "$started_base/users?limit=50&cursor=$deep_cursor"
  kill "$limited"
  wait "$limited" 2>/dev/null || true
  echo "| $backend | peak RSS of the service | | $(awk '/VmHWM/ {print int($2 / 1024) " MB"}' "/proc/$server/status") | | | | |"
  kill "$server"
  wait "$server" 2>/dev/null || true
  rm -rf "$work"
}

echo "Machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GB, $(date -u +%Y-%m-%d); $users users; ${seconds}s per scenario"
echo
echo "| backend | scenario | connections | req/s | p50 ms | p99 ms | p99.9 ms | errors |"
echo "|---|---|---|---|---|---|---|---|"
argon2=$(target/release/examples/argon2_floor "$seconds")
printf "floor|argon2|all\t%s\n" "$argon2" >>"$results"
echo "| — | raw argon2id verifications, all cores (floor) | | $argon2 | | | | |"
run_backend SQLite "sqlite://$(mktemp -d)/bench.sqlite"
psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_bench" -c "CREATE DATABASE mijnkwh_bench" >/dev/null
run_backend PostgreSQL "${pg_server%/*}/mijnkwh_bench"
pgbench -q -i -s 10 "${pg_server%/*}/mijnkwh_bench" >/dev/null 2>&1
for connections in 32 128; do
  # The server refuses more clients than max_connections (100 by default): 128 runs as 90.
  clients=$((connections > 90 ? 90 : connections))
  tps=$(pgbench -n -S -c "$clients" -j 2 -T "$seconds" "${pg_server%/*}/mijnkwh_bench" 2>/dev/null | awk '/^tps/ {print int($3)}')
  printf "PostgreSQL|pgbench|%s\t%s\n" "$connections" "${tps:-0}" >>"$results"
  echo "| PostgreSQL | pgbench primary-key SELECT (floor, $clients clients) | $connections | ${tps:-failed} | | | | |"
done
psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_bench" >/dev/null

echo
echo "| ratio (same run) | connections | SQLite | PostgreSQL | target |"
echo "|---|---|---|---|---|"
for c in 32 128; do
  pg_floor=$(awk -v a="$(rate PostgreSQL 'GET /health/live (floor)' $c)" -v b="$(rate PostgreSQL pgbench $c)" 'BEGIN {print (a < b ? a : b)}')
  echo "| GET /users/{id} ÷ floor (SQLite: /health/live; PostgreSQL: lower of /health/live and pgbench) | $c | $(ratio "$(rate SQLite 'GET /users/{id}' $c)" "$(rate SQLite 'GET /health/live (floor)' $c)") | $(ratio "$(rate PostgreSQL 'GET /users/{id}' $c)" "$pg_floor") | ≥ 40% / ≥ 50% |"
  echo "| GET /users?limit=50 ÷ /health/live | $c | $(ratio "$(rate SQLite 'GET /users?limit=50 (first page)' $c)" "$(rate SQLite 'GET /health/live (floor)' $c)") | $(ratio "$(rate PostgreSQL 'GET /users?limit=50 (first page)' $c)" "$(rate PostgreSQL 'GET /health/live (floor)' $c)") | ≥ 12% / ≥ 6% |"
  echo "| PATCH /users/{id}: PostgreSQL ÷ SQLite | $c | | $(ratio "$(rate PostgreSQL 'PATCH /users/{id}' $c)" "$(rate SQLite 'PATCH /users/{id}' $c)") | ≥ 50% |"
  echo "| deep page ÷ first page (req/s) | $c | $(ratio "$(rate SQLite 'GET /users?limit=50 (deep page)' $c)" "$(rate SQLite 'GET /users?limit=50 (first page)' $c)") | $(ratio "$(rate PostgreSQL 'GET /users?limit=50 (deep page)' $c)" "$(rate PostgreSQL 'GET /users?limit=50 (first page)' $c)") | ≥ 67% (cost ≤ 1.5×) |"
  echo "| POST /auth/login ÷ raw argon2id | $c | $(ratio "$(rate SQLite 'POST /auth/login' $c)" "$argon2") | $(ratio "$(rate PostgreSQL 'POST /auth/login' $c)" "$argon2") | ≥ 80% |"
done
for scenario in "GET /users/{id}" "GET /users?limit=50 (first page)" "GET /users?limit=50 (deep page)"; do
  echo "| $scenario with the rate limit counted ÷ without | 32 | $(ratio "$(rate SQLite "$scenario, rate limit counted" 32)" "$(rate SQLite "$scenario" 32)") | $(ratio "$(rate PostgreSQL "$scenario, rate limit counted" 32)" "$(rate PostgreSQL "$scenario" 32)") | ≥ 85% |"
done
rm -f "$results"
