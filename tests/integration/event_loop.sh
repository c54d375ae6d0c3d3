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
#   - a marked guest that turns slow holds its event-loop thread at most timeout_ms (a WASI sleep
#     is cut short by the deadline), and while it runs past its budget the other event-loop
#     threads hand further calls of it to the workers;
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

# marks FN PATH [BODY]: quick calls of FN until it is marked on_event_loop, up to 4 rounds of
# 10 (a call preempted on a busy machine may run past the 0.5 ms budget and restart the count);
# status 0 when marked. `why` says what was seen otherwise.
why=
marks() {
    local n got round
    for round in 1 2 3 4; do
        n=$(calls 10 "$2" "${3-}")
        got=$(on_event_loop "$1")
        [ "$n" = 10 ] && [ "$got" = true ] && return 0
    done
    why="$n of 10 answered 200 in round $round; on_event_loop $got"
    return 1
}
# promote CASE: nap marked, else CASE fails (the cases below would prove nothing).
promote() { marks nap /nap && return 0; bad "$1" "promotion failed: $why"; return 1; }

serve() { start "$tmp/$1.log" "${@:2}" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; }

if serve main APP_ENABLE_PPROF=true APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=in-memory; then
    ok "event-loop server starts (the default threading)"
    got=$(on_event_loop echo)
    expect "a function not called yet runs on the workers" "$([ "$got" = false ]; echo $?)" "on_event_loop $got"
    marks echo /echo x
    expect "after quick calls the event loop runs echo itself" $? "$why"

    # 400 requests from 16 clients at once, each with its own body: every answer is its body.
    seq 400 | xargs -P 16 -I{} sh -c \
        'b=$(curl -s --data-binary "body-{}" "$1/echo"); [ "$b" = "body-{}" ] && echo ok || echo "bad {}: $b"' \
        _ "$base" >"$tmp/parallel"
    good=$(grep -c '^ok$' "$tmp/parallel")
    expect "400 concurrent requests run on the event loop each get their own body" \
        "$([ "$good" = 400 ]; echo $?)" "$good right; first wrong: $(grep -v '^ok$' "$tmp/parallel" | head -3)"
    marks echo /echo x
    expect "echo is run by the event loop after them" $? "$why"

    n=$(calls 10 /reverse abc)
    body=$(curl -s --data-binary abc "$base/reverse")
    got=$(on_event_loop reverse)
    expect "a function calling the kvstore stays on the workers" \
        "$([ "$n" = 10 ] && [ "$body" = cba ] && [ "$got" = false ]; echo $?)" \
        "$n of 10 answered 200, body '$body', on_event_loop $got"

    # nap sleeps 100 ms per byte of payload: with none it is quick.
    marks nap /nap
    expect "a guest that does not sleep is run by the event loop" $? "$why"
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


# One event-loop thread, timeout_ms 1000: nap, run by the event loop, is asked to sleep 3 s. The
# deadline cuts the sleep short, so the thread's other connections wait about 1 s, not 3.
if serve one APP_ENABLE_PPROF=true APP_HTTP_THREADS=1 APP_TIMEOUT_MS=1000; then
    name="one event-loop thread: a marked guest that sleeps holds it at most timeout_ms"
    if promote "$name"; then
        curl -s -o /dev/null -w '%{http_code} %{time_total}' --data-binary 123456789012345678901234567890 \
            "$base/nap" >"$tmp/long" &
        napper=$!
        sleep 0.2
        health=$(curl -s -o /dev/null -w '%{http_code} %{time_total}' "$base/health")
        wait "$napper"
        read -r lcode lsecs <"$tmp/long"
        read -r hcode hsecs <<<"$health"
        python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) < 1.6 and float(sys.argv[2]) < 1.6 else 1)' "$lsecs" "$hsecs"
        timely=$?
        expect "$name (504 after ${lsecs} s, /health after ${hsecs} s)" \
            "$([ "$lcode" = 504 ] && [ "$hcode" = 200 ] && [ $timely -eq 0 ]; echo $?)" \
            "nap: $lcode after $lsecs s; /health: $hcode after $hsecs s"
    fi
    stop
else
    bad "one-thread server starts" "$(tail -5 "$tmp/one.log")"
fi

# Two event-loop threads: while a marked nap sleeps 2 s on one, more 2 s naps arrive; the other
# thread sees the first call past its budget and hands them to the workers, so it stays free:
# some of 16 /health requests on new connections answer at once.
if serve two APP_ENABLE_PPROF=true APP_HTTP_THREADS=2; then
    name="two event-loop threads: a sleeping marked guest is not run on the other one"
    # 8 naps of 0.3 s at once leave 8 instances idle: a second nap finds one free on any thread.
    seq 8 | xargs -P 8 -I{} curl -s -o /dev/null --data-binary 123 "$base/nap"
    if promote "$name"; then
        curl -s -o /dev/null --data-binary 12345678901234567890 "$base/nap" &
        first=$!
        sleep 0.2
        more=()
        for _ in 1 2 3 4; do
            curl -s -o /dev/null --data-binary 12345678901234567890 "$base/nap" &
            more+=($!)
        done
        sleep 0.2
        seq 16 | xargs -P 16 -I{} curl -s -o /dev/null -w '%{http_code} %{time_total}\n' "$base/health" >"$tmp/health"
        fast=$(awk '$1 == 200 && $2 < 0.5' "$tmp/health" | wc -l)
        wait "$first" "${more[@]}"
        got=$(on_event_loop nap)
        expect "$name ($fast of 16 /health answered in under 0.5 s)" \
            "$([ "$fast" -ge 1 ] && [ "$got" = false ]; echo $?)" \
            "fast $fast; on_event_loop $got; $(tr '\n' ' ' <"$tmp/health")"
    fi
    stop
else
    bad "two-thread server starts" "$(tail -5 "$tmp/two.log")"
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
