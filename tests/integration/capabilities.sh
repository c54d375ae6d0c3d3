#!/usr/bin/env bash
# tests/integration/capabilities.sh — the Tarmac capabilities through the real `apron serve`:
# examples/reverse (kvstore + metrics), examples/guestbook (sql) and examples/fetch (httpclient)
# from build/examples/, on the embedded back ends by default (LMDB, SQLite), against a local
# HTTP server (python3 -m http.server on 127.0.0.1):
#   - reverse twice (miss, then a cache hit seen on /metrics), values surviving a restart;
#   - guestbook rows across calls; /ready 200 with both back ends;
#   - fetch of a local file; allowed_hosts: another host → 403 text; a slow remote does not
#     stall other requests;
#   - wasm_callbacks and user metrics on /metrics.
# The back ends come from the environment, so the same cases run on the network stores:
#   CAP_KV_SETTINGS  APP_* assignments for the KV store  (default: LMDB in the test's folder)
#   CAP_SQL_SETTINGS APP_* assignments for the SQL store (default: SQLite in the test's folder)
#   e.g. CAP_KV_SETTINGS="APP_KVSTORE_TYPE=redis APP_REDIS_SERVER=127.0.0.1:6390"
# Output in cmocka's format (lib.sh).
#
# usage: tests/integration/capabilities.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/lib.sh"

pids=()
cleanup() {
    local p
    for p in "${pids[@]}"; do kill -KILL "$p" 2>/dev/null && wait "$p" 2>/dev/null; done
    rm -rf "$tmp"
}
trap cleanup EXIT

ok_case() { echo "[       OK ] $1"; pass=$((pass + 1)); }
fail_case() {
    echo "[  ERROR   ] $1: $2"
    echo "[  FAILED  ] $1"
    fail=$((fail + 1))
    failed_names+=("$1")
}
expect() { # NAME CONDITION-RESULT(0/1) DETAIL
    if [ "$2" = 0 ]; then ok_case "$1"; else fail_case "$1" "$3"; fi
}

for w in reverse guestbook fetch; do
    if [ ! -f "$build/examples/$w.wasm" ]; then
        echo "capabilities: $build/examples/$w.wasm missing (clang/wasi-libc?): skipping"
        skip_case "capabilities" "examples not built"
        finish
    fi
done
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
    skip_case "capabilities" "python3 or curl missing"
    finish
fi

# ---- a local HTTP server: files, and a slow path ----
mkdir -p "$tmp/www"
printf 'hello from the fixture\n' >"$tmp/www/file.txt"
cat >"$tmp/www.py" <<'PY'
import http.server, sys, time
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(3)
            self.send_response(200); self.send_header("Content-Length", "4"); self.end_headers()
            self.wfile.write(b"slow"); return
        return super().do_GET()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: H(*a, directory=sys.argv[1]))
print(s.server_address[1], flush=True)
s.serve_forever()
PY
python3 "$tmp/www.py" "$tmp/www" >"$tmp/www.port" 2>/dev/null &
pids+=($!)
for _ in $(seq 100); do [ -s "$tmp/www.port" ] && break; sleep 0.05; done
wport=$(head -1 "$tmp/www.port")
[ -n "$wport" ] || { fail_case "http fixture starts" "no port"; finish; }
site=http://127.0.0.1:$wport

# ---- tarmac.json: the examples, fetch limited to the fixture's host ----
cat >"$tmp/tarmac.json" <<EOF2
{"services": {"caps": {"name": "caps",
  "functions": {
    "reverse": {"filepath": "$build/examples/reverse.wasm", "pool_size": 4},
    "guestbook": {"filepath": "$build/examples/guestbook.wasm", "pool_size": 2},
    "fetch": {"filepath": "$build/examples/fetch.wasm", "pool_size": 4,
              "allowed_hosts": ["127.0.0.1:$wport"]},
    "fetchany": {"filepath": "$build/examples/fetch.wasm", "pool_size": 2}},
  "routes": [
    {"type": "http", "path": "/reverse", "methods": ["POST"], "function": "reverse"},
    {"type": "http", "path": "/guestbook", "methods": ["POST"], "function": "guestbook"},
    {"type": "http", "path": "/fetch", "methods": ["POST"], "function": "fetch"},
    {"type": "http", "path": "/fetchany", "methods": ["POST"], "function": "fetchany"}]}}}
EOF2

kv_settings=${CAP_KV_SETTINGS:-"APP_KVSTORE_TYPE=lmdb APP_BOLTDB_FILENAME=$tmp/kv.lmdb"}
sql_settings=${CAP_SQL_SETTINGS:-"APP_SQL_TYPE=sqlite APP_SQL_DSN=$tmp/guestbook.sqlite3"}
base=
start() {
    : >"$tmp/apron.log"
    # shellcheck disable=SC2086
    env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_ENABLE_SQL=true $kv_settings $sql_settings \
        "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$tmp/apron.log" 2>&1 &
    apid=$!
    pids+=($apid)
    for _ in $(seq 200); do
        base=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$tmp/apron.log" | head -1)
        [ -n "$base" ] && { base=http://$base; return 0; }
        kill -0 "$apid" 2>/dev/null || break
        sleep 0.05
    done
    fail_case "apron serve starts" "$(tail -n 20 "$tmp/apron.log")"
    finish
}
stop() {
    kill -TERM "$apid"
    wait "$apid"
    expect "apron exits 0 on SIGTERM" $? "exit status"
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/apron.log"; then
        fail_case "no sanitizer report" "$(grep -m3 -E 'Sanitizer|runtime error' "$tmp/apron.log")"
    fi
}
post() { # PATH DATA → body in $tmp/body, status echoed
    curl -s -m 10 -o "$tmp/body" -w '%{http_code}' --data-binary "$2" "$base$1"
}
case_post() { # NAME PATH DATA WANT_STATUS WANT_BODY_REGEX
    local got
    got=$(post "$2" "$3")
    if [ "$got" = "$4" ] && grep -qE -- "$5" "$tmp/body"; then
        ok_case "$1"
    else
        fail_case "$1" "status $got (want $4), body '$(head -c 300 "$tmp/body")' (want /$5/)"
    fi
}
metric() { curl -s -m 5 "$base/metrics" | grep -E "^$1 " | awk '{print $2}'; }

start
case_post "reverse: miss" /reverse "héllo" 200 '^olléh$'
case_post "reverse: hit" /reverse "héllo" 200 '^olléh$'
expect "reverse: one miss on /metrics" "$([ "$(metric reverse_cache_misses)" = 1 ]; echo $?)" \
    "reverse_cache_misses=$(metric reverse_cache_misses)"
expect "reverse: one hit on /metrics" "$([ "$(metric reverse_cache_hits)" = 1 ]; echo $?)" \
    "reverse_cache_hits=$(metric reverse_cache_hits)"
curl -s -m 5 "$base/metrics" >"$tmp/metrics"
expect "/metrics: wasm_callbacks for tarmac:get" \
    "$(grep -q '^wasm_callbacks_count{callback="tarmac:get"} ' "$tmp/metrics"; echo $?)" \
    "$(grep wasm_callbacks "$tmp/metrics" | head -5)"
expect "/metrics: user counter typed" "$(grep -q '^# TYPE reverse_cache_hits counter$' "$tmp/metrics"; echo $?)" \
    "no TYPE line"
case_post "guestbook: first row" /guestbook "Ada" 200 '^\{"added":1,"guests":\[\{"name":"Ada"\}\]\}$'
case_post "guestbook: second row" /guestbook "Bob" 200 '"guests":\[\{"name":"Ada"\},\{"name":"Bob"\}\]'
case_post "guestbook: bad name (guest's own check)" /guestbook "x'); DROP TABLE guestbook;--" 500 '.'
got=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$base/ready")
expect "/ready 200 with both back ends" "$([ "$got" = 200 ]; echo $?)" "got $got"

case_post "fetch: allowed host" /fetch "$site/file.txt" 200 '"code":200.*hello from the fixture'
case_post "fetch: remote 404 is a response" /fetch "$site/nope.txt" 200 '"code":404'
case_post "fetch: other host → 403" /fetch "http://localhost:$wport/file.txt" 500 \
    'host localhost is not in allowed_hosts'
grep -q '"status":{"code":403\|Unable to execute HTTP request - host localhost' "$tmp/apron.log"
expect "fetch: the 403 is logged as a callback error" $? "$(grep -m2 allowed_hosts "$tmp/apron.log")"
case_post "fetch: no allowed_hosts → any host" /fetchany "http://localhost:$wport/file.txt" 200 \
    '"code":200'
case_post "fetch: connection refused" /fetchany "http://127.0.0.1:1/" 500 'Unable to execute HTTP request'

# a guest waiting 3 s on a slow remote does not hold up others
curl -s -m 10 -o "$tmp/slow" --data-binary "$site/slow" "$base/fetch" &
slow=$!
sleep 0.3
t0=$(date +%s%N)
got=$(post /reverse "abc")
dt=$((($(date +%s%N) - t0) / 1000000))
expect "a slow httpclient call does not stall /reverse (${dt} ms)" \
    "$([ "$got" = 200 ] && [ $dt -lt 1500 ]; echo $?)" "status $got after $dt ms"
wait $slow
expect "the slow call completes" "$(grep -q '"body":"slow"' "$tmp/slow"; echo $?)" "$(head -c 200 "$tmp/slow")"
stop

# restart on the same stores: the cache entry and the rows are still there
start
case_post "restart: reverse hits the stored value" /reverse "héllo" 200 '^olléh$'
expect "restart: a hit, no miss" "$([ "$(metric reverse_cache_hits)" = 1 ] && [ -z "$(metric reverse_cache_misses)" ]; echo $?)" \
    "hits=$(metric reverse_cache_hits) misses=$(metric reverse_cache_misses)"
case_post "restart: guestbook keeps its rows" /guestbook "Cy" 200 '"Ada".*"Bob".*"Cy"'
stop

# function-to-function: a function calling itself stops at function_max_depth, cleanly
if [ -f "$build/tests/guests/http_call.wasm" ]; then
    # http_call.wasm calls tarmac:function:echo; here "echo" is http_call itself
    cat >"$tmp/f2f.json" <<EOF2
{"services": {"f2f": {"name": "f2f",
  "functions": {"echo": {"filepath": "$build/tests/guests/http_call.wasm", "pool_size": 8}},
  "routes": [{"type": "http", "path": "/loop", "methods": ["POST"], "function": "echo"},
             {"type": "function", "function": "echo"}]}}}
EOF2
    env APP_ENABLE_TLS=false APP_FUNCTION_MAX_DEPTH=4 \
        "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/f2f.json" >"$tmp/f2f.log" 2>&1 &
    fpid=$!
    pids+=($fpid)
    fbase=
    for _ in $(seq 200); do
        fbase=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$tmp/f2f.log" | head -1)
        [ -n "$fbase" ] && break
        sleep 0.05
    done
    t0=$(date +%s%N)
    got=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' --data-binary "x" "http://$fbase/loop")
    dt=$((($(date +%s%N) - t0) / 1000000))
    expect "function: a self-calling chain stops at function_max_depth (${dt} ms)" \
        "$([ "$got" = 500 ] && grep -q 'function call chain deeper than 4' "$tmp/body" && [ $dt -lt 3000 ]; echo $?)" \
        "status $got after $dt ms: $(head -c 300 "$tmp/body")"
    expect "function: 4 nested calls logged" \
        "$([ "$(grep -c '"depth":4' "$tmp/f2f.log")" -ge 1 ] && ! grep -q '"depth":5' "$tmp/f2f.log"; echo $?)" \
        "$(grep -c 'Function to Function' "$tmp/f2f.log") calls"
    kill -TERM $fpid
    wait $fpid
    expect "function: apron exits 0" $? "exit status"
else
    skip_case "function depth" "tests/guests/http_call.wasm not built"
fi

# a KV store that cannot open stops start-up with the reason
kv_settings="APP_KVSTORE_TYPE=cassandra"
env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=cassandra \
    "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$tmp/cass.log" 2>&1
rc=$?
expect "cassandra: start-up refused (exit $rc)" \
    "$([ $rc != 0 ] && grep -q 'cassandra is not supported' "$tmp/cass.log"; echo $?)" "$(tail -3 "$tmp/cass.log")"
env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_BOLTDB_FILENAME=/nonexistent/dir/kv.db \
    "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$tmp/lmdb.log" 2>&1
rc=$?
expect "lmdb: unusable path refused at start-up (exit $rc)" \
    "$([ $rc != 0 ] && grep -q 'lmdb: open /nonexistent/dir/kv.db' "$tmp/lmdb.log"; echo $?)" "$(tail -3 "$tmp/lmdb.log")"
finish
