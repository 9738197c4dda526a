#!/usr/bin/env bash
# Swagger UI works in a real browser: headless Chromium loads /swagger-ui/ of the running binary,
# and the rendered DOM must list every operation of /openapi.json (one `opblock` per operation,
# each method + path present), with no error box from Swagger UI.
#
# Env: MIJNKWH_BIN (default target/debug/mijnkwh), CHROMIUM (default: chromium on PATH).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD

BIN=${MIJNKWH_BIN:-target/debug/mijnkwh}
case $BIN in /*) ;; *) BIN=$ROOT/$BIN ;; esac
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || true)}

say() { printf '[browser.sh %3ss] %s\n' "$SECONDS" "$*"; }
die() { say "FAIL: $*" >&2; exit 1; }

[ -x "$BIN" ] || die "no executable binary at $BIN (set MIJNKWH_BIN, or build it with cargo test)"
if [ -z "$CHROMIUM" ]; then
  # Debian's Chromium, as the machine's notes say; the build itself downloads nothing.
  apt-get install -y chromium >/dev/null 2>&1 || true
  CHROMIUM=$(command -v chromium || true)
fi
[ -n "$CHROMIUM" ] && [ -x "$CHROMIUM" ] || die "no chromium (apt-get install -y chromium)"
say "$("$CHROMIUM" --version 2>/dev/null | head -n1)"

. .ci/server.sh
start_server serve

curl -fsS "$BASE/openapi.json" -o "$WORK/openapi.json" || die "GET /openapi.json failed"

# Swagger UI fetches /openapi.json and renders asynchronously; the virtual time budget lets it
# finish before the DOM is dumped. A retry covers a slow first start of the browser profile.
for attempt in 1 2 3; do
  timeout 90 "$CHROMIUM" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage --disable-quic \
    --no-first-run --no-default-browser-check --disable-background-networking --disable-component-update \
    --disable-sync --disable-extensions --user-data-dir="$WORK/profile-$attempt" \
    --virtual-time-budget=15000 --dump-dom "$BASE/swagger-ui/" >"$WORK/dom.html" 2>"$WORK/chromium.log" || true
  grep -q 'opblock' "$WORK/dom.html" && break
  say "attempt $attempt: no operations rendered yet$( [ -s "$WORK/dom.html" ] || echo ' (empty DOM)')"
done

rc=0
python3 - "$WORK/openapi.json" "$WORK/dom.html" <<'EOF' || rc=$?
import json, sys
from html.parser import HTMLParser

doc = json.load(open(sys.argv[1]))
methods = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
expected = sorted((m.upper(), p) for p, ops in doc["paths"].items() for m in ops if m in methods)


class Dom(HTMLParser):
    """Counts `opblock` elements and reads each summary's method and data-path, in order."""

    def __init__(self):
        super().__init__()
        self.opblocks = 0
        self.ops = []
        self.errors = []
        self.title = ""
        self._want_method = False
        self._method = None
        self._in_error = 0
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        classes = (a.get("class") or "").split()
        if "opblock" in classes:
            self.opblocks += 1
        if "opblock-summary-method" in classes:
            self._want_method = True
        if "opblock-summary-path" in classes and a.get("data-path") is not None:
            self.ops.append((self._method, a["data-path"]))
            self._method = None
        if "errors-wrapper" in classes:
            self._in_error = 1
        if tag == "title":
            self._in_title = True

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        text = data.strip()
        if self._want_method and text:
            self._method, self._want_method = text.upper(), False
        if self._in_error and text:
            self.errors.append(text)
        if self._in_title:
            self.title += data


dom = Dom()
dom.feed(open(sys.argv[2], encoding="utf-8", errors="replace").read())
rendered = sorted(dom.ops)

problems = []
if dom.errors:
    problems.append("Swagger UI shows errors: " + " | ".join(dom.errors[:10]))
if dom.opblocks != len(expected):
    problems.append(f"{dom.opblocks} opblock elements rendered, /openapi.json has {len(expected)} operations")
missing = sorted(set(expected) - set(rendered))
extra = sorted(set(rendered) - set(expected))
if missing:
    problems.append("operations not rendered: " + ", ".join(f"{m} {p}" for m, p in missing))
if extra:
    problems.append("rendered operations not in the document: " + ", ".join(f"{m} {p}" for m, p in extra))
for must in (("POST", "/auth/login"), ("GET", "/users/{id}"), ("PATCH", "/users/{id}"), ("DELETE", "/users/{id}")):
    if must not in rendered:
        problems.append(f"{must[0]} {must[1]} is not on the page")

print(f"page title: {dom.title.strip()!r}; {dom.opblocks} opblocks, {len(rendered)} operation summaries, "
      f"{len(expected)} operations in /openapi.json")
if problems:
    for p in problems:
        print("FAIL: " + p)
    sys.exit(1)
print("OK: Swagger UI renders every operation: " + ", ".join(f"{m} {p}" for m, p in rendered[:6]) + ", ...")
EOF
if [ $rc != 0 ]; then
  say "FAILED; DOM size $(wc -c <"$WORK/dom.html") bytes; chromium stderr (last 20 lines):"
  grep -v "dbus" "$WORK/chromium.log" | tail -n 20 >&2
  exit 1
fi
say "OK"
