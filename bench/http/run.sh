#!/usr/bin/env bash
# bench/http/run.sh — `make bench-http`: wrk against apron serving the hello example and against
# nginx answering `return 200` (both on loopback, started here on free ports with throw-away
# configs; nothing needs root), alternating for ROUNDS rounds of SECONDS each. Prints each round's
# req/s and p99 latency, then the medians and the apron/nginx ratios. Target (issue 4): req/s
# ratio ≥ 0.7 with apron's p99 ≤ 2× nginx's.
#
# usage: bench/http/run.sh BUILD_DIR   (env: ROUNDS=3 SECONDS_PER_RUN=10 CONNECTIONS=64 THREADS=2)
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
rounds=${ROUNDS:-3} secs=${SECONDS_PER_RUN:-10} conns=${CONNECTIONS:-64} threads=${THREADS:-2}
for tool in wrk nginx curl python3; do
    command -v $tool >/dev/null || PATH=$PATH:/usr/sbin command -v $tool >/dev/null ||
        { echo "bench-http: $tool not found (Debian: apt-get install wrk nginx curl)"; exit 1; }
done
export PATH=$PATH:/usr/sbin
hello=$build/examples/hello.wasm
[ -f "$hello" ] || { echo "bench-http: $hello missing (build the examples first)"; exit 1; }

tmp=$(mktemp -d /tmp/apron-bench-http-XXXXXX)
apid= npid=
cleanup() {
    [ -n "$apid" ] && kill -TERM "$apid" 2>/dev/null && wait "$apid" 2>/dev/null
    [ -n "$npid" ] && kill -QUIT "$npid" 2>/dev/null && wait "$npid" 2>/dev/null
    rm -rf "$tmp"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

cat >"$tmp/tarmac.json" <<JSON
{"services": {"bench": {"name": "bench",
  "functions": {"hello": {"filepath": "$hello"}},
  "routes": [{"type": "http", "path": "/hello", "methods": ["GET"], "function": "hello"}]}}}
JSON
APP_ENABLE_TLS=false "$build/apron" serve --listen 127.0.0.1:0 --functions "$tmp/tarmac.json" \
    >"$tmp/apron.log" 2>&1 &
apid=$!
for _ in $(seq 100); do
    addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$tmp/apron.log" | head -1)
    [ -n "$addr" ] && break
    sleep 0.05
done
[ -n "$addr" ] || { echo "bench-http: apron did not start"; cat "$tmp/apron.log"; exit 1; }
apron_url=http://$addr/hello

nport=$(free_port)
mkdir -p "$tmp/nginx"
cat >"$tmp/nginx/nginx.conf" <<CONF
daemon off;
worker_processes auto;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log warn;
events { worker_connections 1024; }
http {
    access_log off;
    client_body_temp_path $tmp/nginx/body;
    proxy_temp_path $tmp/nginx/proxy;
    fastcgi_temp_path $tmp/nginx/fastcgi;
    uwsgi_temp_path $tmp/nginx/uwsgi;
    scgi_temp_path $tmp/nginx/scgi;
    server {
        listen 127.0.0.1:$nport;
        location / { default_type text/plain; return 200 "Hello, "; }
    }
}
CONF
nginx -e "$tmp/nginx/error.log" -p "$tmp/nginx" -c "$tmp/nginx/nginx.conf" >"$tmp/nginx.out" 2>&1 &
npid=$!
nginx_url=http://127.0.0.1:$nport/hello
for _ in $(seq 100); do curl -s -o /dev/null "$nginx_url" && break; sleep 0.05; done
[ "$(curl -s "$apron_url")" = "Hello, " ] || { echo "bench-http: apron does not answer"; exit 1; }
[ "$(curl -s "$nginx_url")" = "Hello, " ] || { echo "bench-http: nginx does not answer"; cat "$tmp/nginx/error.log"; exit 1; }

# run NAME URL → appends "req_per_s p99_ms non2xx" to $tmp/res-NAME
run() {
    wrk -t"$threads" -c"$conns" -d"${secs}s" --latency "$2" >"$tmp/wrk.out" 2>&1
    python3 - "$tmp/wrk.out" >>"$tmp/res-$1" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
m = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s)\s*$", t, re.M)
p99 = float(m.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[m.group(2)]
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
print(rps, p99, errs.group(1) if errs else 0)
PY
}

echo "bench-http: wrk -t$threads -c$conns -d${secs}s, $rounds rounds alternating (apron: $apron_url, nginx: $nginx_url)"
run apron "$apron_url" >/dev/null; : >"$tmp/res-apron" # warm-up
for r in $(seq "$rounds"); do
    run apron "$apron_url"
    run nginx "$nginx_url"
    printf '  round %d  apron %10.0f req/s  p99 %7.2f ms | nginx %10.0f req/s  p99 %7.2f ms\n' "$r" \
        $(tail -1 "$tmp/res-apron" | cut -d' ' -f1,2) $(tail -1 "$tmp/res-nginx" | cut -d' ' -f1,2)
done
python3 - "$tmp/res-apron" "$tmp/res-nginx" <<'PY'
import statistics, sys
def load(p):
    rows = [list(map(float, l.split())) for l in open(p) if l.strip()]
    return (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows),
            sum(r[2] for r in rows))
a, n = load(sys.argv[1]), load(sys.argv[2])
print(f"  median   apron {a[0]:10.0f} req/s  p99 {a[1]:7.2f} ms | nginx {n[0]:10.0f} req/s  p99 {n[1]:7.2f} ms")
if a[2] or n[2]:
    print(f"  non-2xx responses: apron {int(a[2])}, nginx {int(n[2])}")
rr, pr = a[0] / n[0], a[1] / n[1]
ok = rr >= 0.7 and pr <= 2.0
print(f"apron/nginx: req/s {rr:.2f} (target >= 0.70), p99 {pr:.2f}x (target <= 2.00x): "
      + ("target met" if ok else "target missed"))
PY
