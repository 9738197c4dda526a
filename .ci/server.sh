# Sourced by the CI checks that need the real binary running: a fresh work folder, the binary
# on a fresh SQLite file in it (mail written to files), and its stop at exit.
# Needs BIN, say and die from the caller. `start_server ARGS...` passes ARGS to the binary
# (e.g. `serve --demo`); variables set in front of the call reach it too (SERVER_DATABASE_URL
# serves another database than the fresh SQLite file, SERVER_BIND_ADDR a chosen port). Sets WORK, SERVER_PID and BASE (the
# address it printed). `stop_server` ends it, for a script that starts another.

WORK=$(mktemp -d "/tmp/mijnkwh-$(basename "$0" .sh).XXXXXX")
SERVER_PID=
stop_server() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  SERVER_PID=
}
cleanup() {
  stop_server
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_server() {
  mkdir -p "$WORK/mail"
  # Emptied here, not by the background redirection below: the wait for the address must not
  # read a previous server's log.
  : >"$WORK/server.log"
  DATABASE_URL="${SERVER_DATABASE_URL:-sqlite://$WORK/mijnkwh.sqlite}" \
  BIND_ADDR="${SERVER_BIND_ADDR:-127.0.0.1:0}" \
  MAIL_TRANSPORT=file \
  MAIL_DIR="$WORK/mail" \
  JWT_SECRET="$(head -c 48 /dev/urandom | base64 | tr -d '/+=')" \
  KWH_ADMIN_EMAIL=${KWH_ADMIN_EMAIL:-ci-admin@example.nl} \
  KWH_ADMIN_PASSWORD=${KWH_ADMIN_PASSWORD:-"$(head -c 18 /dev/urandom | base64 | tr -d '/+=')-Aa1"} \
  RUST_LOG=${RUST_LOG:-warn} \
    "$BIN" "$@" >"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  BASE=
  for _ in $(seq 1 150); do
    BASE=$(grep -so 'running on http://[^ ]*' "$WORK/server.log" | head -n1 | sed 's/^running on //') || true
    [ -n "$BASE" ] && break
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log" >&2; die "the server exited at start"; }
    sleep 0.2
  done
  [ -n "$BASE" ] || { cat "$WORK/server.log" >&2; die "the server did not print its address within 30 s"; }
  say "server $BIN on $BASE (pid $SERVER_PID)"
}
