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
#   - while four clients hammer the hostile function, the healthy one answers every request (wrk
#     when installed, else curl), and the server exits 0 on SIGTERM with no sanitizer report.
# Cases print in cmocka's format so tests/run.sh counts them.
#
# usage: tests/integration/isolation.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
pass=0 fail=0 skip=0 failed=() skipped=() tmp=
ok() { echo "[       OK ] $1"; pass=$((pass + 1)); }
bad() { echo "[  ERROR   ] $1${2:+: $2}"; fail=$((fail + 1)); failed+=("$1"); }
skip_case() { echo "[  SKIPPED ] $1: $2"; skip=$((skip + 1)); skipped+=("$1"); }
finish() {
    echo "[==========] $((pass + fail + skip)) test(s) run."
    echo "[  PASSED  ] $pass test(s)."
    [ "$skip" -gt 0 ] && { echo "[  SKIPPED ] $skip test(s), listed below:"; printf '[  SKIPPED ] %s\n' "${skipped[@]}"; }
    if [ "$fail" -gt 0 ]; then
        echo "[  FAILED  ] $fail test(s), listed below:"; printf '[  FAILED  ] %s\n' "${failed[@]}"
        [ -n "$tmp" ] && [ -f "$tmp/log" ] && { echo "--- server log (tail)"; tail -n 40 "$tmp/log"; }
        exit 1
    fi
    exit 0
}

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
for g in http_echo iso_secret http_hostile iso_init_loop; do
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
    "initloop": {"filepath": "iso_init_loop.wasm", "pool_size": 1, "timeout_ms": 300}},
  "routes": [
    {"type": "http", "path": "/echo", "methods": ["POST"], "function": "echo"},
    {"type": "http", "path": "/secret/pool", "methods": ["POST"], "function": "secret_pool"},
    {"type": "http", "path": "/secret/request", "methods": ["POST"], "function": "secret_request"},
    {"type": "http", "path": "/hostile", "methods": ["POST"], "function": "hostile"},
    {"type": "http", "path": "/initloop", "methods": ["POST"], "function": "initloop"}]}}}
JSON

env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=in-memory "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" \
    >"$tmp/log" 2>&1 &
pid=$!
base=
for _ in $(seq 200); do
    addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$tmp/log" | head -1)
    [ -n "$addr" ] && { base=http://$addr; break; }
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
done
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

# Side by side under load: four clients keep the hostile function busy (loops, recursion, growth,
# garbage), while the healthy function must answer every request.
for op in l r g o; do
    ( while :; do curl -s -m 10 -o /dev/null -X POST --data-binary $op "$base/hostile"; done ) &
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

kill -TERM "$pid"
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then
    bad "SIGTERM stops the server" "still running after 5 s"
else
    wait "$pid"; rc=$?
    pid=
    [ $rc -eq 0 ] && ok "SIGTERM: exit 0" || bad "SIGTERM: exit 0" "exit $rc"
fi
if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/log"; then
    bad "no sanitizer report" "$(grep -m3 -E 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/log")"
else
    ok "no sanitizer report"
fi
finish
