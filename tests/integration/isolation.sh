#!/usr/bin/env bash
# tests/integration/isolation.sh — issue 7 against the real `apron serve`: per-function limits and
# isolation modes (docs/isolation.md), and hostile guests served beside a healthy one under load.
#   - request isolation: a guest that leaves a secret in memory and a global finds nothing on the
#     next request; pool isolation (the control) does find it;
#   - timeout_ms: an endless loop answers 504 "deadline exceeded" and its instance is replaced;
#   - timeout_ms bounds start-up too: once a guest's wapc_init loops forever (iso_init_loop), each
#     request that needs a new instance answers 504 "deadline exceeded" after the timeout, and
#     the other functions keep answering;
#   - endless recursion (500), memory.grow stopped at max_memory_pages, host calls with garbage
#     pointers and with a payload past max_host_payload (500);
#   - timeout_ms outside HTTP: a looping callee of tarmac:function fails the call with "deadline
#     exceeded" (the HTTP request that made it: 500, quickly; the slot is free again), a looping
#     scheduled task is stopped and logged run after run, a looping init function in job mode
#     ends `apron serve` with exit 1 in bounded time (iso_loop, iso_call);
#   - once a guest's wapc_init traps (iso_init_trap, armed), each request that needs a new
#     instance answers 500 with the trap, also under load;
#   - while four clients hammer the hostile function and two the trapping start-up, the healthy
#     one answers every request (wrk when installed, else curl), and the server exits 0 on
#     SIGTERM with no sanitizer report;
#   - the server-wide default APP_ISOLATION=request: a function without its own "isolation" key
#     gets request isolation, one with "pool" keeps pool; "isolation": "bogus" in tarmac.json and
#     APP_ISOLATION=bogus stop start-up with the reason.
# Cases print in cmocka's format so tests/run.sh counts them.
#
# usage: tests/integration/isolation.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/report.sh"
tmp=
on_failure() { [ -n "$tmp" ] && [ -f "$tmp/log" ] && { echo "--- server log (tail)"; tail -n 40 "$tmp/log"; }; }

for tool in wat2wasm curl; do
    command -v $tool >/dev/null || { skip_case isolation "$tool not installed"; finish; }
done
[ -x "$apron" ] || { bad "apron binary" "$apron missing"; finish; }

tmp=$(mktemp -d /tmp/apron-isolation-XXXXXX)
pid= hammer=()
cleanup() {
    for h in "${hammer[@]}"; do kill "$h" 2>/dev/null; done
    [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT
for g in http_echo iso_secret http_hostile iso_init_loop iso_loop iso_call iso_init_trap; do
    wat2wasm "$root/tests/guests/wat/$g.wat" -o "$tmp/$g.wasm" || { bad "wat2wasm $g"; finish; }
done
cat >"$tmp/tarmac.json" <<'JSON'
{"services": {"svc": {"name": "svc",
  "functions": {
    "echo": {"filepath": "http_echo.wasm", "pool_size": 8},
    "secret_pool": {"filepath": "iso_secret.wasm", "pool_size": 1, "isolation": "pool"},
    "secret_request": {"filepath": "iso_secret.wasm", "pool_size": 1, "isolation": "request"},
    "hostile": {"filepath": "http_hostile.wasm", "pool_size": 4, "timeout_ms": 300,
                "max_memory_pages": 40, "max_call_depth": 2000, "max_host_payload": 4096},
    "initloop": {"filepath": "iso_init_loop.wasm", "pool_size": 1, "timeout_ms": 300},
    "caller": {"filepath": "iso_call.wasm", "pool_size": 4, "timeout_ms": 5000},
    "loop": {"filepath": "iso_loop.wasm", "pool_size": 1, "timeout_ms": 200},
    "task_loop": {"filepath": "iso_loop.wasm", "pool_size": 1, "timeout_ms": 200},
    "inittrap": {"filepath": "iso_init_trap.wasm", "pool_size": 2}},
  "routes": [
    {"type": "http", "path": "/echo", "methods": ["POST"], "function": "echo"},
    {"type": "http", "path": "/secret/pool", "methods": ["POST"], "function": "secret_pool"},
    {"type": "http", "path": "/secret/request", "methods": ["POST"], "function": "secret_request"},
    {"type": "http", "path": "/hostile", "methods": ["POST"], "function": "hostile"},
    {"type": "http", "path": "/initloop", "methods": ["POST"], "function": "initloop"},
    {"type": "http", "path": "/call", "methods": ["POST"], "function": "caller"},
    {"type": "function", "function": "loop"},
    {"type": "function", "function": "echo"},
    {"type": "scheduled_task", "function": "task_loop", "frequency": 1},
    {"type": "http", "path": "/inittrap", "methods": ["POST"], "function": "inittrap"}]}}}
JSON

# serve LOG TARMAC [VAR=VALUE...]: starts `apron serve` in the background on a free port; sets pid
# and base (empty when it did not come up within 10 s).
serve() {
    local log=$1 functions=$2 addr
    shift 2
    env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=in-memory "$@" \
        "$apron" serve --listen 127.0.0.1:0 --functions "$functions" >"$log" 2>&1 &
    pid=$!
    base=
    for _ in $(seq 200); do
        addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$log" 2>/dev/null | head -1)
        [ -n "$addr" ] && { base=http://$addr; break; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
}
# stop NAME: SIGTERM, then exit 0 within 5 s.
stop() {
    kill -TERM "$pid"
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    if kill -0 "$pid" 2>/dev/null; then
        bad "$1: SIGTERM stops the server" "still running after 5 s"
        kill -KILL "$pid"; wait "$pid" 2>/dev/null
    else
        wait "$pid"; local rc=$?
        [ $rc -eq 0 ] && ok "$1: SIGTERM, exit 0" || bad "$1: SIGTERM, exit 0" "exit $rc"
    fi
    pid=
}
# within NAME MS LO HI: a case that MS lies in [LO, HI).
within() {
    if [ "$2" -ge "$3" ] && [ "$2" -lt "$4" ]; then ok "$1: ${2} ms"; else bad "$1: ${2} ms, want $3..$4"; fi
}
now_ms() { echo $(($(date +%s%N) / 1000000)); }

serve "$tmp/log" "$tmp/tarmac.json"
[ -n "$base" ] || { bad "server starts" "$(tail -n 20 "$tmp/log")"; finish; }

# check NAME WANT_STATUS BODY_PATTERN PATH DATA: status exact, body matched by grep -E.
check() {
    local name=$1 want=$2 pat=$3 path=$4 data=$5 got
    got=$(curl -s -m 20 -o "$tmp/body" -w '%{http_code}' -X POST --data-binary "$data" "$base$path")
    if [ "$got" != "$want" ]; then
        bad "$name" "status $got, want $want ($(head -c 200 "$tmp/body"))"
    elif ! grep -qE -- "$pat" "$tmp/body"; then
        bad "$name" "body '$(head -c 200 "$tmp/body")' does not match '$pat'"
    else
        ok "$name"
    fi
}

# Isolation: the second request sees the first one's secret in pool mode only.
check "pool isolation: first request" 200 '^calls=0 \.\.\.\.\.\.$' /secret/pool x
check "pool isolation: state persists (control)" 200 '^calls=1 SECRET$' /secret/pool x
check "request isolation: first request" 200 '^calls=0 \.\.\.\.\.\.$' /secret/request x
check "request isolation: no secret in memory or globals" 200 '^calls=0 \.\.\.\.\.\.$' /secret/request x
for i in 1 2 3; do
    check "request isolation: pristine again ($i)" 200 '^calls=0 \.\.\.\.\.\.$' /secret/request x
done

# Limits, one by one.
t0=$(date +%s%N)
check "timeout_ms: endless loop gets 504" 504 'deadline exceeded' /hostile l
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$ms" -ge 250 ] && [ "$ms" -lt 5000 ]; then ok "timeout_ms: answered after ${ms} ms (limit 300)"; else bad "timeout_ms: answered after ${ms} ms (limit 300)"; fi
check "instance replaced after the deadline" 200 '^fine$' /hostile z
check "endless recursion traps" 500 'call stack exhausted' /hostile r
check "max_memory_pages stops memory.grow" 200 '^grew to 40$' /hostile g
check "host call with garbage pointers traps" 500 'out of bounds memory access' /hostile o
check "host call payload past max_host_payload traps" 500 'host call payload too large' /hostile p
check "hostile function still serves" 200 '^fine$' /hostile z

# Start-up under timeout_ms: the first instance started (the server is up); "arm" makes wapc_init
# loop forever from now on and drops the instance, so every request needs a new one.
check "start-up deadline: first instance started" 200 '^started$' /initloop x
check "start-up deadline: arm (the instance traps)" 500 'unreachable' /initloop arm
for i in 1 2; do
    t0=$(date +%s%N)
    check "start-up deadline: wapc_init that never ends gets 504 ($i)" 504 'wapc_init.*deadline exceeded' /initloop x
    ms=$((($(date +%s%N) - t0) / 1000000))
    if [ "$ms" -ge 250 ] && [ "$ms" -lt 5000 ]; then ok "start-up deadline: answered after ${ms} ms (limit 300) ($i)"; else bad "start-up deadline: answered after ${ms} ms (limit 300) ($i)"; fi
    check "start-up deadline: other functions keep serving ($i)" 200 '^ping$' /echo ping
done

# timeout_ms through tarmac:function: iso_call calls the function its body names. The looping
# callee's own timeout_ms (200) ends it; the caller (timeout_ms 5000) gets the error text as its
# host call's error and fails with it: 500, not the caller's 504. Twice: the callee's only slot
# was freed.
check "function call: the callee answers (control)" 200 '^echo$' /call echo
for i in 1 2; do
    t0=$(now_ms)
    check "function call: looping callee fails the call with deadline exceeded, 500 ($i)" 500 \
        'deadline exceeded' /call loop
    within "function call: answered after the callee's timeout_ms 200 ($i)" $(($(now_ms) - t0)) 150 3000
done
check "function call: the caller still serves" 200 '^echo$' /call echo

# A trapping wapc_init: once armed, every new instance of the function fails to start; the
# request that needed it gets 500 with the trap, and the other functions keep serving.
check "trapping wapc_init: first instance started" 200 '^started$' /inittrap x
check "trapping wapc_init: arm (the instance traps)" 500 'unreachable' /inittrap arm
for i in 1 2; do
    check "trapping wapc_init: a new instance fails, 500 ($i)" 500 'wapc_init.*unreachable' /inittrap x
    check "trapping wapc_init: other functions keep serving ($i)" 200 '^ping$' /echo ping
done

# Side by side under load: four clients keep the hostile function busy (loops, recursion, growth,
# garbage) and two the trapping start-up (each status noted), while the healthy function must
# answer every request.
for op in l r g o; do
    ( while :; do curl -s -m 10 -o /dev/null -X POST --data-binary $op "$base/hostile"; done ) &
    hammer+=($!)
done
for _ in 1 2; do
    ( while :; do curl -s -m 10 -o /dev/null -w '%{http_code}\n' -X POST --data-binary x "$base/inittrap"; done ) >>"$tmp/inittrap.codes" &
    hammer+=($!)
done
sleep 0.5
if command -v wrk >/dev/null; then
    printf 'wrk.method = "POST"\nwrk.body = "ping"\n' >"$tmp/post.lua"
    wrk -t2 -c16 -d3s -s "$tmp/post.lua" "$base/echo" >"$tmp/wrk" 2>&1
    reqs=$(awk '/requests in/ {print $1}' "$tmp/wrk")
    if grep -qE 'Non-2xx|Socket errors' "$tmp/wrk" || [ "${reqs:-0}" -lt 100 ]; then
        bad "healthy function under load (wrk)" "$(tr '\n' ' ' <"$tmp/wrk")"
    else
        ok "healthy function under load: $reqs requests in 3 s, all 2xx (wrk)"
    fi
else
    n=0 good=0
    while [ $n -lt 300 ]; do
        [ "$(curl -s -m 5 -o /dev/null -w '%{http_code}' -X POST --data-binary ping "$base/echo")" = 200 ] && good=$((good + 1))
        n=$((n + 1))
    done
    if [ $good -eq $n ]; then ok "healthy function under load: $n/$n (curl)"; else bad "healthy function under load" "$good/$n answered 200"; fi
fi
for h in "${hammer[@]}"; do kill "$h" 2>/dev/null; wait "$h" 2>/dev/null; done
hammer=()
check "healthy function after the load" 200 '^ping$' /echo ping
check "hostile function after the load" 200 '^fine$' /hostile z
codes=$(sort "$tmp/inittrap.codes" | uniq -c | tr -s ' \n' ' ')
n=$(grep -c . "$tmp/inittrap.codes")
if [ "$n" -ge 10 ] && ! grep -qv '^500$' "$tmp/inittrap.codes"; then
    ok "trapping wapc_init under load: $n requests, all 500"
else
    bad "trapping wapc_init under load" "$n requests, statuses:$codes"
fi
check "trapping wapc_init after the load: still 500" 500 'wapc_init.*unreachable' /inittrap x

# The scheduled task (task_loop, every second since start-up, which took seconds by now) loops
# each run: each is stopped by timeout_ms and logged, and the next run gets a new instance.
runs=$(grep 'Scheduled Task exceeded timeout_ms' "$tmp/log" | grep '"task_loop"' | grep -c 'deadline exceeded')
if [ "$runs" -ge 2 ]; then
    ok "scheduled task: every looping run stopped and logged with deadline exceeded ($runs runs)"
else
    bad "scheduled task: looping runs stopped and logged" "$runs log lines, want 2 or more"
fi
check "scheduled task: other routes keep serving" 200 '^ping$' /echo ping

stop "server"
logs=("$tmp/log")

# timeout_ms in job mode: `apron serve` runs the init functions and exits. job NAME TARMAC runs
# it (at most 30 s), leaving rc, ms and the log in $tmp/NAME.log.
job() {
    local t0
    t0=$(now_ms)
    rc=0
    timeout 30 env APP_ENABLE_TLS=false APP_RUN_MODE=job "$apron" serve --listen 127.0.0.1:0 \
        --functions "$2" >"$tmp/$1.log" 2>&1 || rc=$?
    ms=$(($(now_ms) - t0))
    logs+=("$tmp/$1.log")
}
cat >"$tmp/job-ok.json" <<'JSON'
{"services": {"svc": {"name": "svc",
  "functions": {"echo": {"filepath": "http_echo.wasm", "pool_size": 1, "timeout_ms": 200}},
  "routes": [{"type": "init", "function": "echo"}]}}}
JSON
job job-ok "$tmp/job-ok.json"
if [ $rc -eq 0 ] && grep -q 'Run mode is job, exiting after init function execution' "$tmp/job-ok.log"; then
    ok "job mode: an init function that returns, exit 0 (control)"
else
    bad "job mode: an init function that returns, exit 0 (control)" "exit $rc: $(tail -n 3 "$tmp/job-ok.log")"
fi
cat >"$tmp/job-loop.json" <<'JSON'
{"services": {"svc": {"name": "svc",
  "functions": {"loop": {"filepath": "iso_loop.wasm", "pool_size": 1, "timeout_ms": 200}},
  "routes": [{"type": "init", "function": "loop", "retries": 1, "frequency": 1}]}}}
JSON
job job-loop "$tmp/job-loop.json"
attempts=$(grep 'Error executing Init Function' "$tmp/job-loop.log" | grep -c 'deadline exceeded')
if [ $rc -eq 1 ] && [ "$attempts" -eq 2 ] && grep -q 'init function exceeded retries' "$tmp/job-loop.log" &&
    ! grep -q 'Run mode is job, exiting' "$tmp/job-loop.log"; then
    ok "job mode: a looping init function, deadline exceeded on both attempts, exit 1"
else
    bad "job mode: a looping init function, deadline exceeded on both attempts, exit 1" \
        "exit $rc, $attempts attempts logged: $(tail -n 3 "$tmp/job-loop.log")"
fi
# two attempts of 200 ms with a 1 s pause between them
within "job mode: the looping init function ends in bounded time" "$ms" 1300 8000

# The server-wide default: APP_ISOLATION=request applies to every function without its own
# "isolation" key; a function's "pool" still wins.
cat >"$tmp/default.json" <<'JSON'
{"services": {"svc": {"name": "svc",
  "functions": {
    "secret_default": {"filepath": "iso_secret.wasm", "pool_size": 1},
    "secret_pool": {"filepath": "iso_secret.wasm", "pool_size": 1, "isolation": "pool"}},
  "routes": [
    {"type": "http", "path": "/secret/default", "methods": ["POST"], "function": "secret_default"},
    {"type": "http", "path": "/secret/pool", "methods": ["POST"], "function": "secret_pool"}]}}}
JSON
serve "$tmp/default.log" "$tmp/default.json" APP_ISOLATION=request
logs+=("$tmp/default.log")
if [ -z "$base" ]; then
    bad "APP_ISOLATION=request: server starts" "$(tail -n 5 "$tmp/default.log")"
else
    for i in 1 2 3; do
        check "APP_ISOLATION=request: a function without the key finds no secret ($i)" 200 \
            '^calls=0 \.\.\.\.\.\.$' /secret/default x
    done
    check "APP_ISOLATION=request: \"isolation\": \"pool\" still wins (first)" 200 '^calls=0 \.\.\.\.\.\.$' /secret/pool x
    check "APP_ISOLATION=request: \"isolation\": \"pool\" still wins (secret kept)" 200 '^calls=1 SECRET$' /secret/pool x
    stop "APP_ISOLATION=request"
fi

# Invalid isolation values stop start-up with the reason (exit 1, nothing served).
sed 's/"isolation": "pool"/"isolation": "bogus"/' "$tmp/default.json" >"$tmp/bogus.json"
rc=0
timeout 30 env APP_ENABLE_TLS=false "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/bogus.json" \
    >"$tmp/bogus.log" 2>&1 || rc=$?
logs+=("$tmp/bogus.log")
if [ $rc -eq 1 ] && grep -qF 'functions.secret_pool: "isolation" must be "pool" or "request", not "bogus"' "$tmp/bogus.log" &&
    ! grep -q 'listening on' "$tmp/bogus.log"; then
    ok "\"isolation\": \"bogus\" in tarmac.json stops start-up, naming the function"
else
    bad "\"isolation\": \"bogus\" in tarmac.json stops start-up, naming the function" "exit $rc: $(tail -n 3 "$tmp/bogus.log")"
fi
rc=0
timeout 30 env APP_ENABLE_TLS=false APP_ISOLATION=bogus "$apron" serve --listen 127.0.0.1:0 \
    --functions "$tmp/default.json" >"$tmp/bogus-env.log" 2>&1 || rc=$?
logs+=("$tmp/bogus-env.log")
if [ $rc -eq 1 ] && grep -q 'isolation must be' "$tmp/bogus-env.log" && grep -q '"bogus"' "$tmp/bogus-env.log" &&
    ! grep -q 'listening on' "$tmp/bogus-env.log"; then
    ok "APP_ISOLATION=bogus stops start-up"
else
    bad "APP_ISOLATION=bogus stops start-up" "exit $rc: $(tail -n 3 "$tmp/bogus-env.log")"
fi

if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "${logs[@]}"; then
    bad "no sanitizer report" "$(grep -h -m3 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "${logs[@]}")"
else
    ok "no sanitizer report"
fi
finish
