#!/usr/bin/env bash
# tools/run.sh — `make run`: installs the Debian packages the build needs when some are missing
# (with apt-get when run as root; otherwise prints the apt-get line and stops), builds, and starts
# `apron serve` on 127.0.0.1:8080 with examples/tarmac.json (TLS off) and the embedded back ends
# on: key-value on LMDB (build/run/kv.db) and SQL on SQLite (build/run/sql.db), so every example
# route works. Prints a curl command for each route. Ctrl-C stops it.
#
# Environment (each optional):
#   BUILD                 the build folder (default build; `make BUILD=dir run` passes it)
#   APRON_RUN_LISTEN      HOST:PORT to listen on (default 127.0.0.1:8080; port 0 picks a free one,
#                         printed in the "listening on" log line)
#   APRON_RUN_DIR         the folder of the database files (default $BUILD/run, created)
#   APP_ENABLE_KVSTORE, APP_BOLTDB_FILENAME, APP_ENABLE_SQL, APP_SQL_DSN: kept when set (even to
#   ""), else true, $APRON_RUN_DIR/kv.db, true, $APRON_RUN_DIR/sql.db (the DSN only when
#   APP_SQL_TYPE is unset, empty or sqlite). Any other APP_* setting passes through.
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd -P)
build=${BUILD:-build}
listen=${APRON_RUN_LISTEN:-127.0.0.1:8080}

tools/deps.sh run || exit 1

[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja >/dev/null || exit 1
ninja -C "$build" || exit 1
[ -f "$build/examples/hello.wasm" ] || { echo "run: the examples were not built (clang + wasi-libc?)"; exit 1; }
build_abs=$(cd "$build" && pwd -P)

run_dir=${APRON_RUN_DIR:-$build_abs/run}
mkdir -p "$run_dir" || exit 1
run_dir=$(cd "$run_dir" && pwd -P)

# examples/tarmac.json names the guests in ../build/examples; another build folder serves a copy
# that names its own.
functions=examples/tarmac.json
if [ "$build_abs" != "$root/build" ]; then
    functions=$run_dir/tarmac.json
    sed "s#\"\.\./build/examples/#\"$build_abs/examples/#" examples/tarmac.json >"$functions" || exit 1
fi

export APP_ENABLE_KVSTORE=${APP_ENABLE_KVSTORE-true}
export APP_BOLTDB_FILENAME=${APP_BOLTDB_FILENAME-$run_dir/kv.db}
export APP_ENABLE_SQL=${APP_ENABLE_SQL-true}
case ${APP_SQL_TYPE:-sqlite} in
sqlite) export APP_SQL_DSN=${APP_SQL_DSN-$run_dir/sql.db} ;;
esac

url=http://$listen
echo
echo "apron is starting on $url (Ctrl-C stops it) with $functions;"
case ${APP_KVSTORE_TYPE:-internal} in
internal|boltdb|lmdb) kv="LMDB at ${APP_BOLTDB_FILENAME:-/data/tarmac/tarmac.db}" ;;
*) kv=$APP_KVSTORE_TYPE ;;
esac
case ${APP_SQL_TYPE:-sqlite} in
sqlite) sql="SQLite at ${APP_SQL_DSN:-/data/tarmac/tarmac.sqlite3}" ;;
*) sql=$APP_SQL_TYPE ;;
esac
echo "key-value: enable_kvstore=$APP_ENABLE_KVSTORE, $kv;"
echo "SQL: enable_sql=$APP_ENABLE_SQL, $sql."
echo "The data stays in $run_dir between runs (remove it to start afresh). Try:"
echo
hint() { printf '    %-66s # %s\n' "$1" "$2"; }
hint "curl -d 'apron' $url/hello" "Hello, apron"
hint "curl -d 'stressed' $url/reverse" "desserts, stored in the key-value cache"
hint "curl -d 'stressed' $url/reverse" "desserts again, from the cache"
hint "curl -s $url/metrics | grep reverse_cache" "the cache's misses and hits"
hint "curl -d 'Ada' $url/guestbook" '{"added":1,"guests":[{"name":"Ada"},...]}'
hint "curl -d '$url/hello' $url/fetch" '{"code":200,...,"body":"Hello, "}'
echo
exec env APP_ENABLE_TLS=false "$build/apron" serve --listen "$listen" --functions "$functions"
