#!/usr/bin/env bash
# Generates a Python client from openapi/openapi.json with openapi-python-client (PyPI), starts
# the service on a fresh SQLite file, and provisions 200 people from examples/people.csv with it.
set -euo pipefail
cd "$(dirname "$0")/.."

venv=target/examples-venv
if [ ! -x "$venv/bin/openapi-python-client" ]; then
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet "openapi-python-client==0.29.1"
fi
rm -rf target/generated-client
"$venv/bin/openapi-python-client" generate --path openapi/openapi.json --output-path target/generated-client \
  > target/generated-client.log 2>&1 || { cat target/generated-client.log; exit 1; }
"$venv/bin/pip" install --quiet --force-reinstall --no-deps ./target/generated-client
"$venv/bin/pip" install --quiet ./target/generated-client

cargo build --quiet --locked
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null || true; rm -rf "$work"' EXIT
export ADMIN_EMAIL=admin@voorbeeld.example.nl ADMIN_PASSWORD=voorbeeld-wachtwoord
env DATABASE_URL="sqlite://$work/example.sqlite" BIND_ADDR=127.0.0.1:0 MAIL_DIR="$work/mail" \
  KWH_ADMIN_EMAIL="$ADMIN_EMAIL" KWH_ADMIN_PASSWORD="$ADMIN_PASSWORD" RUST_LOG=warn \
  target/debug/mijnkwh > "$work/out.log" 2>&1 &
server=$!
for _ in $(seq 1 100); do grep -q "running on" "$work/out.log" && break; sleep 0.1; done
MIJNKWH_URL=$(grep -o 'http://127.0.0.1:[0-9]*' "$work/out.log" | head -n1)
export MIJNKWH_URL
echo "service at $MIJNKWH_URL"
"$venv/bin/python" examples/provision_from_csv.py
