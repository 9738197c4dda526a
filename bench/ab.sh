#!/usr/bin/env bash
# Interleaved A/B of two builds on one seeded database: the fairer measure of one change on a
# noisy shared machine (BENCHMARKS.md). Both binaries serve the same database at once; wrk
# alternates between them, round after round, with pgbench's primary-key SELECT in each round
# on PostgreSQL as the floor of that moment.
#
# Usage: bench/ab.sh BUILD_A BUILD_B [sqlite|postgres] [rounds, default 3] [seconds, default 8]
#        SCRIPTS="get_user.lua update_user.lua" CONNECTIONS=32 bench/ab.sh ...
# BUILD_A and BUILD_B are mijnkwh binaries (e.g. a release build of the commit before, kept
# aside with cp). RATE_LIMIT_PER_MINUTE=0; 2,000 users seeded through the batch endpoint.
# ENV_A / ENV_B add settings to one side only (ENV_B="DATABASE_POOL_SIZE=32": one build, two
# settings).
set -euo pipefail
cd "$(dirname "$0")/.."
a=$1 b=$2 backend=${3:-postgres} rounds=${4:-3} seconds=${5:-8}
scripts=${SCRIPTS:-get_user.lua}
connections=${CONNECTIONS:-32}
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
command -v pgbench >/dev/null || apt-get install -y postgresql-contrib >/dev/null
venv=target/bench-venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install --quiet httpx; }
pg_server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"
export ADMIN_EMAIL=bench@kwh.example.nl ADMIN_PASSWORD=bench-wachtwoord-123
work=$(mktemp -d)
case "$backend" in
  sqlite) url="sqlite://$work/ab.sqlite" ;;
  postgres)
    psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_ab" -c "CREATE DATABASE mijnkwh_ab" >/dev/null
    url="${pg_server%/*}/mijnkwh_ab" ;;
  *) echo "backend: sqlite or postgres" >&2; exit 2 ;;
esac

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT
start() {
  # shellcheck disable=SC2086 # $3: words of VAR=value
  env DATABASE_URL="$url" BIND_ADDR=127.0.0.1:0 MAIL_DIR="$work/mail" JWT_SECRET=bench-signing-key-of-at-least-32-characters \
    KWH_ADMIN_EMAIL="$ADMIN_EMAIL" KWH_ADMIN_PASSWORD="$ADMIN_PASSWORD" RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn $3 \
    "$1" >"$2" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 100); do grep -q "running on" "$2" && break; sleep 0.1; done
  started_base=$(grep -o 'http://127.0.0.1:[0-9]*' "$2" | head -n1)
}
start "$a" "$work/a.log" "${ENV_A:-}"
base_a=$started_base
start "$b" "$work/b.log" "${ENV_B:-}"
base_b=$started_base
TOKEN=$(curl -s "$base_a/auth/login" -H 'content-type: application/json' \
  -d "{\"email\":\"$ADMIN_EMAIL\",\"password\":\"$ADMIN_PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/')
export TOKEN IDS_FILE="$work/ids"
BENCH_USERS=2000 MIJNKWH_URL=$base_a "$venv/bin/python" bench/seed.py >&2
[ "$backend" = postgres ] && pgbench -q -i -s 10 "$url" >/dev/null 2>&1

run() { wrk -t2 -c"$connections" -d"${seconds}s" --timeout 30s -s "bench/lua/$1" "$2" 2>&1 >/dev/null | grep '^RESULT' | awk '{printf "%s req/s, p99 %s ms, p99.9 %s ms, errors %s", $2, $4, $5, $6}'; }
echo "A/B on $backend, $connections connections, ${seconds}s each; A = $a ${ENV_A:-}, B = $b ${ENV_B:-}"
for script in $scripts; do
  for round in $(seq 1 "$rounds"); do
    echo "$script round $round: A $(run "$script" "$base_a") | B $(run "$script" "$base_b")"
    if [ "$backend" = postgres ]; then
      echo "  pgbench -S, $connections clients: $(pgbench -n -S -c "$connections" -j 2 -T "$seconds" "$url" 2>/dev/null | awk '/^tps/ {print int($3)}') tps"
    fi
  done
done
kill "${pids[@]}" 2>/dev/null || true
wait 2>/dev/null || true
if [ "$backend" = postgres ]; then psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_ab" >/dev/null; fi
rm -rf "$work"
