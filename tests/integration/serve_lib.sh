# tests/integration/serve_lib.sh — sourced by the scripts that drive a real `apron serve`:
# starting it in the background on a free loopback port and stopping it with SIGTERM.
# Expects report.sh to be sourced too; `pid` is the server's (kill it in the script's EXIT trap).

# start LOG [ENV...] CMD...: runs `env APP_ENABLE_TLS=false ENV... CMD...` in the background (CMD
# is an `apron serve --listen 127.0.0.1:0 ...`), in the folder serve_cwd if set, output to LOG;
# waits up to 10 s for its "listening on" line. Sets pid, addr (HOST:PORT) and base
# (http://addr). Status 1 when the server exits or does not listen in time.
serve_cwd=
start() {
    local log=$1; shift
    (cd "${serve_cwd:-.}" && exec env APP_ENABLE_TLS=false "$@") >"$log" 2>&1 &
    pid=$!
    addr= base=
    for _ in $(seq 200); do
        addr=$(sed -n 's/.*"listening on \([^"]*\)".*/\1/p' "$log" 2>/dev/null | head -1)
        [ -n "$addr" ] && { base=http://$addr; return 0; }
        kill -0 "$pid" 2>/dev/null || return 1
        sleep 0.05
    done
    return 1
}

# stop: SIGTERM, then the server's exit status.
stop() { kill -TERM "$pid" 2>/dev/null; wait "$pid"; local rc=$?; pid=; return $rc; }
