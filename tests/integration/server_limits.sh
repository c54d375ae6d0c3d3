#!/usr/bin/env bash
# tests/integration/server_limits.sh — more of issue 4 against the real `apron serve` on loopback
# (TARMAC.md §2, §8.2), the cases server.sh leaves out:
#   - limits Tarmac lacks: a 20 KB header → 431 and a 20 KB URI → 414 (max_header_size 16 KiB),
#     an idle keep-alive connection closed after http_idle_timeout, pool_size 1 with a slow guest
#     and a short pool_wait_timeout_ms → 503;
#   - a guest that gives a payload and an error (§8.2 #15 with §1.5's invocation rule 2);
#   - enable_maintenance_mode → /ready 503 (§8.2 #13); enable_pprof → every /debug/pprof URL of
#     §8.2 #5 below 400 and apron's own statistics (§11.7: pools, instances, memory, per-function
#     call counts and latencies) as JSON;
#   - mutual TLS with certificates made here by openssl: a client certificate from another CA is
#     refused; with ignore_client_cert no certificate is accepted and an untrusted one refused
#     (§2.1: "verified if presented");
#   - start-up: each of an unknown kvstore_type, redis without redis_server, an unreachable NATS,
#     a missing wasm_function in single-function mode, use_consul and an unreadable config file
#     exits non-zero with the reason; a missing config file only warns `No Config file found`
#     (§8.2 #2, #3); `apron` without a command prints a usage naming `serve`.
# Cases print in cmocka's format so tests/run.sh counts them.
#
# usage: tests/integration/server_limits.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/report.sh"
. "$root/tests/integration/serve_lib.sh" # start, stop
tmp= log=
on_failure() { [ -n "$log" ] && [ -f "$log" ] && { echo "--- last server log (tail)"; tail -n 20 "$log"; }; }
# expect NAME CONDITION_STATUS DETAIL: ok when the status is 0.
expect() { if [ "$2" -eq 0 ]; then ok "$1"; else bad "$1" "$3"; fi; }

for tool in wat2wasm curl; do
    command -v $tool >/dev/null || { skip_case server_limits "$tool not installed"; finish; }
done
[ -x "$apron" ] || { bad "apron binary" "$apron missing"; finish; }

tmp=$(mktemp -d /tmp/apron-limits-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
for g in http_echo http_sleep http_payload_error; do
    wat2wasm "$root/tests/guests/wat/$g.wat" -o "$tmp/$g.wasm" || { bad "wat2wasm $g"; finish; }
done
cat >"$tmp/tarmac.json" <<'JSON'
{"services": {"svc": {"name": "svc",
  "functions": {"echo": {"filepath": "http_echo.wasm", "pool_size": 4},
                "counted": {"filepath": "http_echo.wasm"},
                "never": {"filepath": "http_echo.wasm"},
                "slow": {"filepath": "http_sleep.wasm", "pool_size": 1},
                "both": {"filepath": "http_payload_error.wasm"}},
  "routes": [
    {"type": "http", "path": "/echo", "methods": ["GET", "POST"], "function": "echo"},
    {"type": "http", "path": "/counted", "methods": ["POST"], "function": "counted"},
    {"type": "http", "path": "/never", "methods": ["POST"], "function": "never"},
    {"type": "http", "path": "/slow", "methods": ["POST"], "function": "slow"},
    {"type": "http", "path": "/both", "methods": ["POST"], "function": "both"}]}}}
JSON
# Every server runs in a folder without conf/ (no config file) unless a case makes one.
mkdir -p "$tmp/cwd"

# serve NAME [ENV...]: starts apron serve (plain HTTP unless ENV says otherwise) on a free
# loopback port, logging to $tmp/NAME.log (log); sets pid, addr and base.
serve_cwd=$tmp/cwd
serve() {
    log=$tmp/$1.log
    start "$log" "${@:2}" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"
}

# status NAME WANT [BODY] -- CURL_ARGS: the response has status WANT (and body BODY if given).
status() {
    local name=$1 want=$2 body=${3-}; shift 4
    local got
    got=$(curl -s -o "$tmp/body" -w '%{http_code}' "$@")
    if [ "$got" != "$want" ]; then bad "$name" "status $got, want $want ($(head -c 200 "$tmp/body"))"; return; fi
    if [ -n "$body" ] && [ "$(cat "$tmp/body")" != "$body" ]; then
        bad "$name" "body '$(head -c 200 "$tmp/body")', want '$body'"; return
    fi
    ok "$name"
}

# ---- Limits, pool wait, payload + error, pprof statistics ----
if serve main APP_HTTP_IDLE_TIMEOUT=1 APP_POOL_WAIT_TIMEOUT_MS=200 APP_ENABLE_PPROF=true; then
    ok "server with http_idle_timeout 1, pool_wait_timeout_ms 200, enable_pprof starts"
    big=$(head -c 20480 /dev/zero | tr '\0' a)
    status "20 KB header → 431" 431 "" -- -d x -H "X-Big: $big" "$base/echo"
    status "8 KB header is within max_header_size → 200" 200 x -- -d x -H "X-Big: ${big:0:8192}" "$base/echo"
    status "20 KB URI → 414" 414 "" -- "$base/echo?q=$big"
    status "8 KB URI → 200" 200 "" -- "$base/echo?q=${big:0:8192}"

    # Idle keep-alive connection: one request, then nothing; the server closes it after ~1 s.
    host=${addr%:*} port=${addr##*:}
    if exec 3<>"/dev/tcp/$host/$port"; then
        printf 'GET /health HTTP/1.1\r\nHost: t\r\n\r\n' >&3
        t0=$(date +%s%N)
        timeout 10 cat <&3 >"$tmp/idle"
        rc=$?
        t1=$(date +%s%N)
        exec 3<&-
        ms=$(((t1 - t0) / 1000000))
        head -1 "$tmp/idle" | grep -q '^HTTP/1.1 200' && [ $rc -eq 0 ] && [ $ms -ge 700 ] && [ $ms -le 5000 ]
        expect "idle keep-alive connection closed after http_idle_timeout (${ms} ms)" $? \
            "cat exit $rc after $ms ms, first line: $(head -1 "$tmp/idle")"
    else
        bad "idle connection" "cannot connect to $addr"
    fi

    # pool_size 1: while a slow request (1.5 s asleep in the guest) holds the only instance,
    # another waits 200 ms for it → 503.
    curl -s -o "$tmp/slow_body" -w '%{http_code}' -d 123456789012345 "$base/slow" >"$tmp/slow_code" &
    cpid=$!
    sleep 0.3
    code=$(curl -s -o "$tmp/busy" -w '%{http_code}' -d x "$base/slow")
    kill -0 "$cpid" 2>/dev/null
    running=$?
    [ "$code" = 503 ] && [ $running -eq 0 ] &&
        grep -q '^failed to execute wasm module - could not fetch module from pool' "$tmp/busy"
    expect "pool_size 1 busy + pool_wait_timeout_ms 200 → 503" $? \
        "status $code, slow request still running: $([ $running -eq 0 ] && echo yes || echo no), body: $(head -c 200 "$tmp/busy")"
    wait "$cpid"
    [ "$(cat "$tmp/slow_code")" = 200 ] && [ "$(cat "$tmp/slow_body")" = slept ]
    expect "the slow request itself completes with 200" $? "$(cat "$tmp/slow_code") $(cat "$tmp/slow_body")"

    # TARMAC.md §2.5.5: a failure's body is the payload returned with the error if non-empty,
    # else the error text; §1.5 rule 2: a guest error drops the payload (Tarmac's engine returns
    # none), so both end as the error text, whether __guest_call returned 0 or 1.
    status "payload + error, __guest_call → 0: 500 with the error text" 500 \
        "failed to execute wasm module - test error" -- -X POST "$base/both"
    status "payload + error, __guest_call → 1: 500 with the error text" 500 \
        "failed to execute wasm module - test error" -- -d x "$base/both"

    # enable_pprof: every URL of §8.2 #5 answers below 400 (curl follows redirects).
    for u in debug/pprof debug/pprof/ debug/pprof/allocs debug/pprof/cmdline debug/pprof/goroutine \
        debug/pprof/heap debug/pprof/mutex debug/pprof/profile debug/pprof/threadcreate debug/pprof/trace; do
        code=$(curl -s -L -o "$tmp/pprof" -w '%{http_code}' "$base/$u")
        [ "$code" -lt 400 ] 2>/dev/null && grep -qF '"functions":[' "$tmp/pprof"
        expect "enable_pprof: /$u → $code with the statistics" $? "status $code: $(head -c 200 "$tmp/pprof")"
    done
    for i in 1 2 3; do curl -s -o /dev/null -d "n$i" "$base/counted"; done
    code=$(curl -s -o "$tmp/stats" -w '%{http_code}' -D "$tmp/stats_headers" "$base/debug/stats")
    [ "$code" = 200 ] && tr -d '\r' <"$tmp/stats_headers" | grep -qix 'Content-Type: application/json'
    expect "/debug/stats → 200 application/json" $? "status $code"
    if command -v jq >/dev/null; then json() { jq -e "$1" "$tmp/stats" >/dev/null 2>&1; }
    elif command -v python3 >/dev/null; then
        json() { python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); sys.exit(0 if eval(sys.argv[2]) else 1)' "$tmp/stats" "$2" 2>/dev/null; }
    else json() { return 2; }; fi
    # stat NAME JQ_EXPR PY_EXPR: the statistics satisfy the expression (jq, else python3).
    stat() {
        json "$2" "$3"; local rc=$?
        if [ $rc = 2 ]; then skip_case "$1" "neither jq nor python3 to read the JSON"; return; fi
        expect "$1" $rc "$(head -c 600 "$tmp/stats")"
    }
    fn() { echo "(.functions[] | select(.name == \"$1\"))"; }
    pyfn() { echo "[f for f in d['functions'] if f['name'] == '$1'][0]"; }
    # AddressSanitizer's allocator keeps no malloc count: the server reports null there
    heap_jq='.memory.heap_in_use_bytes > 0' heap_py="d['memory']['heap_in_use_bytes'] > 0"
    if nm "$apron" 2>/dev/null | grep -q __asan_init; then
        heap_jq='.memory.heap_in_use_bytes == null' heap_py="d['memory']['heap_in_use_bytes'] is None"
    fi
    stat "stats: resident, virtual and heap memory in bytes" \
        ".memory.rss_bytes > 0 and .memory.virtual_bytes >= .memory.rss_bytes and $heap_jq" \
        "d['memory']['rss_bytes'] > 0 and d['memory']['virtual_bytes'] >= d['memory']['rss_bytes'] and $heap_py"
    stat "stats: every function of the route table is listed" \
        '[.functions[].name] == ["echo", "counted", "never", "slow", "both"]' \
        "[f['name'] for f in d['functions']] == ['echo', 'counted', 'never', 'slow', 'both']"
    stat "stats: per-function call count (3 calls of counted)" "$(fn counted).calls == 3" "$(pyfn counted)['calls'] == 3"
    stat "stats: latencies of a called function are numbers" \
        "$(fn counted).latency_ms | (.mean >= 0 and .p50 >= 0 and .p90 >= .p50 and .p99 >= .p90)" \
        "(lambda l: l['mean'] >= 0 and l['p50'] >= 0 and l['p90'] >= l['p50'] and l['p99'] >= l['p90'])($(pyfn counted)['latency_ms'])"
    stat "stats: a function never called: 0 calls, latencies null" \
        "$(fn never) | .calls == 0 and .latency_ms.mean == null and .latency_ms.p99 == null" \
        "$(pyfn never)['calls'] == 0 and $(pyfn never)['latency_ms']['mean'] is None and $(pyfn never)['latency_ms']['p99'] is None"
    stat "stats: slow's pool (size 1, one instance, one pool-wait timeout, its 1.5 s call timed)" \
        "$(fn slow) | .pool_size == 1 and .live == 1 and .idle == 1 and .timeouts == 1 and .calls == 2 and .latency_ms.p99 >= 1500" \
        "(lambda f: f['pool_size'] == 1 and f['live'] == 1 and f['idle'] == 1 and f['timeouts'] == 1 and f['calls'] == 2 and f['latency_ms']['p99'] >= 1500)($(pyfn slow))"
    stat "stats: requests in flight (this one)" '.inflight == 1 and .running == 0' \
        "d['inflight'] == 1 and d['running'] == 0"
    stop
    rc=$?
    expect "SIGTERM → exit 0" $rc "exit status $rc"
else
    bad "server starts" "$(tail -5 "$log")"
fi

# ---- Maintenance mode ----
if serve maintenance APP_ENABLE_MAINTENANCE_MODE=true; then
    status "enable_maintenance_mode: /ready → 503" 503 "" -- "$base/ready"
    status "enable_maintenance_mode: /health → 200" 200 "" -- "$base/health"
    status "enable_maintenance_mode: functions still answer" 200 hi -- -d hi "$base/echo"
    stop
else
    bad "maintenance server starts" "$(tail -5 "$log")"
fi
# enable_pprof off (the default) → 403 on the same URLs (§8.2 #6).
if serve nopprof; then
    status "enable_pprof false: /debug/pprof/heap → 403" 403 "" -- "$base/debug/pprof/heap"
    status "enable_pprof false: /debug/stats → 403" 403 "" -- "$base/debug/stats"
    stop
else
    bad "server without pprof starts" "$(tail -5 "$log")"
fi

# ---- Mutual TLS with two CAs ----
if command -v openssl >/dev/null; then
    ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes "$@" >/dev/null 2>&1; }
    sign() { # sign NAME CA [EXTFILE]: NAME.pem from NAME.csr, signed by CA.
        openssl x509 -req -in "$tmp/$1.csr" -CA "$tmp/$2.pem" -CAkey "$tmp/$2.key" -CAcreateserial \
            -days 1 -out "$tmp/$1.pem" ${3:+-extfile "$3"} >/dev/null 2>&1
    }
    printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$tmp/san.ext"
    ec -x509 -days 1 -keyout "$tmp/ca_a.key" -out "$tmp/ca_a.pem" -subj /CN=apron-test-ca-a &&
        ec -x509 -days 1 -keyout "$tmp/ca_b.key" -out "$tmp/ca_b.pem" -subj /CN=apron-test-ca-b &&
        ec -keyout "$tmp/server.key" -out "$tmp/server.csr" -subj /CN=localhost &&
        ec -keyout "$tmp/client_a.key" -out "$tmp/client_a.csr" -subj /CN=client-a &&
        ec -keyout "$tmp/client_b.key" -out "$tmp/client_b.csr" -subj /CN=client-b &&
        sign server ca_a "$tmp/san.ext" && sign client_a ca_a && sign client_b ca_b
    if [ $? -ne 0 ]; then
        bad "openssl makes the test certificates"
    else
        tls=(APP_ENABLE_TLS=true APP_CERT_FILE="$tmp/server.pem" APP_KEY_FILE="$tmp/server.key" APP_CA_FILE="$tmp/ca_a.pem")
        a=(--cacert "$tmp/ca_a.pem" --cert "$tmp/client_a.pem" --key "$tmp/client_a.key")
        b=(--cacert "$tmp/ca_a.pem" --cert "$tmp/client_b.pem" --key "$tmp/client_b.key")
        if serve mtls "${tls[@]}"; then
            base=https://$addr
            status "mTLS: client certificate from the trusted CA → 200" 200 "" -- "${a[@]}" "$base/health"
            status "mTLS: client certificate from another CA → refused" 000 "" -- "${b[@]}" "$base/health"
            status "mTLS: no client certificate → refused" 000 "" -- --cacert "$tmp/ca_a.pem" "$base/health"
            stop
        else
            bad "mTLS server starts" "$(tail -5 "$log")"
        fi
        if serve ignore "${tls[@]}" APP_IGNORE_CLIENT_CERT=true; then
            base=https://$addr
            status "ignore_client_cert: no client certificate → 200" 200 Howdie -- --cacert "$tmp/ca_a.pem" -d Howdie "$base/echo"
            status "ignore_client_cert: untrusted client certificate → refused (verified if presented)" 000 "" -- "${b[@]}" "$base/health"
            status "ignore_client_cert: trusted client certificate → 200" 200 "" -- "${a[@]}" "$base/health"
            stop
        else
            bad "ignore_client_cert server starts" "$(tail -5 "$log")"
        fi
    fi
else
    skip_case "mutual TLS with two CAs" "openssl not installed"
fi

# ---- Start-up ----
# fails NAME TEXT [ENV...]: apron serve exits non-zero within 30 s, never listens, and its output
# contains TEXT.
fails() {
    local name=$1 text=$2; shift 2
    (cd "$tmp/cwd" && exec timeout 30 env APP_ENABLE_TLS=false "$@" "$apron" serve \
        --listen 127.0.0.1:0 --functions "$tmp/tarmac.json") >"$tmp/out" 2>&1
    local rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && ! grep -q 'listening on' "$tmp/out" && grep -qF -- "$text" "$tmp/out"
    expect "$name" $? "exit $rc: $(tail -c 600 "$tmp/out")"
}
fails "unknown kvstore_type → start-up error" 'unknown kvstore_type \"bogus\"' \
    APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=bogus
fails "enable_kvstore with redis and an empty redis_server → start-up error" \
    'redis: set redis_server' APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=redis APP_REDIS_SERVER=
fails "NATS unreachable → start-up error" 'nats: connect nats://127.0.0.1:1' \
    APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=nats APP_NATS_URL=nats://127.0.0.1:1
fails "use_consul → start-up error: not supported yet" '"error":"not supported yet"' APP_USE_CONSUL=true

# The listener (src/http/listener.c): an address without a port and a port already taken stop
# start-up with the reason; an IPv6 loopback address serves.
listen_fails() { # NAME TEXT ADDRESS
    (cd "$tmp/cwd" && exec timeout 30 env APP_ENABLE_TLS=false "$apron" serve --listen "$3" \
        --functions "$tmp/tarmac.json") >"$tmp/out" 2>&1
    local rc=$?
    [ $rc -ne 0 ] && [ $rc -ne 124 ] && ! grep -q 'listening on' "$tmp/out" && grep -qF -- "$2" "$tmp/out"
    expect "$1" $? "exit $rc: $(tail -c 600 "$tmp/out")"
}
listen_fails "listen address without a port → start-up error" \
    'listen address \"127.0.0.1\" is not host:port' 127.0.0.1
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen()
print(s.getsockname()[1], flush=True); time.sleep(30)' >"$tmp/taken" &
holder=$!
for _ in $(seq 100); do [ -s "$tmp/taken" ] && break; sleep 0.05; done
taken=$(cat "$tmp/taken")
listen_fails "port already taken → start-up error" \
    "cannot listen on 127.0.0.1:$taken: bind: Address already in use" "127.0.0.1:$taken"
kill "$holder" 2>/dev/null; wait "$holder" 2>/dev/null
if python3 -c 'import socket; socket.socket(socket.AF_INET6).bind(("::1", 0))' 2>/dev/null; then
    if start "$tmp/v6.log" "$apron" serve --listen '[::1]:0' --functions "$tmp/tarmac.json"; then
        status "IPv6 loopback: listening on $addr, /echo answers" 200 v6 -- -g -d v6 "$base/echo"
        stop
    else
        bad "IPv6 loopback server starts" "$(tail -5 "$tmp/v6.log")"
    fi
else
    skip_case "IPv6 loopback" "no IPv6 on this machine's loopback"
fi
# Single-function mode (no tarmac.json) with a wasm_function that does not exist.
(cd "$tmp/cwd" && exec timeout 30 env APP_ENABLE_TLS=false APP_WASM_FUNCTION="$tmp/nope.wasm" \
    "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/none.json") >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF "could not load default function path for wasm_function ($tmp/nope.wasm)" "$tmp/out"
expect "single-function mode, missing wasm_function → start-up error" $? "exit $rc: $(tail -c 600 "$tmp/out")"
# The same with a tarmac.json whose function file does not exist.
sed 's/"http_echo.wasm", "pool_size": 4/"gone.wasm", "pool_size": 4/' "$tmp/tarmac.json" >"$tmp/gone.json"
(cd "$tmp/cwd" && exec timeout 30 env APP_ENABLE_TLS=false "$apron" serve --listen 127.0.0.1:0 \
    --functions "$tmp/gone.json") >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF "could not load function echo from path $tmp/gone.wasm - " "$tmp/out"
expect "tarmac.json function file missing → start-up error" $? "exit $rc: $(tail -c 600 "$tmp/out")"
# No config file: a warning, not an error (job mode: exits after loading).
(cd "$tmp/cwd" && exec timeout 30 env APP_ENABLE_TLS=false APP_RUN_MODE=job "$apron" serve \
    --functions "$tmp/tarmac.json") >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -F '"level":"WARN"' "$tmp/out" | grep -qF 'No Config file found, loaded config from Environment'
expect "no config file → WARN 'No Config file found', start-up goes on" $? "exit $rc: $(head -c 600 "$tmp/out")"
mkdir -p "$tmp/cwd_conf/conf"
echo '{"run_mode": "job"}' >"$tmp/cwd_conf/conf/config.json"
(cd "$tmp/cwd_conf" && exec timeout 30 env APP_ENABLE_TLS=false "$apron" serve \
    --functions "$tmp/tarmac.json") >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ! grep -qF 'No Config file found' "$tmp/out" && grep -qF 'Run mode is job' "$tmp/out"
expect "./conf/config.json read (run_mode job from it), no warning" $? "exit $rc: $(head -c 600 "$tmp/out")"
echo '{"run_mode": ' >"$tmp/cwd_conf/conf/config.json"
(cd "$tmp/cwd_conf" && exec timeout 30 env APP_ENABLE_TLS=false "$apron" serve \
    --functions "$tmp/tarmac.json") >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ $rc -ne 124 ] && grep -qF 'conf/config.json' "$tmp/out" && ! grep -qF 'No Config file found' "$tmp/out"
expect "unreadable config file → start-up error naming it" $? "exit $rc: $(head -c 600 "$tmp/out")"
# `apron` alone: the usage names every command.
"$apron" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q '^usage: apron serve ' "$tmp/out" && grep -q 'apron wasm' "$tmp/out" && grep -q 'apron run' "$tmp/out"
expect "apron without a command: usage with serve, wasm and run, exit 2" $? "exit $rc: $(cat "$tmp/out")"
finish
