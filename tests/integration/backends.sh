#!/usr/bin/env bash
# tests/integration/backends.sh — the network back ends against real services: starts Debian's
# redis-server (and a Sentinel), nats-server (JetStream), PostgreSQL and MariaDB through
# lib/services.sh on free loopback ports, then
#   - runs build/tests/backends-client (kv.h / sql.h ops called directly) against each: the common
#     kv checks (binary values, 8 threads) on the embedded lmdb and in-memory stores and on redis
#     and nats, the common sql checks and each one's cell mapping on postgres and mysql, an outage (service stopped: calls fail as unavailable within 1 s; restarted: the
#     same process recovers), two processes sharing a store;
#   - when the capability layer is in build/apron: the same kvstore and sql guests through two
#     `apron serve` processes sharing Redis and PostgreSQL, and Redis stopped and restarted under
#     them (status >= 500 within 1 s, /ready 503, recovery without restarting apron); a guest
#     held 2.5 s in PostgreSQL's pg_sleep does not stall other requests, under both
#     http_threading modes.
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

# ---- the embedded stores (no service): LMDB and in-memory ----
client "lmdb: kv" kv kvstore_type=lmdb "boltdb_filename=$tmp/client.lmdb"
client "in-memory: kv" kv kvstore_type=in-memory
client "lmdb: two processes (write)" kv-put kvstore_type=lmdb "boltdb_filename=$tmp/shared.lmdb" \
    -- shared hello-from-one
client "lmdb: two processes (read as internal)" kv-expect kvstore_type=internal \
    "boltdb_filename=$tmp/shared.lmdb" -- shared hello-from-one

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


# ---- through `apron serve`: the kvprobe guest and the guestbook and reverse examples ----
kvprobe=$build/tests/guests/kvprobe.wasm
sqlprobe=$build/tests/guests/sqlprobe.wasm
guestbook=$build/examples/guestbook.wasm
reverse=$build/examples/reverse.wasm
serve_why=
if ! nm "$apron" 2>/dev/null | grep -q ap_cap_backends_open; then
    serve_why="the capabilities are not wired into apron serve in this build"
elif [ ! -f "$kvprobe" ] || [ ! -f "$sqlprobe" ] || [ ! -f "$guestbook" ] || [ ! -f "$reverse" ]; then
    serve_why="guests not built (needs clang, wasi-libc)"
elif ! command -v curl >/dev/null; then
    serve_why="curl not installed"
fi
cat >"$tmp/tarmac.json" <<JSON
{"services": {"t": {"name": "t",
  "functions": {"kv": {"filepath": "$kvprobe", "pool_size": 4},
                "sql": {"filepath": "$sqlprobe", "pool_size": 4},
                "guestbook": {"filepath": "$guestbook", "pool_size": 2},
                "reverse": {"filepath": "$reverse", "pool_size": 2}},
  "routes": [{"type": "http", "path": "/kv", "methods": ["POST"], "function": "kv"},
             {"type": "http", "path": "/sql", "methods": ["POST"], "function": "sql"},
             {"type": "http", "path": "/guestbook", "methods": ["POST"], "function": "guestbook"},
             {"type": "http", "path": "/reverse", "methods": ["POST"], "function": "reverse"}]}}}
JSON

# start_apron NAME ENV...: starts apron serve with the kv/sql settings in ENV; sets base_NAME.
start_apron() {
    local name=$1 log=$tmp/apron-$1.log pid addr
    shift
    : >"$log"
    env APP_ENABLE_TLS=false APP_BOLTDB_FILENAME="$tmp/$name.db" "$@" \
        "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" >"$log" 2>&1 &
    pid=$!
    apron_pids+=("$pid")
    eval "pid_$name=$pid"
    for _ in $(seq 200); do
        addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$log" | head -1)
        [ -n "$addr" ] && { eval "base_$name=http://$addr"; return 0; }
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    fail_case "$name: apron serve starts" "$(tail -n 20 "$log")"
    return 1
}

stop_apron() { # NAME: SIGTERM, exit 0 within 5 s, no sanitizer report
    local name=$1 pid rc
    pid=$(eval echo "\$pid_$name")
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null && { fail_case "$name: apron stops on SIGTERM" "still running after 5 s"; }
    wait "$pid"
    rc=$?
    [ $rc = 0 ] || fail_case "$name: apron exits 0" "exit status $rc: $(tail -n 20 "$tmp/apron-$name.log")"
    client_stderr_ok "$name: apron" "$tmp/apron-$name.log"
}

# post NAME CASE URL DATA WANT_STATUS WANT_BODY_REGEX
post() {
    local name=$1 case=$2 url=$3 data=$4 want=$5 re=$6 got body
    got=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' --data-binary "$data" "$url")
    body=$(head -c 500 "$tmp/body")
    if [ "$got" = "$want" ] && grep -qE -- "$re" "$tmp/body"; then
        ok_case "$name: $case"
    else
        fail_case "$name: $case" "status $got (want $want), body '$body' (want /$re/)"
    fi
}

kv_via_serve() { # NAME BASE: the kvstore sequence through /kv and /reverse
    local n=$1 b=$2
    post "$n" "set" "$b/kv" "set k1 v1" 200 '^ok$'
    post "$n" "get" "$b/kv" "get k1" 200 '^v1$'
    post "$n" "keys" "$b/kv" "keys" 200 '^k1$'
    post "$n" "delete" "$b/kv" "del k1" 200 '^ok$'
    post "$n" "get deleted → 404" "$b/kv" "get k1" 500 'kvstore 404'
    post "$n" "reverse (miss)" "$b/reverse" "hello" 200 '^olleh$'
    post "$n" "reverse (cached)" "$b/reverse" "hello" 200 '^olleh$'
}

if [ -n "$serve_why" ]; then
    for n in "serve: kv back ends" "serve: sql back ends" "serve: two nodes" "serve: redis outage" \
        "serve: slow sql"; do
        skip_case "$n" "$serve_why"
    done
else
    # every kv back end with the same guest
    for t in in-memory lmdb redis nats; do
        extra=()
        case $t in
        redis) [ -n "${SVC_REDIS_PID:-}" ] || { skip_case "serve kv $t" "redis not running"; continue; }
            extra=(APP_REDIS_SERVER="$SVC_REDIS_ADDR") ;;
        nats) [ -n "${SVC_NATS_PID:-}" ] || { skip_case "serve kv $t" "nats not running"; continue; }
            extra=(APP_NATS_URL="$SVC_NATS_URL" APP_NATS_BUCKET=apron_serve) ;;
        esac
        if start_apron "kv_${t//-/_}" APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=$t "${extra[@]}"; then
            kv_via_serve "serve kv $t" "$(eval echo "\$base_kv_${t//-/_}")"
            stop_apron "kv_${t//-/_}"
        fi
    done
    # every sql back end with the guestbook example (MySQL rows: base64 of the text)
    for t in sqlite postgres mysql; do
        dsn= name=Ada
        case $t in
        sqlite) dsn=$tmp/guestbook.sqlite3 ;;
        postgres) [ -n "${SVC_POSTGRES_PID:-}" ] || { skip_case "serve sql $t" "postgres not running"; continue; }
            dsn=$SVC_POSTGRES_DSN ;;
        mysql) [ -n "${SVC_MARIADB_PID:-}" ] || { skip_case "serve sql $t" "mariadb not running"; continue; }
            dsn=$SVC_MARIADB_DSN name=QWRh ;;
        esac
        if start_apron "sql_$t" APP_ENABLE_SQL=true APP_SQL_TYPE=$t APP_SQL_DSN="$dsn"; then
            post "serve sql $t" "guestbook" "$(eval echo "\$base_sql_$t")/guestbook" "Ada" 200 \
                "^\{\"added\":1,\"guests\":\[.*\{\"name\":\"$name\"\}.*\]\}$"
            stop_apron "sql_$t"
        fi
    done
    # a guest waiting 2.5 s in PostgreSQL holds neither another function nor the SQL back end:
    # /reverse and a second /sql answer in under 1 s meanwhile, with either threading model
    # (event-loop with 2 wasm workers: the slow guest holds one)
    if [ -n "${SVC_POSTGRES_PID:-}" ]; then
        for mode in connection event-loop; do
            n=slow_${mode//-/_}
            start_apron "$n" APP_ENABLE_SQL=true APP_SQL_TYPE=postgres APP_SQL_DSN="$SVC_POSTGRES_DSN" \
                APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=in-memory APP_HTTP_THREADING=$mode \
                APP_WASM_WORKERS=2 || continue
            b=$(eval echo "\$base_$n")
            curl -s -m 10 -o "$tmp/slow.body" -w '%{http_code} %{time_total}' \
                --data-binary "SELECT pg_sleep(2.5) AS slept" "$b/sql" >"$tmp/slow.out" &
            slow=$!
            sleep 0.3
            for req in "/reverse abc ^cba$" "/sql SELECT 1 AS one ^\[\{\"one\":1\}\]$"; do
                path=${req%% *} rest=${req#* }
                data=${rest% *} re=${rest##* }
                t0=$(svc_now_ms)
                got=$(curl -s -m 10 -o "$tmp/body" -w '%{http_code}' --data-binary "$data" "$b$path")
                dt=$(($(svc_now_ms) - t0))
                if [ "$got" = 200 ] && grep -qE -- "$re" "$tmp/body" && [ $dt -lt 1000 ]; then
                    ok_case "slow sql ($mode): $path answers in $dt ms while pg_sleep runs"
                else
                    fail_case "slow sql ($mode): $path answers in under 1 s while pg_sleep runs" \
                        "status $got after $dt ms: $(head -c 300 "$tmp/body")"
                fi
            done
            wait $slow
            read -r got secs <"$tmp/slow.out"
            if [ "$got" = 200 ] && grep -q '"slept"' "$tmp/slow.body" &&
                awk -v s="$secs" 'BEGIN { exit !(s >= 2.4) }'; then
                ok_case "slow sql ($mode): pg_sleep(2.5) answers after ${secs} s"
            else
                fail_case "slow sql ($mode): pg_sleep(2.5) answers after 2.5 s" \
                    "status $got after ${secs} s: $(head -c 300 "$tmp/slow.body")"
            fi
            stop_apron "$n"
        done
    else
        skip_case "serve: slow sql" "postgres not running"
    fi
    # /ready pings the back end: with Redis frozen (SIGSTOP) and one event-loop thread, /ready
    # waits on a worker while /health, on the event loop, answers at once
    if [ -n "${SVC_REDIS_PID:-}" ]; then
        if start_apron ready1 APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=redis \
            APP_REDIS_SERVER="$SVC_REDIS_ADDR" APP_HTTP_THREADS=1; then
            kill -STOP "$SVC_REDIS_PID"
            curl -s -m 10 -o /dev/null -w '%{http_code} %{time_total}' "$base_ready1/ready" >"$tmp/ready.out" &
            readyc=$!
            sleep 0.3
            t0=$(svc_now_ms)
            got=$(curl -s -m 10 -o /dev/null -w '%{http_code}' "$base_ready1/health")
            dt=$(($(svc_now_ms) - t0))
            running=no; kill -0 "$readyc" 2>/dev/null && running=yes
            kill -CONT "$SVC_REDIS_PID"
            wait "$readyc"
            if [ "$got" = 200 ] && [ $dt -lt 500 ] && [ $running = yes ]; then
                ok_case "ready: /health answers in $dt ms while /ready waits on a frozen Redis"
            else
                fail_case "ready: /health answers at once while /ready waits on a frozen Redis" \
                    "/health $got after $dt ms; /ready still waiting then: $running ($(cat "$tmp/ready.out"))"
            fi
            post ready1 "ready: Redis back, the kv answers" "$base_ready1/reverse" "abc" 200 '^cba$'
            stop_apron ready1
        fi
    else
        skip_case "ready: /ready on a worker" "redis not running"
    fi
    # two nodes sharing Redis and PostgreSQL; then Redis goes away and comes back
    if [ -n "${SVC_REDIS_PID:-}" ] && [ -n "${SVC_POSTGRES_PID:-}" ]; then
        shared=(APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=redis APP_REDIS_SERVER="$SVC_REDIS_ADDR"
            APP_ENABLE_SQL=true APP_SQL_TYPE=postgres APP_SQL_DSN="$SVC_POSTGRES_DSN")
        if start_apron a "${shared[@]}" && start_apron b "${shared[@]}"; then
            post "two nodes" "set through a" "$base_a/kv" "set shared one" 200 '^ok$'
            post "two nodes" "get through b" "$base_b/kv" "get shared" 200 '^one$'
            post "two nodes" "sign through a" "$base_a/guestbook" "Bob" 200 'Bob'
            post "two nodes" "b sees a's row" "$base_b/guestbook" "Cy" 200 '"Bob".*"Cy"'
            svc_stop redis
            for n in a b; do
                b=$(eval echo "\$base_$n")
                # set: Tarmac's 500; get: 503 (apron's answer to an outage, where Tarmac says 404)
                for op in "set shared two" "get shared"; do
                    t0=$(svc_now_ms)
                    got=$(curl -s -m 5 -o "$tmp/body" -w '%{http_code}' --data-binary "$op" "$b/kv")
                    dt=$(($(svc_now_ms) - t0))
                    code=$(sed -n 's/.*kvstore \([0-9]*\):.*/\1/p' "$tmp/body")
                    want=500
                    [ "${op%% *}" = get ] && want=503
                    if [ "$got" -ge 500 ] && [ "${code:-0}" -ge $want ] && [ $dt -lt 1000 ]; then
                        ok_case "redis outage: $n: ${op%% *} fails (kvstore status ${code}) within 1 s"
                    else
                        fail_case "redis outage: $n: ${op%% *} fails within 1 s" \
                            "HTTP $got, kvstore status ${code:-none}, after $dt ms: $(head -c 300 "$tmp/body")"
                    fi
                done
                got=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$b/ready")
                [ "$got" = 503 ] && ok_case "redis outage: $n: /ready 503" ||
                    fail_case "redis outage: $n: /ready 503" "got $got"
            done
            if svc_start redis; then
                for n in a b; do
                    b=$(eval echo "\$base_$n")
                    got=
                    for _ in $(seq 50); do
                        got=$(curl -s -m 5 -o /dev/null -w '%{http_code}' "$b/ready")
                        [ "$got" = 200 ] && break
                        sleep 0.1
                    done
                    [ "$got" = 200 ] && ok_case "redis back: $n: /ready 200" ||
                        fail_case "redis back: $n: /ready 200" "got $got"
                    post "redis back" "$n: set" "$b/kv" "set after-$n yes" 200 '^ok$'
                done
                post "redis back" "a reads b's value" "$base_a/kv" "get after-b" 200 '^yes$'
            else
                fail_case "redis restarts" "$SVC_WHY"
            fi
            stop_apron a
            stop_apron b
        fi
    else
        skip_case "serve: two nodes" "redis or postgres not running"
    fi
fi

finish
