#!/usr/bin/env bash
# tests/soak.sh — `make soak`: the hello example (build/examples/hello.wasm) under wrk at full load
# for SECONDS (default 60), once per isolation mode (/pool and /request: docs/isolation.md), then
# a kv function (examples/reverse.wasm: a kvstore get per request and a set per new word, on the
# embedded LMDB store) the same way.
# Passes when wrk reports no non-2xx response and no socket error, and the server's RSS after the
# run is within 10% of its RSS after a 5 s warm-up. Prints requests per second per mode and their
# ratio (issue 7's target: request ≥ 0.8 × pool).
#
# usage: tests/soak.sh [BUILD_DIR] [SECONDS]
set -u
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
secs=${2:-60}
hello=$build/examples/hello.wasm
reverse=$build/examples/reverse.wasm
for tool in wrk curl; do
    command -v $tool >/dev/null || { echo "soak: $tool not installed (Debian: apt-get install $tool)"; exit 1; }
done
[ -f "$hello" ] || { echo "soak: $hello missing (the examples need clang for wasm32-wasi)"; exit 1; }

tmp=$(mktemp -d /tmp/apron-soak-XXXXXX)
pid=
trap '[ -n "$pid" ] && kill -KILL $pid 2>/dev/null; rm -rf "$tmp"' EXIT
cat >"$tmp/tarmac.json" <<JSON
{"services": {"soak": {"name": "soak",
  "functions": {"pool": {"filepath": "$hello", "isolation": "pool"},
                "request": {"filepath": "$hello", "isolation": "request"},
                "kv": {"filepath": "$reverse"}},
  "routes": [{"type": "http", "path": "/pool", "methods": ["GET", "POST"], "function": "pool"},
             {"type": "http", "path": "/request", "methods": ["GET", "POST"], "function": "request"},
             {"type": "http", "path": "/kv", "methods": ["POST"], "function": "kv"}]}}}
JSON
# POSTs of 2,000 different words to /kv: misses store, hits read
cat >"$tmp/kv.lua" <<'LUA'
request = function()
  return wrk.format("POST", "/kv", nil, "word" .. math.random(1, 2000))
end
LUA
env APP_ENABLE_TLS=false APP_ENABLE_KVSTORE=true APP_KVSTORE_TYPE=lmdb \
    APP_BOLTDB_FILENAME="$tmp/kv.db" "$build/apron" serve --listen 127.0.0.1:0 \
    --functions "$tmp/tarmac.json" >"$tmp/log" 2>&1 &
pid=$!
base=
for _ in $(seq 200); do
    addr=$(sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$tmp/log" | head -1)
    [ -n "$addr" ] && { base=http://$addr; break; }
    kill -0 $pid 2>/dev/null || break
    sleep 0.05
done
[ -n "$base" ] || { echo "soak: the server did not start"; cat "$tmp/log"; exit 1; }
[ "$(curl -s -o /dev/null -w '%{http_code}' "$base/pool")" = 200 ] || { echo "soak: /pool does not answer 200"; exit 1; }

rss() { awk '/^VmRSS/ {print $2}' /proc/$pid/status; }
threads=$(nproc)
conns=$((threads * 16))
status=0
declare -A rps
for mode in pool request kv; do
    script=()
    [ $mode = kv ] && script=(-s "$tmp/kv.lua")
    wrk -t"$threads" -c"$conns" -d5s "${script[@]}" "$base/$mode" >/dev/null 2>&1
    before=$(rss)
    wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "${script[@]}" "$base/$mode" >"$tmp/wrk-$mode" 2>&1
    after=$(rss)
    rps[$mode]=$(awk '/^Requests\/sec/ {print $2}' "$tmp/wrk-$mode")
    total=$(awk '/requests in/ {print $1}' "$tmp/wrk-$mode")
    p99=$(awk '$1 == "99%" {print $2}' "$tmp/wrk-$mode")
    growth=$(awk -v a="$after" -v b="$before" 'BEGIN {printf "%.1f", (a - b) * 100 / b}')
    echo "soak $mode: $total requests in ${secs}s, ${rps[$mode]} req/s, p99 $p99, RSS ${before} → ${after} KiB (${growth}%)"
    if grep -E 'Non-2xx|Socket errors' "$tmp/wrk-$mode"; then
        echo "soak $mode: FAILED (errors above)"; status=1
    fi
    if awk -v g="$growth" 'BEGIN {exit !(g > 10 || g < -10)}'; then
        echo "soak $mode: FAILED (RSS moved more than 10%)"; status=1
    fi
done
echo "soak: request/pool throughput ratio $(awk -v r="${rps[request]}" -v p="${rps[pool]}" 'BEGIN {printf "%.2f", r / p}')"
kill -TERM $pid
wait $pid || { echo "soak: the server did not exit 0"; status=1; }
pid=
[ $status -eq 0 ] && echo "soak: passed" || echo "soak: FAILED"
exit $status
