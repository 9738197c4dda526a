#!/usr/bin/env bash
# Benchmark: 10,000 users provisioned through the batch endpoint against single calls, on
# SQLite and on PostgreSQL, release build, one run. Usage: bench/provisioning.sh
set -euo pipefail
cd "$(dirname "$0")/.."
venv=target/bench-venv
[ -x "$venv/bin/python" ] || { python3 -m venv "$venv"; "$venv/bin/pip" install --quiet httpx; }
cargo build --release --quiet --locked
export ADMIN_EMAIL=bench@kwh.example.nl ADMIN_PASSWORD=bench-wachtwoord-123
pg_server="${BENCH_PG_URL:-postgres://postgres@127.0.0.1:5432/test}"

run() {
  local name=$1 url=$2 work
  work=$(mktemp -d)
  env DATABASE_URL="$url" BIND_ADDR=127.0.0.1:0 MAIL_DIR="$work/mail" JWT_SECRET=bench-signing-key-of-at-least-32-characters \
    KWH_ADMIN_EMAIL="$ADMIN_EMAIL" KWH_ADMIN_PASSWORD="$ADMIN_PASSWORD" RATE_LIMIT_PER_MINUTE=0 RUST_LOG=warn \
    target/release/mijnkwh > "$work/out.log" 2>&1 &
  local server=$!
  for _ in $(seq 1 100); do grep -q "running on" "$work/out.log" && break; sleep 0.1; done
  MIJNKWH_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out.log" | head -n1) "$venv/bin/python" bench/provisioning.py | sed "s/^| /| $name: /"
  kill "$server"; wait "$server" 2>/dev/null || true
  rm -rf "$work"
}

echo "| way | users | calls | time | rate |"
echo "|---|---|---|---|---|"
run SQLite "sqlite://$(mktemp -d)/bench.sqlite"
psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_bench" -c "CREATE DATABASE mijnkwh_bench" >/dev/null
run PostgreSQL "${pg_server%/*}/mijnkwh_bench"
psql "$pg_server" -qc "DROP DATABASE IF EXISTS mijnkwh_bench" >/dev/null
