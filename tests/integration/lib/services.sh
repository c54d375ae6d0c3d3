# tests/integration/lib/services.sh — sourced by integration tests: starts and stops Debian's
# redis-server, nats-server (JetStream), PostgreSQL and MariaDB on free loopback ports, each with
# a throw-away data directory under $SVC_TMP, and waits until each is ready (bounded).
#
#   svc_start KIND   KIND is redis, sentinel (a Redis Sentinel watching the redis started
#                    before it as master "apron"), nats, postgres or mariadb. Returns 0 when the service is
#                    ready; 2 when its binaries are missing (SVC_WHY says which: the caller
#                    skips); 1 when it failed to start (SVC_WHY holds the reason and its log's
#                    tail). Sets SVC_<KIND>_PORT, SVC_<KIND>_PID and, for the SQL servers,
#                    SVC_<KIND>_DSN (a DSN in the form TARMAC.md §5.4 gives for apron), for
#                    nats SVC_NATS_URL, for redis SVC_REDIS_ADDR. A second start after a stop
#                    reuses the port and the data (a restart), so clients can reconnect.
#   svc_stop KIND    SIGTERM, then SIGKILL after 5 s; the data directory stays until svc_stop_all.
#   svc_stop_all     stops every started service and removes $SVC_TMP; call it from an EXIT trap.
#   svc_ms_KIND      start-up time of the last start, milliseconds (also printed on stderr).
#
# Run as root (as CI is), PostgreSQL and MariaDB refuse root: they run as the system users
# `postgres` / `mysql` that their Debian packages create (else `nobody`), owning their data dirs.
# Nothing here uses systemd or the packages' default clusters and ports.

SVC_TMP=${SVC_TMP:-$(mktemp -d /tmp/apron-svc-XXXXXX)}
chmod 755 "$SVC_TMP"
SVC_WHY=
SVC_STARTED=()
SVC_TIMEOUT=${SVC_TIMEOUT:-30} # seconds a service may take to become ready

svc_now_ms() { date +%s%3N; }

# svc_port_busy PORT: something listens on 127.0.0.1:PORT.
svc_port_busy() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# svc_free_port: prints a port nothing listens on. A race with another process remains; svc_start
# retries with a new port when the server cannot bind.
svc_free_port() {
    local p
    for _ in $(seq 50); do
        p=$((20000 + RANDOM % 40000))
        svc_port_busy "$p" || { echo "$p"; return 0; }
    done
    return 1
}

# svc_as_user USER: sets the array exec_as to the prefix that runs a command as USER when we are
# root (empty otherwise). setpriv execs in place, so `"${exec_as[@]}" daemon &` leaves $! the
# daemon's own pid and SIGTERM reaches it.
svc_as_user() {
    local u=$1; shift
    if [ "$(id -u)" = 0 ]; then
        exec_as=(setpriv --reuid="$u" --regid="$(id -g "$u")" --init-groups)
    else
        exec_as=()
    fi
}

svc_daemon_user() { # the first existing of the given users, else nobody
    local u
    for u in "$@"; do id "$u" >/dev/null 2>&1 && { echo "$u"; return; }; done
    echo nobody
}

svc_pg_bin() { # directory of PostgreSQL's server binaries (Debian keeps them out of PATH)
    local d
    d=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
    if [ -n "$d" ] && [ -x "$d/postgres" ]; then echo "$d"; return 0; fi
    d=$(dirname "$(command -v postgres 2>/dev/null || echo /nonexistent/x)")
    [ -x "$d/postgres" ] && [ -x "$d/initdb" ] && { echo "$d"; return 0; }
    return 1
}

# svc_wait_log PID LOG PATTERN: until LOG matches PATTERN (0), PID dies (1) or the timeout (1).
svc_wait_log() {
    local pid=$1 log=$2 pat=$3 deadline=$(($(svc_now_ms) + SVC_TIMEOUT * 1000))
    while [ "$(svc_now_ms)" -lt "$deadline" ]; do
        grep -qE "$pat" "$log" 2>/dev/null && return 0
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.02
    done
    return 1
}

svc_fail() { # svc_fail KIND LOG WHY
    SVC_WHY="$1: $3${2:+; log tail: $(tail -n 5 "$2" 2>/dev/null | tr '\n' ' ')}"
    return 1
}

svc_start() {
    local kind=$1 rc t0 port try
    SVC_WHY=
    t0=$(svc_now_ms)
    port=$(eval echo "\${SVC_${kind^^}_PORT:-}")
    for try in 1 2 3; do
        [ -n "$port" ] || port=$(svc_free_port) || { svc_fail "$kind" "" "no free port"; return 1; }
        # each start logs afresh, so readiness is never read from an earlier run's lines
        [ -f "$SVC_TMP/$kind.log" ] && mv "$SVC_TMP/$kind.log" "$SVC_TMP/$kind.log.prev"
        "svc_start_$kind" "$port"
        rc=$?
        [ $rc = 0 ] || [ $rc = 2 ] && break
        # a port taken meanwhile: try another, unless this is a restart on a known port
        grep -qiE 'address already in use|could not bind|Can.t start server: Bind' \
            "$SVC_TMP/$kind.log" 2>/dev/null || break
        [ -n "$(eval echo "\${SVC_${kind^^}_PID:-}")" ] && break
        port=
    done
    [ $rc = 0 ] || return $rc
    eval "SVC_${kind^^}_PORT=$port"
    eval "svc_ms_$kind=$(($(svc_now_ms) - t0))"
    SVC_STARTED+=("$kind")
    echo "services: $kind ready on 127.0.0.1:$port in $(eval echo "\$svc_ms_$kind") ms" >&2
    return 0
}

svc_stop() {
    local kind=$1 pid i
    pid=$(eval echo "\${SVC_${kind^^}_PID:-}")
    [ -n "$pid" ] || return 0
    kill -TERM "$pid" 2>/dev/null
    for i in $(seq 250); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.02
    done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    eval "SVC_${kind^^}_PID="
    return 0
}

svc_stop_all() {
    local k
    for k in sentinel redis nats postgres mariadb; do svc_stop "$k"; done
    [ -n "$SVC_TMP" ] && rm -rf "$SVC_TMP"
}

# ---- redis-server: no persistence, no protected mode, loopback only ----
svc_start_redis() {
    local port=$1 dir=$SVC_TMP/redis log=$SVC_TMP/redis.log
    command -v redis-server >/dev/null || { SVC_WHY="redis-server not installed"; return 2; }
    mkdir -p "$dir"
    redis-server --bind 127.0.0.1 --port "$port" --dir "$dir" --save '' --appendonly no \
        --daemonize no --protected-mode no --logfile '' --loglevel notice >"$log" 2>&1 &
    SVC_REDIS_PID=$!
    SVC_REDIS_ADDR=127.0.0.1:$port
    svc_wait_log "$SVC_REDIS_PID" "$log" 'Ready to accept connections' ||
        { svc_stop redis; svc_fail redis "$log" "not ready"; return 1; }
}

# ---- redis-sentinel: watches $SVC_REDIS_PORT as master "apron" (quorum 1) ----
svc_start_sentinel() {
    local port=$1 dir=$SVC_TMP/sentinel log=$SVC_TMP/sentinel.log
    command -v redis-server >/dev/null || { SVC_WHY="redis-server not installed"; return 2; }
    [ -n "${SVC_REDIS_PORT:-}" ] || { SVC_WHY="start redis before sentinel"; return 1; }
    mkdir -p "$dir"
    # Sentinel rewrites its config file, so each start writes a fresh one.
    printf '%s\n' "bind 127.0.0.1" "port $port" "dir $dir" "protected-mode no" \
        "sentinel monitor apron 127.0.0.1 $SVC_REDIS_PORT 1" >"$dir/sentinel.conf"
    redis-server "$dir/sentinel.conf" --sentinel --logfile '' >"$log" 2>&1 &
    SVC_SENTINEL_PID=$!
    SVC_SENTINEL_ADDR=127.0.0.1:$port
    svc_wait_log "$SVC_SENTINEL_PID" "$log" '\+monitor master apron' ||
        { svc_stop sentinel; svc_fail sentinel "$log" "not ready"; return 1; }
}

# ---- nats-server with JetStream, store in the data dir ----
svc_start_nats() {
    local port=$1 dir=$SVC_TMP/nats log=$SVC_TMP/nats.log
    command -v nats-server >/dev/null || { SVC_WHY="nats-server not installed"; return 2; }
    mkdir -p "$dir"
    nats-server -a 127.0.0.1 -p "$port" -js -sd "$dir" >"$log" 2>&1 &
    SVC_NATS_PID=$!
    SVC_NATS_URL=nats://127.0.0.1:$port
    svc_wait_log "$SVC_NATS_PID" "$log" 'Server is ready' ||
        { svc_stop nats; svc_fail nats "$log" "not ready"; return 1; }
}

# ---- PostgreSQL: initdb once (superuser apron, password apron over TCP), then postgres ----
svc_start_postgres() {
    local port=$1 dir=$SVC_TMP/pg log=$SVC_TMP/postgres.log bin user
    bin=$(svc_pg_bin) || { SVC_WHY="PostgreSQL server binaries not installed"; return 2; }
    user=$(svc_daemon_user postgres)
    local exec_as
    svc_as_user "$user"
    if [ ! -f "$dir/data/PG_VERSION" ]; then
        mkdir -p "$dir/data" "$dir/run"
        echo apron >"$dir/pw"
        [ "$(id -u)" = 0 ] && chown -R "$user" "$dir"
        chmod 700 "$dir/data"
        "${exec_as[@]}" "$bin/initdb" -D "$dir/data" -U apron --pwfile="$dir/pw" -E UTF8 \
            --locale=C --auth-local=trust --auth-host=scram-sha-256 --no-sync --no-instructions \
            >"$dir/initdb.log" 2>&1 || { svc_fail postgres "$dir/initdb.log" "initdb failed"; return 1; }
    fi
    "${exec_as[@]}" "$bin/postgres" -D "$dir/data" -h 127.0.0.1 -p "$port" -k "$dir/run" \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c shared_buffers=16MB \
        -c max_connections=100 -c logging_collector=off >"$log" 2>&1 &
    SVC_POSTGRES_PID=$!
    SVC_POSTGRES_DSN="postgres://apron:apron@127.0.0.1:$port/postgres?sslmode=disable"
    svc_wait_log "$SVC_POSTGRES_PID" "$log" 'ready to accept connections' ||
        { svc_stop postgres; svc_fail postgres "$log" "not ready"; return 1; }
}

# ---- MariaDB: mariadb-install-db once; user apron/apron and database apron from an init file ----
svc_start_mariadb() {
    local port=$1 dir=$SVC_TMP/mariadb log=$SVC_TMP/mariadb.log user daemon
    daemon=$(command -v mariadbd || ls /usr/sbin/mariadbd 2>/dev/null)
    if [ -z "$daemon" ] || ! command -v mariadb-install-db >/dev/null; then
        SVC_WHY="mariadb-server not installed"
        return 2
    fi
    user=$(svc_daemon_user mysql)
    if [ ! -d "$dir/data/mysql" ]; then
        mkdir -p "$dir/data" "$dir/run"
        [ "$(id -u)" = 0 ] && chown -R "$user" "$dir"
        mariadb-install-db --no-defaults --datadir="$dir/data" --user="$user" --skip-test-db \
            --auth-root-authentication-method=normal --skip-name-resolve \
            >"$dir/install.log" 2>&1 ||
            { svc_fail mariadb "$dir/install.log" "mariadb-install-db failed"; return 1; }
        cat >"$dir/init.sql" <<'SQL'
CREATE DATABASE IF NOT EXISTS apron;
CREATE USER IF NOT EXISTS 'apron'@'127.0.0.1' IDENTIFIED BY 'apron';
CREATE USER IF NOT EXISTS 'apron'@'localhost' IDENTIFIED BY 'apron';
GRANT ALL ON apron.* TO 'apron'@'127.0.0.1';
GRANT ALL ON apron.* TO 'apron'@'localhost';
SQL
        chmod 644 "$dir/init.sql"
    fi
    local as=()
    if [ "$(id -u)" = 0 ]; then
        as=(--user="$user")
        : >"$log" && chown "$user" "$log"
    fi
    "$daemon" --no-defaults "${as[@]}" --datadir="$dir/data" --socket="$dir/run/mysqld.sock" \
        --pid-file="$dir/run/mysqld.pid" --bind-address=127.0.0.1 --port="$port" \
        --skip-name-resolve --init-file="$dir/init.sql" --innodb-buffer-pool-size=16M \
        --innodb-log-file-size=8M --innodb-flush-log-at-trx-commit=0 --skip-log-bin \
        --log-error="$log" >"$log.out" 2>&1 &
    SVC_MARIADB_PID=$!
    SVC_MARIADB_DSN="apron:apron@tcp(127.0.0.1:$port)/apron"
    svc_wait_log "$SVC_MARIADB_PID" "$log" 'ready for connections' ||
        { svc_stop mariadb; svc_fail mariadb "$log" "not ready"; return 1; }
}
