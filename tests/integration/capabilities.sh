#!/usr/bin/env bash
# tests/integration/capabilities.sh — the Tarmac capabilities through the real `apron serve`:
# examples/reverse (kvstore + metrics), examples/guestbook (sql) and examples/fetch (httpclient)
# from build/examples/, on the embedded back ends by default (LMDB, SQLite), against a local
# HTTP server (python3 -m http.server on 127.0.0.1):
#   - reverse twice (miss, then a cache hit seen on /metrics), values surviving a restart;
#   - guestbook rows across calls; /ready 200 with both back ends;
#   - fetch of a local file; allowed_hosts: another host → 403 text; a slow remote does not
#     stall other requests;
#   - the httpprobe guest (the host's raw answer): allowed_hosts → status 403 on the JSON and
#     protobuf paths, a redirect from an allowed host to another → 403; an HTTPS fixture with a
#     self-signed certificate made here with openssl: `insecure` → 200, without it → 500
#     (certificate problem), both paths; a body cut short → Tarmac's body read error;
#   - a guest waiting on SQLite's write lock (held 2.5 s by another process) does not stall other
#     requests, under http_threading "connection" and "event-loop";
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

for w in examples/reverse examples/guestbook examples/fetch tests/guests/httpprobe \
    tests/guests/sqlprobe; do
    if [ ! -f "$build/$w.wasm" ]; then
        echo "capabilities: $build/$w.wasm missing (clang/wasi-libc?): skipping"
        skip_case "capabilities" "guests not built"
        finish
    fi
done
if ! command -v python3 >/dev/null || ! command -v curl >/dev/null; then
    skip_case "capabilities" "python3 or curl missing"
    finish
fi

# ---- a local HTTP server: files, a slow path, a redirect to localhost, a body cut short; with
# a certificate and key as arguments it serves HTTPS ----
mkdir -p "$tmp/www"
printf 'hello from the fixture\n' >"$tmp/www/file.txt"
cat >"$tmp/www.py" <<'PY'
import http.server, ssl, sys, time
class H(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):
        if self.path.startswith("/slow"):
            time.sleep(3)
            self.send_response(200); self.send_header("Content-Length", "4"); self.end_headers()
            self.wfile.write(b"slow"); return
        if self.path.startswith("/away"):
            self.send_response(302)
            self.send_header("Location", "http://localhost:%d/file.txt" % self.server.server_address[1])
            self.send_header("Content-Length", "0"); self.end_headers(); return
        if self.path.startswith("/short"):
            self.send_response(200); self.send_header("Content-Length", "100"); self.end_headers()
            self.wfile.write(b"0123456789"); self.wfile.flush()
            self.close_connection = True; return
        return super().do_GET()
    def log_message(self, *a): pass
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: H(*a, directory=sys.argv[1]))
if len(sys.argv) > 3:
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(sys.argv[2], sys.argv[3])
    s.socket = ctx.wrap_socket(s.socket, server_side=True)
print(s.server_address[1], flush=True)
s.serve_forever()
PY
fixture() { # PORTFILE [CERT KEY]: starts www.py in the background; its port lands in PORTFILE
    python3 "$tmp/www.py" "$tmp/www" "${@:2}" >"$tmp/$1" 2>/dev/null &
    pids+=($!)
    for _ in $(seq 100); do [ -s "$tmp/$1" ] && break; sleep 0.05; done
}
fixture www.port
wport=$(head -1 "$tmp/www.port")
[ -n "$wport" ] || { fail_case "http fixture starts" "no port"; finish; }
site=http://127.0.0.1:$wport
# the HTTPS fixture: a self-signed certificate for 127.0.0.1, made now
sport=
if command -v openssl >/dev/null &&
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
        -subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1,DNS:localhost \
        -keyout "$tmp/tls.key" -out "$tmp/tls.crt" >"$tmp/openssl.log" 2>&1; then
    fixture tls.port "$tmp/tls.crt" "$tmp/tls.key"
    sport=$(head -1 "$tmp/tls.port")
fi

# ---- tarmac.json: the examples, fetch limited to the fixture's host ----
cat >"$tmp/tarmac.json" <<EOF2
{"services": {"caps": {"name": "caps",
  "functions": {
    "reverse": {"filepath": "$build/examples/reverse.wasm", "pool_size": 4},
    "guestbook": {"filepath": "$build/examples/guestbook.wasm", "pool_size": 2},
    "fetch": {"filepath": "$build/examples/fetch.wasm", "pool_size": 4,
              "allowed_hosts": ["127.0.0.1:$wport"]},
    "fetchany": {"filepath": "$build/examples/fetch.wasm", "pool_size": 2},
    "httpguard": {"filepath": "$build/tests/guests/httpprobe.wasm", "pool_size": 2,
                  "allowed_hosts": ["127.0.0.1:$wport"]},
    "httpany": {"filepath": "$build/tests/guests/httpprobe.wasm", "pool_size": 2},
    "sql": {"filepath": "$build/tests/guests/sqlprobe.wasm", "pool_size": 4}},
  "routes": [
    {"type": "http", "path": "/reverse", "methods": ["POST"], "function": "reverse"},
    {"type": "http", "path": "/guestbook", "methods": ["POST"], "function": "guestbook"},
    {"type": "http", "path": "/fetch", "methods": ["POST"], "function": "fetch"},
    {"type": "http", "path": "/fetchany", "methods": ["POST"], "function": "fetchany"},
    {"type": "http", "path": "/httpguard", "methods": ["POST"], "function": "httpguard"},
    {"type": "http", "path": "/httpany", "methods": ["POST"], "function": "httpany"},
    {"type": "http", "path": "/sql", "methods": ["POST"], "function": "sql"}]}}}
EOF2

kv_settings=${CAP_KV_SETTINGS:-"APP_KVSTORE_TYPE=lmdb APP_BOLTDB_FILENAME=$tmp/kv.lmdb"}
sql_settings=${CAP_SQL_SETTINGS:-"APP_SQL_TYPE=sqlite APP_SQL_DSN=$tmp/guestbook.sqlite3"}
mode_settings= # APP_HTTP_THREADING and friends
base=
start() {
    : >"$tmp/apron.log"
    # shellcheck disable=SC2086
    env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_ENABLE_SQL=true $kv_settings $sql_settings \
        $mode_settings "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$tmp/apron.log" 2>&1 &
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
timed_post() { # NAME PATH DATA BODY_REGEX: 200 with a matching body in under 1 s
    local t0 got dt
    t0=$(date +%s%N)
    got=$(post "$2" "$3")
    dt=$((($(date +%s%N) - t0) / 1000000))
    expect "$1 answers in under 1 s (${dt} ms)" \
        "$([ "$got" = 200 ] && grep -qE -- "$4" "$tmp/body" && [ $dt -lt 1000 ]; echo $?)" \
        "status $got after $dt ms: $(head -c 300 "$tmp/body")"
}

# httpprobe answers "ok" or "error: TEXT" on its first line, then the host's response bytes.
pb_req() { # URL [insecure]: a protobuf HTTPClient{url, insecure} into $tmp/pb
    printf '\x1a' >"$tmp/pb"
    printf "\\x$(printf %02x ${#1})" >>"$tmp/pb"
    printf '%s' "$1" >>"$tmp/pb"
    [ -z "${2:-}" ] || printf '\x28\x01' >>"$tmp/pb"
}
case_probe() { # NAME PATH DATA LINE1_REGEX REPLY_REGEX ("hex:REGEX" matches the reply in hex)
    local got line1 reply
    got=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' --data-binary "$3" "$base$2")
    line1=$(head -1 "$tmp/body")
    case $5 in
    hex:*) reply=$(tail -n +2 "$tmp/body" | od -An -tx1 -v | tr -d ' \n') ;;
    *) reply=$(tail -n +2 "$tmp/body" | tr -d '\0') ;;
    esac
    if [ "$got" = 200 ] && [[ $line1 =~ $4 ]] && [[ $reply =~ ${5#hex:} ]]; then
        ok_case "$1"
    else
        fail_case "$1" "status $got, first line '$line1' (want /$4/), reply '${reply:0:300}' (want /${5#hex:}/)"
    fi
}

# A guest waiting on SQLite's write lock (held 2.5 s by another process) holds neither another
# function nor the SQL back end: /reverse and a read through /sql answer in under 1 s meanwhile.
cat >"$tmp/lock.py" <<'PY'
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=5)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
c.execute("ROLLBACK")
PY
blocked_sql() { # MODE
    local mode=$1 t=slow_${1//-/_} got secs lockpid slow
    if [ -n "${CAP_SQL_SETTINGS:-}" ]; then
        skip_case "sqlite lock ($mode)" "CAP_SQL_SETTINGS is set: the case needs the SQLite store"
        return
    fi
    case_post "sqlite lock ($mode): create a table" /sql "CREATE TABLE $t (x int)" 200 '^(null|\[\])$'
    python3 "$tmp/lock.py" "$tmp/guestbook.sqlite3" 2.5 >"$tmp/lock.out" 2>&1 &
    lockpid=$!
    pids+=($lockpid)
    for _ in $(seq 100); do grep -q locked "$tmp/lock.out" && break; sleep 0.05; done
    curl -s -m 10 -o "$tmp/slow.body" -w '%{http_code} %{time_total}' \
        --data-binary "INSERT INTO $t VALUES (1)" "$base/sql" >"$tmp/slow.out" &
    slow=$!
    sleep 0.3
    timed_post "sqlite lock ($mode): /reverse while an insert waits" /reverse "abc" '^cba$'
    timed_post "sqlite lock ($mode): a read through /sql while an insert waits" /sql \
        "SELECT count(*) AS n FROM $t" '^\[\{"n":0\}\]$'
    wait $slow
    read -r got secs <"$tmp/slow.out"
    expect "sqlite lock ($mode): the insert waits for the lock (${secs} s)" \
        "$([ "$got" = 200 ] && grep -q locked "$tmp/lock.out" &&
            awk -v s="$secs" 'BEGIN { exit !(s >= 2.0) }'; echo $?)" \
        "status $got after $secs s: $(head -c 300 "$tmp/slow.body"); locker: $(head -c 300 "$tmp/lock.out")"
    wait $lockpid
    case_post "sqlite lock ($mode): the row is there" /sql "SELECT count(*) AS n FROM $t" 200 \
        '^\[\{"n":1\}\]$'
}

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

# ---- httpclient: the host's own answer (httpprobe), JSON and protobuf ----
deny='Unable to execute HTTP request - host localhost is not in allowed_hosts'
case_probe "httpclient JSON: allowed host → status 200" /httpguard "{\"url\":\"$site/file.txt\"}" \
    '^ok$' '^\{"status":\{"code":200,"status":"OK"\},"code":200,'
case_probe "httpclient JSON: other host → status 403" /httpguard \
    "{\"url\":\"http://localhost:$wport/file.txt\"}" "^error: $deny\$" \
    "^\\{\"status\":\\{\"code\":403,\"status\":\"$deny\"\\},\"code\":0,\"headers\":null,\"body\":\"\"\\}\$"
pb_req "$site/file.txt"
case_probe "httpclient protobuf: allowed host → status 200, code 200" /httpguard "@$tmp/pb" '^ok$' \
    'hex:^0a0708c80112024f4b10c801'
pb_req "http://localhost:$wport/file.txt"
case_probe "httpclient protobuf: other host → status 403" /httpguard "@$tmp/pb" "^error: $deny\$" \
    'hex:^0a[0-9a-f]{2}08930312'
case_probe "httpclient: redirect from an allowed host to another → 403, not followed" /httpguard \
    "{\"url\":\"$site/away\"}" "^error: $deny\$" '"status":\{"code":403,.*"code":0,"headers":null'
case_probe "httpclient: the same redirect without allowed_hosts is followed" /httpany \
    "{\"url\":\"$site/away\"}" '^ok$' '"code":200,.*"body":"aGVsbG8gZnJvbSB0aGUgZml4dHVyZQo="'
case_probe "httpclient: a body cut short → 500 body read error, code and bytes kept" /httpany \
    "{\"url\":\"$site/short\"}" '^error: Unexpected error reading HTTP response body - ' \
    '^\{"status":\{"code":500,"status":"Unexpected error reading HTTP response body - .*"code":200,.*"body":"MDEyMzQ1Njc4OQ=="\}$'
if [ -n "$sport" ]; then
    tls=https://127.0.0.1:$sport/file.txt
    case_probe "https, self-signed, JSON insecure:true → 200" /httpany \
        "{\"url\":\"$tls\",\"insecure\":true}" '^ok$' \
        '^\{"status":\{"code":200,"status":"OK"\},"code":200,.*"body":"aGVsbG8gZnJvbSB0aGUgZml4dHVyZQo="\}$'
    case_probe "https, self-signed, JSON without insecure → 500 certificate problem" /httpany \
        "{\"url\":\"$tls\"}" "^error: Unable to execute HTTP request - GET $tls: SSL certificate problem: " \
        '^\{"status":\{"code":500,"status":"Unable to execute HTTP request - .*"code":0,"headers":null,"body":""\}$'
    pb_req "$tls" insecure
    case_probe "https, self-signed, protobuf insecure → 200" /httpany "@$tmp/pb" '^ok$' \
        'hex:^0a0708c80112024f4b10c801'
    pb_req "$tls"
    case_probe "https, self-signed, protobuf without insecure → 500" /httpany "@$tmp/pb" \
        '^error: Unable to execute HTTP request - .*SSL certificate problem' 'hex:^0a[0-9a-f]{2}08f40312'
else
    skip_case "https, self-signed" "openssl or the TLS fixture failed: $(tail -2 "$tmp/openssl.log" 2>/dev/null)"
fi
stop

# restart on the same stores, with http_threading "connection" (the first run had the default,
# "event-loop"): the cache entry and the rows are still there
mode_settings="APP_HTTP_THREADING=connection"
start
case_post "restart: reverse hits the stored value" /reverse "héllo" 200 '^olléh$'
expect "restart: a hit, no miss" "$([ "$(metric reverse_cache_hits)" = 1 ] && [ -z "$(metric reverse_cache_misses)" ]; echo $?)" \
    "hits=$(metric reverse_cache_hits) misses=$(metric reverse_cache_misses)"
case_post "restart: guestbook keeps its rows" /guestbook "Cy" 200 '"Ada".*"Bob".*"Cy"'
blocked_sql connection
stop

# the same under http_threading "event-loop" with 2 wasm workers (the waiting guest holds one)
mode_settings="APP_HTTP_THREADING=event-loop APP_WASM_WORKERS=2"
start
blocked_sql event-loop
stop
mode_settings=

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
