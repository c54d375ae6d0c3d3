#!/usr/bin/env bash
# tests/integration/event_loop.sh — http_threading "event-loop" (the default) against the real
# `apron serve` on loopback: an epoll thread runs a function itself once its last 8 calls were
# quick and waited on nothing, and hands it to the wasm workers again as soon as a call breaks
# that (README "Threading"; /debug/stats tells which: `on_event_loop`):
#   - a quick function (echo) is run by the event loop after 10 calls and still answers every
#     request right, also 400 requests from 16 clients at once;
#   - a function that calls the kvstore (reverse) never is, however quick;
#   - a function that slept once (WASI poll_oneoff) goes back to the workers, so its next long
#     sleep holds no event-loop thread: 16 requests to echo on new connections answer meanwhile;
#   - with http_threading "connection" no function is marked.
# Cases print in cmocka's format so tests/run.sh counts them.
#
# usage: tests/integration/event_loop.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/report.sh"
. "$root/tests/integration/serve_lib.sh" # start, stop
expect() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

for tool in wat2wasm curl python3 xargs; do
    command -v $tool >/dev/null || { skip_case event_loop "$tool not installed"; finish; }
done
[ -x "$apron" ] || { bad "apron binary" "$apron missing"; finish; }
[ -f "$build/examples/reverse.wasm" ] || { bad "examples" "$build/examples/reverse.wasm missing"; finish; }

tmp=$(mktemp -d /tmp/apron-event-loop-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
for g in http_echo http_sleep; do
    wat2wasm "$root/tests/guests/wat/$g.wat" -o "$tmp/$g.wasm" || { bad "wat2wasm $g"; finish; }
done
cat >"$tmp/tarmac.json" <<JSON
{"services": {"svc": {"name": "svc",
  "functions": {"echo": {"filepath": "http_echo.wasm"},
                "nap": {"filepath": "http_sleep.wasm"},
                "reverse": {"filepath": "$build/examples/reverse.wasm"}},
  "routes": [
    {"type": "http", "path": "/echo", "methods": ["POST"], "function": "echo"},
    {"type": "http", "path": "/nap", "methods": ["POST"], "function": "nap"},
    {"type": "http", "path": "/reverse", "methods": ["POST"], "function": "reverse"}]}}}
JSON

# on_event_loop NAME: prints true or false, what /debug/stats says of function NAME.
on_event_loop() {
    curl -s "$base/debug/stats" | python3 -c '
import json, sys
d = json.load(sys.stdin)
print(str([f for f in d["functions"] if f["name"] == sys.argv[1]][0]["on_event_loop"]).lower())' "$1"
}
# calls N PATH [BODY]: N requests one after the other; prints how many answered 200.
calls() {
    local n=0
    for _ in $(seq "$1"); do
        [ "$(curl -s -o /dev/null -w '%{http_code}' --data-binary "${3-}" "$base$2")" = 200 ] && n=$((n + 1))
    done
    echo $n
}

serve() { start "$tmp/$1.log" "${@:2}" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; }

if serve main APP_ENABLE_PPROF=true APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=in-memory; then
    ok "event-loop server starts (the default threading)"
    got=$(on_event_loop echo)
    expect "a function not called yet runs on the workers" "$([ "$got" = false ]; echo $?)" "on_event_loop $got"
    n=$(calls 10 /echo x)
    got=$(on_event_loop echo)
    expect "after 10 quick calls the event loop runs echo itself" \
        "$([ "$n" = 10 ] && [ "$got" = true ]; echo $?)" "$n of 10 answered 200; on_event_loop $got"

    # 400 requests from 16 clients at once, each with its own body: every answer is its body.
    seq 400 | xargs -P 16 -I{} sh -c \
        'b=$(curl -s --data-binary "body-{}" "$1/echo"); [ "$b" = "body-{}" ] && echo ok || echo "bad {}: $b"' \
        _ "$base" >"$tmp/parallel"
    good=$(grep -c '^ok$' "$tmp/parallel")
    expect "400 concurrent requests run on the event loop each get their own body" \
        "$([ "$good" = 400 ]; echo $?)" "$good right; first wrong: $(grep -v '^ok$' "$tmp/parallel" | head -3)"
    got=$(on_event_loop echo)
    expect "echo is still run by the event loop after them" "$([ "$got" = true ]; echo $?)" "on_event_loop $got"

    n=$(calls 10 /reverse abc)
    body=$(curl -s --data-binary abc "$base/reverse")
    got=$(on_event_loop reverse)
    expect "a function calling the kvstore stays on the workers" \
        "$([ "$n" = 10 ] && [ "$body" = cba ] && [ "$got" = false ]; echo $?)" \
        "$n of 10 answered 200, body '$body', on_event_loop $got"

    # nap sleeps 100 ms per byte of payload: with none it is quick.
    n=$(calls 10 /nap)
    got=$(on_event_loop nap)
    expect "a guest that does not sleep is run by the event loop" \
        "$([ "$n" = 10 ] && [ "$got" = true ]; echo $?)" "$n of 10 answered 200; on_event_loop $got"
    body=$(curl -s --data-binary x "$base/nap")
    got=$(on_event_loop nap)
    expect "one call that sleeps (100 ms) sends it back to the workers" \
        "$([ "$body" = slept ] && [ "$got" = false ]; echo $?)" "body '$body', on_event_loop $got"
    # Now a 1.5 s sleep runs on a worker: no event-loop thread waits, so requests on new
    # connections (spread over every event-loop thread) answer meanwhile.
    curl -s -o "$tmp/nap" --data-binary 123456789012345 "$base/nap" &
    napper=$!
    sleep 0.2
    t0=$(date +%s%N)
    seq 16 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code}\n' --data-binary {} "$base/echo" >"$tmp/during"
    ms=$((($(date +%s%N) - t0) / 1000000))
    kill -0 "$napper" 2>/dev/null
    still=$?
    good=$(grep -c '^200$' "$tmp/during")
    expect "16 requests answer in ${ms} ms while the long sleep runs" \
        "$([ "$good" = 16 ] && [ $still -eq 0 ] && [ $ms -lt 1000 ]; echo $?)" \
        "$good answered 200 in $ms ms; sleep still running: $([ $still -eq 0 ] && echo yes || echo no)"
    wait "$napper"
    expect "the long sleep answers too" "$([ "$(cat "$tmp/nap")" = slept ]; echo $?)" "body '$(cat "$tmp/nap")'"
    stop
    rc=$?
    expect "SIGTERM → exit 0" $rc "exit status $rc"
else
    bad "event-loop server starts" "$(tail -5 "$tmp/main.log")"
fi

if serve connection APP_ENABLE_PPROF=true APP_HTTP_THREADING=connection; then
    n=$(calls 10 /echo x)
    got=$(on_event_loop echo)
    expect "connection threading: no function is marked on_event_loop" \
        "$([ "$n" = 10 ] && [ "$got" = false ]; echo $?)" "$n of 10 answered 200; on_event_loop $got"
    stop
else
    bad "connection-threading server starts" "$(tail -5 "$tmp/connection.log")"
fi
finish
