#!/usr/bin/env bash
# tests/integration/make_run.sh — `make run` (tools/run.sh) as the README promises it: started the
# way the Makefile starts it (BUILD=<build folder>), on a free loopback port (APRON_RUN_LISTEN)
# with its database files in a temporary folder (APRON_RUN_DIR), every example route of
# examples/tarmac.json answers 200 with the right body: hello, reverse and its LMDB cache,
# guestbook on SQLite, fetch; the curl hints name every route; the data outlives a restart; a
# variable the user set (APP_ENABLE_SQL=false) is kept. Cases print in cmocka's format.
#
# usage: tests/integration/make_run.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
. "$root/tests/integration/report.sh"

command -v curl >/dev/null || { skip_case "make run" "curl not installed"; finish; }
[ -x "$build/apron" ] || { bad "apron binary" "$build/apron missing"; finish; }
[ -f "$build/examples/guestbook.wasm" ] || { skip_case "make run" "the C examples were not built"; finish; }

tmp=$(mktemp -d /tmp/apron-make-run-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
on_failure() { [ -f "$tmp/log" ] && tail -n 30 "$tmp/log"; }

# The settings run.sh fills in must come from run.sh, not from whoever runs the suite.
unset APP_ENABLE_KVSTORE APP_BOLTDB_FILENAME APP_KVSTORE_TYPE APP_ENABLE_SQL APP_SQL_TYPE APP_SQL_DSN
unset APP_WASM_FUNCTION_CONFIG APP_LISTEN_ADDR

# run LOG [ENV...]: tools/run.sh in the background (it execs apron: pid is the server's); waits
# for the "listening on" line (up to 120 s: run.sh first checks the packages and runs ninja).
# Sets base.
run() {
    local log=$1; shift
    (cd "$tmp" && exec env BUILD="$build" APRON_RUN_LISTEN=127.0.0.1:0 APRON_RUN_DIR="$tmp/run" \
        "$@" "$root/tools/run.sh") >"$log" 2>&1 &
    pid=$!
    base=
    local addr
    for _ in $(seq 1200); do
        addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$log" | head -1)
        [ -n "$addr" ] && { base=http://$addr; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid"; local rc=$?; pid=; return $rc; }

# check NAME WANT_STATUS WANT_BODY -- CURL_ARGS
check() {
    local name=$1 want=$2 body=$3; shift 3
    local got
    got=$(curl -s -m 20 -o "$tmp/body" -w '%{http_code}' "$@")
    if [ "$got" != "$want" ]; then bad "$name" "status $got, want $want ($(head -c 200 "$tmp/body"))"; return; fi
    if [ "$body" != "*" ] && [ "$(cat "$tmp/body")" != "$body" ]; then
        bad "$name" "body '$(head -c 200 "$tmp/body")', want '$body'"; return
    fi
    ok "$name"
}

# metric NAME VALUE: /metrics has the sample line "NAME VALUE".
metric() {
    if curl -s -m 5 "$base/metrics" | grep -qxF "$1 $2"; then ok "/metrics: $1 $2"
    else bad "/metrics: $1 $2" "$(curl -s -m 5 "$base/metrics" | grep "^$1" | head -1)"; fi
}

if ! run "$tmp/log"; then bad "tools/run.sh starts apron" "$(tail -n 20 "$tmp/log")"; finish; fi
ok "tools/run.sh starts apron and logs 'listening on'"
grep -qF '"enable_kvstore":true,"enable_sql":true' "$tmp/log" && ok "key-value and SQL on by default" ||
    bad "key-value and SQL on by default" "$(grep -F 'Starting apron' "$tmp/log")"
for route in hello reverse guestbook fetch; do
    grep -qE "^ +curl .*127\.0\.0\.1:0/$route " "$tmp/log" && ok "the hints show a curl for /$route" ||
        bad "the hints show a curl for /$route"
done

check "hello" 200 "Hello, apron" -d apron "$base/hello"
check "GET hello" 200 "Hello, " "$base/hello"
check "reverse (a cache miss)" 200 desserts -d stressed "$base/reverse"
check "reverse again (a cache hit)" 200 desserts -d stressed "$base/reverse"
check "reverse, PUT, UTF-8" 200 "ébac" -X PUT -d "cabé" "$base/reverse"
metric reverse_cache_misses 2
metric reverse_cache_hits 1
check "guestbook on SQLite" 200 '{"added":1,"guests":[{"name":"Ada"}]}' -d Ada "$base/guestbook"
check "guestbook, second guest" 200 '{"added":1,"guests":[{"name":"Ada"},{"name":"Bob"}]}' -d Bob "$base/guestbook"
check "guestbook refuses a bad name" 500 "*" -d "x'; DROP TABLE guestbook; --" "$base/guestbook"
check "fetch" 200 '{"code":200,"content_type":"text/plain; charset=utf-8","body":"Hello, "}' \
    -d "$base/hello" "$base/fetch"
for f in kv.db sql.db; do
    [ -s "$tmp/run/$f" ] && ok "the data is in APRON_RUN_DIR/$f" || bad "the data is in APRON_RUN_DIR/$f"
done
stop && ok "SIGTERM → exit 0" || bad "SIGTERM → exit 0"

# A restart keeps the data: the cache answers at once, the guest book goes on.
if run "$tmp/log2"; then
    check "after a restart: reverse" 200 desserts -d stressed "$base/reverse"
    metric reverse_cache_hits 1
    check "after a restart: guestbook" 200 '{"added":1,"guests":[{"name":"Ada"},{"name":"Bob"},{"name":"Cy"}]}' \
        -d Cy "$base/guestbook"
    stop
else bad "tools/run.sh starts again" "$(tail -n 20 "$tmp/log2")"; fi

# A variable the user set is kept.
if run "$tmp/log3" APP_ENABLE_SQL=false; then
    grep -qF '"enable_kvstore":true,"enable_sql":false' "$tmp/log3" && ok "APP_ENABLE_SQL=false is kept" ||
        bad "APP_ENABLE_SQL=false is kept" "$(grep -F 'Starting apron' "$tmp/log3")"
    check "without SQL, guestbook fails" 500 "*" -d Dee "$base/guestbook"
    check "without SQL, hello still answers" 200 "Hello, x" -d x "$base/hello"
    stop
else bad "tools/run.sh with APP_ENABLE_SQL=false starts" "$(tail -n 20 "$tmp/log3")"; fi
finish
