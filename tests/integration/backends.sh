#!/usr/bin/env bash
# tests/integration/backends.sh — the network back ends against real services: starts Debian's
# redis-server (and a Sentinel), nats-server (JetStream), PostgreSQL and MariaDB through
# lib/services.sh on free loopback ports, then
#   - runs build/tests/backends-client (kv.h / sql.h ops called directly) against each: the common
#     kv checks on redis and nats, the common sql checks and each one's cell mapping on postgres
#     and mysql, an outage (service stopped: calls fail as unavailable within 1 s; restarted: the
#     same process recovers), two processes sharing a store;
#   - when the capability layer is in build/apron: the same kvstore and sql guests through two
#     `apron serve` processes sharing Redis and PostgreSQL, and Redis stopped and restarted under
#     them (status >= 500 within 1 s, /ready 503, recovery without restarting apron).
# A service whose binaries are missing skips its cases with the reason. Output in cmocka's format
# (lib.sh), so tests/run.sh counts every case.
#
# usage: tests/integration/backends.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
client=$build/tests/backends-client
apron=$build/apron

. "$root/tests/integration/lib.sh"
. "$root/tests/integration/lib/services.sh"
apron_pids=()
cleanup() {
    local p
    for p in "${apron_pids[@]}"; do kill -KILL "$p" 2>/dev/null; done
    svc_stop_all
    rm -rf "$tmp"
}
trap cleanup EXIT

ok_case() {
    echo "[       OK ] $1"
    pass=$((pass + 1))
}
fail_case() {
    echo "[  ERROR   ] $1: $2"
    echo "[  FAILED  ] $1"
    fail=$((fail + 1))
    failed_names+=("$1")
}

# client_line LINE: one "ok NAME" / "fail NAME<TAB>why" line of backends-client.
client_line() {
    case $1 in
    "ok "*) ok_case "${1#ok }" ;;
    "fail "*) local rest=${1#fail }; fail_case "${rest%%$'\t'*}" "${rest#*$'\t'}" ;;
    *) echo "  $1" ;;
    esac
}

client_stderr_ok() { # NAME ERRFILE: a sanitizer report fails the group
    if grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$2"; then
        fail_case "$1: no sanitizer report" "$(head -c 3000 "$2")"
    fi
}

# client NAME SCENARIO ARGS...: runs backends-client and counts its lines.
client() {
    local name=$1 scenario=$2 line rc=0 seen=0
    shift 2
    timeout 120 "$client" "$scenario" "$name: " "$@" >"$tmp/client.out" 2>"$tmp/client.err" || rc=$?
    while IFS= read -r line; do
        client_line "$line"
        seen=1
    done <"$tmp/client.out"
    if [ $rc != 0 ] && ! grep -q '^fail ' "$tmp/client.out"; then
        fail_case "$name: client" "exit status $rc: $(head -c 2000 "$tmp/client.err")"
    fi
    [ $seen = 1 ] || [ $rc != 0 ] || fail_case "$name: client" "no output"
    client_stderr_ok "$name" "$tmp/client.err"
}

# client_outage NAME KIND SCENARIO ARGS...: the client asks "stop?" and "start?"; the service
# KIND is stopped and started in between.
client_outage() {
    local name=$1 kind=$2 scenario=$3 line
    shift 3
    coproc CL { timeout 120 "$client" "$scenario" "$name: " "$@" 2>"$tmp/client.err"; }
    local out=${CL[0]} in=${CL[1]} cpid=$CL_PID
    while IFS= read -r line <&"$out"; do
        case $line in
        "stop?") svc_stop "$kind"; echo go >&"$in" ;;
        "start?")
            svc_start "$kind" || fail_case "$name: $kind restarts" "$SVC_WHY"
            echo go >&"$in"
            ;;
        *) client_line "$line" ;;
        esac
    done
    wait "$cpid" 2>/dev/null
    client_stderr_ok "$name" "$tmp/client.err"
}

# need KIND NAME...: starts KIND or skips the named cases (returns 1 then).
need() {
    local kind=$1 rc n
    shift
    svc_start "$kind"
    rc=$?
    [ $rc = 0 ] && return 0
    for n in "$@"; do
        if [ $rc = 2 ]; then skip_case "$n" "$SVC_WHY"; else fail_case "$n" "$SVC_WHY"; fi
    done
    return 1
}

if [ ! -x "$client" ]; then
    fail_case "backends-client" "$client missing (build first)"
    finish
fi

# ---- Redis ----
if need redis "redis: kv" "redis: outage" "redis: two processes" "redis: sentinel"; then
    R=(kvstore_type=redis "redis_server=$SVC_REDIS_ADDR")
    client "redis: kv" kv "${R[@]}"
    client "redis: kv, database 3" kv "${R[@]}" redis_database=3 redis_keepalive=30
    client "redis: two processes (write)" kv-put "${R[@]}" -- shared hello-from-one
    client "redis: two processes (read)" kv-expect "${R[@]}" -- shared hello-from-one
    client "redis: other database is separate" kv-put "${R[@]}" redis_database=5 -- shared other
    client "redis: other database is separate (read)" kv-expect "${R[@]}" -- shared hello-from-one
    if command -v redis-cli >/dev/null; then
        redis-cli -p "$SVC_REDIS_PORT" CONFIG SET requirepass s3cret >/dev/null
        client "redis: password" kv-put "${R[@]}" redis_password=s3cret -- pw yes
        "$client" kv-put "x: " "${R[@]}" redis_password=wrong -- pw no >"$tmp/out" 2>&1
        if grep -q '^fail x: open.\?unavailable: .*\(WRONGPASS\|invalid\)' "$tmp/out"; then
            ok_case "redis: wrong password fails at open"
        else
            fail_case "redis: wrong password fails at open" "$(cat "$tmp/out")"
        fi
        redis-cli -p "$SVC_REDIS_PORT" -a s3cret --no-auth-warning CONFIG SET requirepass '' >/dev/null
    fi
    if need sentinel "redis: sentinel"; then
        client "redis: sentinel" kv-put kvstore_type=redis "redis_sentinel_servers=$SVC_SENTINEL_ADDR" \
            redis_sentinel_master=apron -- via-sentinel yes
        client "redis: sentinel (read direct)" kv-expect "${R[@]}" -- via-sentinel yes
        svc_stop sentinel
    fi
    client_outage "redis: outage" redis kv-outage "${R[@]}"
fi
"$client" kv "x: " kvstore_type=redis redis_server=127.0.0.1:1 >"$tmp/out" 2>&1
if grep -q '^fail x: open.\?unavailable: redis: connect 127.0.0.1:1' "$tmp/out"; then
    ok_case "redis: no server at open → unavailable"
else
    fail_case "redis: no server at open → unavailable" "$(cat "$tmp/out")"
fi

# ---- NATS JetStream ----
if need nats "nats: kv" "nats: outage" "nats: two processes"; then
    N=(kvstore_type=nats "nats_url=$SVC_NATS_URL" nats_bucket=apron_test)
    client "nats: kv" kv "${N[@]}"
    client "nats: servers list" kv "${N[@]}" "nats_servers=$SVC_NATS_URL" nats_bucket=apron_two
    client "nats: two processes (write)" kv-put "${N[@]}" -- shared hello-from-one
    client "nats: two processes (read)" kv-expect "${N[@]}" -- shared hello-from-one
    client_outage "nats: outage" nats kv-outage "${N[@]}"
fi
"$client" kv "x: " kvstore_type=nats nats_bucket='bad name' >"$tmp/out" 2>&1
if grep -q '^fail x: open.\?invalid: nats: nats_bucket' "$tmp/out"; then
    ok_case "nats: bad bucket name → invalid"
else
    fail_case "nats: bad bucket name → invalid" "$(cat "$tmp/out")"
fi

# ---- PostgreSQL ----
if need postgres "postgres: sql" "postgres: outage"; then
    client "postgres: sql" sql-postgres sql_type=postgres "sql_dsn=$SVC_POSTGRES_DSN"
    kv_dsn="host=127.0.0.1 port=$SVC_POSTGRES_PORT user=apron password=apron dbname=postgres"
    client "postgres: key=value dsn" sql-postgres sql_type=postgres "sql_dsn=$kv_dsn"
    client_outage "postgres: outage" postgres sql-outage sql_type=postgres "sql_dsn=$SVC_POSTGRES_DSN"
fi

# ---- MariaDB ----
if need mariadb "mysql: sql" "mysql: outage"; then
    client "mysql: sql" sql-mysql sql_type=mysql "sql_dsn=$SVC_MARIADB_DSN"
    client "mysql: dsn parameters" sql-mysql sql_type=mysql \
        "sql_dsn=$SVC_MARIADB_DSN?timeout=2s&readTimeout=10s&charset=utf8mb4,utf8&sql_mode=%27ANSI_QUOTES%27"
    client_outage "mysql: outage" mariadb sql-outage sql_type=mysql "sql_dsn=$SVC_MARIADB_DSN"
fi
"$client" sql-mysql "x: " sql_type=mysql 'sql_dsn=apron@tcp(127.0.0.1:1' >"$tmp/out" 2>&1
if grep -q '^fail x: open.\?.*sql_dsn' "$tmp/out"; then
    ok_case "mysql: malformed dsn → refused at open"
else
    fail_case "mysql: malformed dsn → refused at open" "$(cat "$tmp/out")"
fi

finish
