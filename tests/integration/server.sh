#!/usr/bin/env bash
# tests/integration/server.sh — drives the real `apron serve` over HTTP (and HTTPS when openssl is
# present): builds the wat guests of tests/guests/wat/http_*.wat with wat2wasm, starts
# `build/apron serve --listen 127.0.0.1:0`, reads the port from its "listening on" line and checks
# TARMAC.md §2.2–2.7 behaviour with curl: echo, 404, 405, OPTIONS, 413, /health, /ready, /metrics,
# a trapping guest (500, the server survives), a guest error, a slow guest not stalling other
# connections, graceful shutdown (exit 0, in-flight request finished), start-up errors. Cases
# print in cmocka's format so tests/run.sh counts them; a skipped case is never a pass.
#
# usage: tests/integration/server.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/report.sh"

for tool in wat2wasm curl; do
    command -v $tool >/dev/null || { skip_case "server tests" "$tool not installed"; finish; }
done
[ -x "$apron" ] || { bad "apron binary" "$apron missing"; finish; }

tmp=$(mktemp -d /tmp/apron-server-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
for g in echo trap fail spin; do
    wat2wasm "$root/tests/guests/wat/http_$g.wat" -o "$tmp/http_$g.wasm" || { bad "wat2wasm http_$g"; finish; }
done
cat >"$tmp/tarmac.json" <<'JSON'
{"services": {"svc": {"name": "svc",
  "functions": {"echo": {"filepath": "http_echo.wasm", "pool_size": 4},
                "trap": {"filepath": "http_trap.wasm", "pool_size": 1},
                "fail": {"filepath": "http_fail.wasm"},
                "spin": {"filepath": "http_spin.wasm"}},
  "routes": [
    {"type": "http", "path": "/echo", "methods": ["GET", "POST", "PUT", "DELETE", "HEAD"], "function": "echo"},
    {"type": "http", "path": "/trap", "methods": ["POST"], "function": "trap"},
    {"type": "http", "path": "/fail", "methods": ["POST"], "function": "fail"},
    {"type": "http", "path": "/spin", "methods": ["POST"], "function": "spin"}]}}}
JSON

# start LOG [ENV...] -- ARGS: starts apron in the background, sets pid and base (URL).
start() {
    local log=$1; shift
    env APP_ENABLE_TLS=false APP_MAX_REQUEST_BODY_SIZE=1048576 "$@" >"$log" 2>&1 &
    pid=$!
    base=
    for _ in $(seq 100); do
        addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$log" | head -1)
        [ -n "$addr" ] && { base=http://$addr; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# check NAME WANT_STATUS WANT_BODY -- CURL_ARGS: the body is compared always (trailing newlines
# aside); "" wants an empty body, "*" accepts any.
check() {
    local name=$1 want=$2 body=$3; shift 3
    local got
    got=$(curl -s -o "$tmp/body" -w '%{http_code}' "$@")
    if [ "$got" != "$want" ]; then bad "$name" "status $got, want $want ($(head -c 200 "$tmp/body"))"; return; fi
    if [ "$body" != "*" ] && { [ "$(cat "$tmp/body")" != "$body" ] || { [ -z "$body" ] && [ -s "$tmp/body" ]; }; }; then
        bad "$name" "body '$(head -c 200 "$tmp/body")', want '$body'"; return
    fi
    ok "$name"
}

# header NAME HEADER_LINE -- CURL_ARGS: the response carries that header line exactly.
header() {
    local name=$1 line=$2; shift 2
    if curl -s -D - -o /dev/null "$@" | tr -d '\r' | grep -qxF "$line"; then ok "$name"; else bad "$name" "no '$line'"; fi
}

if ! start "$tmp/log" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; then
    bad "server starts" "$(cat "$tmp/log")"; finish
fi
ok "server starts and logs 'listening on'"

check "POST echo → 200 with the guest's bytes" 200 Howdie -d Howdie "$base/echo"
check "PUT echo" 200 "test data" -X PUT -d "test data" "$base/echo"
check "GET echo has no payload" 200 "" "$base/echo?x=1"
check "DELETE echo has no payload" 200 "" -X DELETE -d ignored "$base/echo"
check "HEAD echo" 200 "*" -I "$base/echo" # -I writes the headers where the body would go
header "Server: tarmac on function routes" "Server: tarmac" -d x "$base/echo"
header "text is text/plain" "Content-Type: text/plain; charset=utf-8" -d Howdie "$base/echo"
header "JSON is application/json" "Content-Type: application/json" -d '{"a":[1]}' "$base/echo"
check "unknown path → 404" 404 "404 page not found" "$base/nope"
header "404 nosniff" "X-Content-Type-Options: nosniff" "$base/nope"
check "PATCH → 405" 405 "Method Not Allowed" -X PATCH "$base/echo"
header "405 Allow" "Allow: DELETE, GET, HEAD, OPTIONS, POST, PUT" -X PATCH "$base/echo"
check "OPTIONS → 200" 200 "" -X OPTIONS "$base/echo"
check "POST /health → 405" 405 "Method Not Allowed" -X POST "$base/health"
head -c $((1024 * 1024 + 1)) /dev/zero >"$tmp/big"
check "body over max_request_body_size → 413" 413 "request body too large" --data-binary @"$tmp/big" "$base/echo"
head -c $((1024 * 1024)) /dev/zero | tr '\0' a >"$tmp/limit"
curl -s --data-binary @"$tmp/limit" -o "$tmp/echoed" -w '%{http_code}' "$base/echo" >"$tmp/code"
if [ "$(cat "$tmp/code")" = 200 ] && cmp -s "$tmp/limit" "$tmp/echoed"; then ok "body at the limit echoed byte for byte"; else bad "body at the limit" "$(cat "$tmp/code")"; fi
check "/health" 200 "" "$base/health"
check "/ready" 200 "" "$base/ready"
check "/debug/pprof gated → 403" 403 "" "$base/debug/pprof/"
for i in 1 2 3; do
    check "trapping guest → 500 ($i)" 500 "failed to execute wasm module - error invoking guest: unreachable" -d x "$base/trap"
done
check "server survives traps" 200 alive -d alive "$base/echo"
check "guest error → 500 with its text" 500 "failed to execute wasm module - This is a test error" -d x "$base/fail"

# Concurrency: more clients than the echo pool (4 instances).
cpids=
for i in $(seq 24); do curl -s -o "$tmp/c$i" -d "req$i" "$base/echo" & cpids="$cpids $!"; done
wait $cpids
n=0; for i in $(seq 24); do [ "$(cat "$tmp/c$i")" = "req$i" ] && n=$((n + 1)); done
[ $n -eq 24 ] && ok "24 concurrent requests answered correctly" || bad "concurrent requests" "$n/24"

curl -s "$base/metrics" >"$tmp/metrics"
for want in 'http_server_count{path="/echo"}' 'wasm_functions_count{route="trap:handler"} 3' \
    'service_routes{service="svc",type="http"} 8' '# TYPE http_server summary' 'process_resident_memory_bytes'; do
    grep -qF "$want" "$tmp/metrics" && ok "/metrics has $want" || bad "/metrics has $want"
done
if command -v promtool >/dev/null; then
    promtool check metrics <"$tmp/metrics" >/dev/null 2>&1 && ok "promtool check metrics" || bad "promtool check metrics"
else
    skip_case "promtool check metrics" "promtool not installed"
fi

# A slow guest holds only its own connection (issue 4: guests never run on the thread that
# accepts): another connection is answered while it runs.
curl -s -o /dev/null -d "$(head -c 150 /dev/zero | tr '\0' x)" "$base/spin" &
cpid=$!
sleep 0.2
code=$(curl -s -m 1 -o /dev/null -w '%{http_code}' -d hi "$base/echo")
if [ "$code" = 200 ] && kill -0 "$cpid" 2>/dev/null; then ok "a slow guest does not stall other connections"
else bad "a slow guest does not stall other connections" "echo status $code"; fi
wait "$cpid"

# Graceful shutdown: a slow request in flight finishes, new connections are refused, exit 0.
curl -s -o "$tmp/spin" -w '%{http_code}' -d "$(head -c 40 /dev/zero | tr '\0' x)" "$base/spin" >"$tmp/spincode" &
cpid=$!
sleep 0.2
kill -TERM "$pid"
sleep 0.1
if curl -s -m 2 -o /dev/null "$base/health"; then bad "stops accepting after SIGTERM"; else ok "stops accepting after SIGTERM"; fi
wait "$cpid"
[ "$(cat "$tmp/spincode")" = 200 ] && [ "$(cat "$tmp/spin")" = done ] && ok "in-flight request finished" || bad "in-flight request finished" "$(cat "$tmp/spincode")"
rc=0
for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
if kill -0 "$pid" 2>/dev/null; then bad "exits within 5 s of SIGTERM"; else
    wait "$pid"; rc=$?
    [ $rc -eq 0 ] && ok "SIGTERM → exit 0" || bad "SIGTERM → exit 0" "exit $rc"
fi
pid=

# SIGINT is graceful too.
if start "$tmp/log2" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; then
    kill -INT "$pid"; wait "$pid"; rc=$?; pid=
    [ $rc -eq 0 ] && ok "SIGINT → exit 0" || bad "SIGINT → exit 0" "exit $rc"
else bad "second start"; fi

# Single-function mode: no tarmac.json, wasm_function served on /.
if start "$tmp/log3" APP_WASM_FUNCTION="$tmp/http_echo.wasm" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/none.json"; then
    check "single mode: POST / → 200" 200 Howdie -d Howdie "$base/"
    header "single mode: PATCH / Allow" "Allow: DELETE, GET, HEAD, OPTIONS, POST, PUT" -X PATCH "$base/"
    kill -TERM "$pid"; wait "$pid"; pid=
else bad "single mode starts" "$(cat "$tmp/log3")"; fi

# Start-up errors.
echo '{"services": {"s": {"functions": {"f": {}}, "routes": [{"type": "http", "function": "g"}]}}}' >"$tmp/bad.json"
APP_ENABLE_TLS=false "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/bad.json" >"$tmp/out" 2>&1
rc=$?
if [ $rc -ne 0 ] && grep -qF 'services.s: "name" is missing or empty' "$tmp/out" &&
    grep -qF 'services.s.routes[0]: an http route needs a "path"' "$tmp/out" &&
    grep -qF 'function "g" is not defined' "$tmp/out"; then ok "invalid tarmac.json: every problem reported, no start"
else bad "invalid tarmac.json" "exit $rc: $(cat "$tmp/out")"; fi
APP_ENABLE_TLS=maybe "$apron" serve --listen 127.0.0.1:0 >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qF 'APP_ENABLE_TLS: enable_tls "maybe" is not a boolean' "$tmp/out" && ok "ill-typed APP_ variable names the key" || bad "ill-typed APP_ variable" "$(cat "$tmp/out")"
APP_ENABLE_TLS=false "$apron" serve --listen pandasdonotbelonghere --functions "$tmp/tarmac.json" >"$tmp/out" 2>&1
[ $? -ne 0 ] && ok "bad listen address fails start-up" || bad "bad listen address"
APP_ENABLE_TLS=true APP_CERT_FILE=$tmp/nope.crt "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$tmp/out" 2>&1
[ $? -ne 0 ] && grep -qF 'unable to configure HTTPS server with certificate and key' "$tmp/out" && ok "missing TLS certificate fails start-up" || bad "missing TLS certificate" "$(cat "$tmp/out")"
APP_HTTP_THREADING=threads "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$tmp/out" 2>&1
[ $? -ne 0 ] && grep -qF 'http_threading must be' "$tmp/out" && ok "unknown http_threading fails start-up" || bad "unknown http_threading" "$(cat "$tmp/out")"

# tls NAME WANT OPENSSL_ARGS...: an `openssl s_client` handshake with the server at $addr. WANT
# TLSv1.2 or TLSv1.3: the handshake completes with that version (and the one cipher asked for, if
# -cipher or -ciphersuites names one); "refused": no session. A client that cannot offer what
# was asked (openssl built without it) is a skip: its refusal would prove nothing.
tls() {
    local name=$1 want=$2; shift 2
    local out rc asked=
    out=$(openssl s_client -connect "$addr" "$@" </dev/null 2>&1)
    rc=$?
    if grep -qiE 'no cipher match|no ciphers available|no protocols available|unknown option' <<<"$out"; then
        skip_case "$name" "openssl s_client $* cannot offer it"; return
    fi
    while [ $# -gt 0 ]; do case $1 in -cipher|-ciphersuites) asked=$2; shift ;; esac; shift; done
    case $asked in *:*|*@*) asked= ;; esac
    local got
    got=$(sed -n 's/^New, \(.*\), Cipher is \(.*\)$/\1 \2/p' <<<"$out" | head -1)
    if [ "$want" = refused ]; then
        if [ $rc -ne 0 ] && [ "$got" = "(NONE) (NONE)" ]; then ok "$name"; else bad "$name" "negotiated $got"; fi
    elif [ $rc -eq 0 ] && [ "${got%% *}" = "$want" ] && { [ -z "$asked" ] || [ "${got#* }" = "$asked" ]; }; then
        ok "$name"
    else bad "$name" "exit $rc, negotiated '$got'"; fi
}

# HTTPS with a self-signed certificate.
if command -v openssl >/dev/null; then
    openssl req -x509 -newkey rsa:2048 -nodes -keyout "$tmp/key.pem" -out "$tmp/cert.pem" -days 1 \
        -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
    if start "$tmp/log4" APP_ENABLE_TLS=true APP_CERT_FILE="$tmp/cert.pem" APP_KEY_FILE="$tmp/key.pem" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; then
        base=${base/http:/https:}
        check "HTTPS echo" 200 Howdie --cacert "$tmp/cert.pem" -d Howdie "$base/echo"
        check "HTTPS /health" 200 "" --cacert "$tmp/cert.pem" "$base/health"
        if curl -s -o /dev/null --tls-max 1.1 -k "$base/health"; then bad "TLS 1.1 refused"; else ok "TLS 1.1 refused"; fi
        # TARMAC.md §2.1's policy, suite by suite (README: TLS).
        tls "TLS 1.2 ECDHE-RSA-AES128-GCM-SHA256 accepted" TLSv1.2 -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
        tls "TLS 1.2 ECDHE-RSA-AES256-GCM-SHA384 accepted" TLSv1.2 -tls1_2 -cipher ECDHE-RSA-AES256-GCM-SHA384
        for c in AES128-SHA ECDHE-RSA-AES128-SHA ECDHE-RSA-CHACHA20-POLY1305 AES128-GCM-SHA256 \
            DHE-RSA-AES128-GCM-SHA256 ECDHE-RSA-AES256-SHA384; do
            tls "TLS 1.2 $c refused" refused -tls1_2 -cipher "$c"
        done
        tls "TLS 1.1 refused (openssl s_client)" refused -tls1_1 -cipher 'DEFAULT:@SECLEVEL=0'
        tls "TLS 1.3 accepted" TLSv1.3 -tls1_3
        tls "TLS 1.3 TLS_AES_128_GCM_SHA256 accepted" TLSv1.3 -tls1_3 -ciphersuites TLS_AES_128_GCM_SHA256
        tls "TLS 1.3 TLS_AES_256_GCM_SHA384 accepted" TLSv1.3 -tls1_3 -ciphersuites TLS_AES_256_GCM_SHA384
        tls "TLS 1.3 TLS_CHACHA20_POLY1305_SHA256 refused (GnuTLS: not without TLS 1.2's)" refused \
            -tls1_3 -ciphersuites TLS_CHACHA20_POLY1305_SHA256
        kill -TERM "$pid"; wait "$pid"; pid=
    else bad "HTTPS server starts" "$(cat "$tmp/log4")"; fi
    # An ECDSA certificate: TLS 1.2 with ECDHE-ECDSA and AES-GCM only.
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$tmp/eckey.pem" \
        -out "$tmp/eccert.pem" -days 1 -subj /CN=localhost -addext subjectAltName=IP:127.0.0.1 >/dev/null 2>&1
    if start "$tmp/log6" APP_ENABLE_TLS=true APP_CERT_FILE="$tmp/eccert.pem" APP_KEY_FILE="$tmp/eckey.pem" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; then
        check "HTTPS echo, ECDSA certificate" 200 Howdie --cacert "$tmp/eccert.pem" -d Howdie "https://$addr/echo"
        tls "TLS 1.2 ECDHE-ECDSA-AES128-GCM-SHA256 accepted" TLSv1.2 -tls1_2 -cipher ECDHE-ECDSA-AES128-GCM-SHA256
        tls "TLS 1.2 ECDHE-ECDSA-AES256-GCM-SHA384 accepted" TLSv1.2 -tls1_2 -cipher ECDHE-ECDSA-AES256-GCM-SHA384
        for c in ECDHE-ECDSA-AES128-SHA ECDHE-ECDSA-CHACHA20-POLY1305 ECDHE-ECDSA-AES128-CCM; do
            tls "TLS 1.2 $c refused" refused -tls1_2 -cipher "$c"
        done
        kill -TERM "$pid"; wait "$pid"; pid=
    else bad "HTTPS server (ECDSA) starts" "$(cat "$tmp/log6")"; fi
    # Mutual TLS: the CA is the server certificate itself; a client without a certificate is dropped.
    if start "$tmp/log5" APP_ENABLE_TLS=true APP_CERT_FILE="$tmp/cert.pem" APP_KEY_FILE="$tmp/key.pem" APP_CA_FILE="$tmp/cert.pem" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json"; then
        base=${base/http:/https:}
        check "mTLS with the client certificate" 200 "" --cacert "$tmp/cert.pem" --cert "$tmp/cert.pem" --key "$tmp/key.pem" "$base/health"
        code=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$tmp/cert.pem" "$base/health")
        [ "$code" = 000 ] && ok "mTLS without a client certificate refused" || bad "mTLS without a client certificate refused" "status $code"
        kill -TERM "$pid"; wait "$pid"; pid=
    else bad "mTLS server starts" "$(cat "$tmp/log5")"; fi
else
    skip_case "HTTPS tests" "openssl not installed"
fi
finish
