#!/usr/bin/env bash
# tests/integration/serve_features.sh — `apron serve` beyond the request path: init functions with
# retries and apron's doubling backoff, run_mode job exit codes, SIGTERM/SIGINT/SIGHUP while an
# init function waits to retry, a scheduled task observed running, function-to-function calls
# through a `function` route (an unlisted one fails "callback not found"), wasm_functions
# observed for init, task, f2f and HTTP runs, guest WASI output in the log, SIGHUP reload of
# tarmac.json under load without a failed request, and `promtool check metrics`.
# Cases print in cmocka's format ("[       OK ]", "[  SKIPPED ]", "[  FAILED  ] N test(s), listed
# below:") so tests/run.sh counts each one, and a skipped case as skipped, not passed.
#
# usage: tests/integration/serve_features.sh [BUILD_DIR]
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/report.sh"
. "$root/tests/integration/serve_lib.sh" # start, stop

for tool in wat2wasm curl; do
    command -v $tool >/dev/null || { skip_case "serve feature tests" "$tool not installed"; finish; }
done
[ -x "$apron" ] || { bad "apron binary" "$apron missing"; finish; }

tmp=$(mktemp -d /tmp/apron-features-XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill -KILL "$pid" 2>/dev/null; rm -rf "$tmp"; }
trap cleanup EXIT
for g in echo fail call print flaky; do
    wat2wasm "$root/tests/guests/wat/http_$g.wat" -o "$tmp/$g.wasm" || { bad "wat2wasm http_$g"; finish; }
done


# tarmac FILE ROUTES_JSON: a service with every test function and the given routes.
tarmac() {
    cat >"$1" <<JSON
{"services": {"svc": {"name": "svc",
  "functions": {"echo": {"filepath": "echo.wasm"}, "fail": {"filepath": "fail.wasm"},
                "call": {"filepath": "call.wasm"}, "print": {"filepath": "print.wasm"},
                "flaky": {"filepath": "flaky.wasm", "pool_size": 1}},
  "routes": [$2]}}}
JSON
}

# ---- Init functions and job mode ----
tarmac "$tmp/init_ok.json" '{"type": "init", "function": "echo"}'
APP_ENABLE_TLS=false APP_RUN_MODE=job "$apron" serve --functions "$tmp/init_ok.json" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -qF 'Run mode is job' "$tmp/out" && ok "job mode: init succeeds → exit 0" || bad "job mode success" "exit $rc"
tarmac "$tmp/init_fail.json" '{"type": "init", "function": "fail", "retries": 0}'
APP_ENABLE_TLS=false APP_RUN_MODE=job "$apron" serve --functions "$tmp/init_fail.json" >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -qF 'init function exceeded retries' "$tmp/out" && ok "job mode: init fails (retries 0) → exit $rc" || bad "job mode failure" "exit $rc"
[ "$(grep -c 'Executing Init Function' "$tmp/out")" = 1 ] && ok "retries 0 → one attempt" || bad "retries 0 → one attempt"
# flaky fails twice then succeeds: attempts at 0 s, +1 s, +1+2 s (the delay doubles; Tarmac
# squares it, which for frequency 1 would be 1 s each time).
tarmac "$tmp/init_flaky.json" '{"type": "init", "function": "flaky", "retries": 3, "frequency": 1}'
APP_ENABLE_TLS=false APP_RUN_MODE=job "$apron" serve --functions "$tmp/init_flaky.json" >"$tmp/out" 2>&1
rc=$?
[ $rc -eq 0 ] && ok "init with retries: fails twice, third attempt succeeds, exit 0" || bad "init with retries" "exit $rc: $(tail -3 "$tmp/out")"
mapfile -t times < <(grep 'Executing Init Function' "$tmp/out" | sed -n 's/.*"time":"\([^"]*\)".*/\1/p')
if [ ${#times[@]} -eq 3 ]; then
    t0=$(date -d "${times[0]}" +%s.%N) t1=$(date -d "${times[1]}" +%s.%N) t2=$(date -d "${times[2]}" +%s.%N)
    if awk -v a="$t0" -v b="$t1" -v c="$t2" 'BEGIN { d1 = b - a; d2 = c - b; exit !(d1 > 0.9 && d1 < 1.6 && d2 > 1.9 && d2 < 2.6) }'; then
        ok "backoff doubles: 1 s then 2 s"
    else bad "backoff doubles" "attempts at $t0 $t1 $t2"; fi
else bad "three init attempts" "${#times[@]} attempts"; fi
tarmac "$tmp/init_flaky1.json" '{"type": "init", "function": "flaky", "retries": 1, "frequency": 1}'
APP_ENABLE_TLS=false APP_RUN_MODE=job "$apron" serve --functions "$tmp/init_flaky1.json" >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && [ "$(grep -c 'Executing Init Function' "$tmp/out")" = 2 ] && ok "retries 1 → two attempts, then exit $rc" || bad "retries 1" "exit $rc"
# daemon mode: a failing init stops start-up before listening.
APP_ENABLE_TLS=false "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/init_fail.json" >"$tmp/out" 2>&1
rc=$?
[ $rc -ne 0 ] && ! grep -q 'listening on' "$tmp/out" && ok "daemon mode: failing init → no listener, exit $rc" || bad "daemon failing init" "exit $rc"

# Signals while an init function waits 30 s before its next attempt: SIGHUP is deferred (no
# reload, no exit), SIGTERM/SIGINT stop cleanly at once: "Received shutdown signal", exit 0 (as
# a stop while serving), no listener.
tarmac "$tmp/init_wait.json" '{"type": "init", "function": "fail", "retries": 3, "frequency": 30}'
for s in TERM INT; do
    APP_ENABLE_TLS=false "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/init_wait.json" >"$tmp/out" 2>&1 &
    pid=$!
    for _ in $(seq 100); do grep -qF 'Error executing Init Function' "$tmp/out" && break; sleep 0.05; done
    if [ $s = TERM ]; then
        kill -HUP "$pid"; sleep 0.3
        kill -0 "$pid" 2>/dev/null && ! grep -qF 'Reloading' "$tmp/out" &&
            ok "SIGHUP during init's retry wait: ignored for now, still waiting" ||
            bad "SIGHUP during init wait" "$(tail -3 "$tmp/out")"
    fi
    # (a background job of a non-interactive shell starts with SIGINT ignored: apron must take it
    # anyway.) At most 3 s, then SIGKILL.
    t0=$(date +%s.%N)
    kill -$s "$pid"
    for _ in $(seq 60); do kill -0 "$pid" 2>/dev/null || break; sleep 0.05; done
    kill -KILL "$pid" 2>/dev/null
    wait "$pid"; rc=$?; pid=
    t1=$(date +%s.%N)
    took=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
    if [ $rc -eq 0 ] && awk -v d="$took" 'BEGIN { exit !(d < 2) }' &&
        grep -qF '"msg":"Received shutdown signal"' "$tmp/out" && grep -qF '"msg":"Service shutdown"' "$tmp/out" &&
        [ "$(grep -c 'Executing Init Function' "$tmp/out")" = 1 ] && ! grep -q 'listening on' "$tmp/out"; then
        ok "SIG$s during init's retry wait → clean stop in ${took} s, exit 0"
    else bad "SIG$s during init's retry wait" "exit $rc after ${took} s: $(tail -3 "$tmp/out")"; fi
done
# A SIGHUP taken during the wait is a reload once start-up is done (flaky fails twice, so the
# reload's own init waits 1 + 2 s too).
tarmac "$tmp/init_hup.json" '{"type": "init", "function": "flaky", "retries": 3, "frequency": 1}'
APP_ENABLE_TLS=false "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/init_hup.json" >"$tmp/out" 2>&1 &
pid=$!
for _ in $(seq 100); do grep -qF 'Error executing Init Function' "$tmp/out" && break; sleep 0.05; done
kill -HUP "$pid"
for _ in $(seq 200); do grep -qF '"msg":"Reloaded Functions and Routes"' "$tmp/out" && break; sleep 0.05; done
grep -q 'listening on' "$tmp/out" && grep -qF '"msg":"Reloaded Functions and Routes"' "$tmp/out" &&
    [ "$(grep -n 'listening on' "$tmp/out" | cut -d: -f1)" -lt "$(grep -n '"msg":"Reloading wasm_function_config"' "$tmp/out" | cut -d: -f1)" ] &&
    ok "SIGHUP during init's retry wait → reload after start-up" || bad "deferred SIGHUP" "$(tail -3 "$tmp/out")"
stop; rc=$?
[ $rc -eq 0 ] && ok "SIGTERM after the deferred reload → exit 0" || bad "exit after deferred reload" "exit $rc"

# ---- An unknown host call: Tarmac's text (TARMAC.md §1.6, §4.8) ----
# call's guest calls tarmac:function:echo, which no `function` route lists here; it fails with
# the host's error text as its own.
tarmac "$tmp/nofn.json" '{"type": "http", "path": "/call", "methods": ["POST"], "function": "call"}'
if start "$tmp/log" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/nofn.json"; then
    got=$(curl -s -w ' %{http_code}' -d x "$base/call")
    [ "$got" = "failed to execute wasm module - callback not found 500" ] &&
        ok "unlisted tarmac:function → guest sees \"callback not found\"" || bad "unknown host call text" "$got"
    stop
else
    bad "server without function routes starts" "$(tail -5 "$tmp/log")"
fi

# ---- Init function, scheduled task, function-to-function, guest output ----
tarmac "$tmp/main.json" '{"type": "init", "function": "echo"},
    {"type": "http", "path": "/call", "methods": ["POST"], "function": "call"},
    {"type": "http", "path": "/print", "methods": ["GET"], "function": "print"},
    {"type": "http", "path": "/v", "methods": ["POST"], "function": "echo"},
    {"type": "function", "function": "echo"},
    {"type": "scheduled_task", "function": "print", "frequency": 1}'
if start "$tmp/log" "$apron" serve --listen 127.0.0.1:0 --functions "$tmp/main.json"; then
    ok "server with init, scheduled task and function routes starts"
    got=$(curl -s -w ' %{http_code}' -d "via echo" "$base/call")
    [ "$got" = "via echo 200" ] && ok "function-to-function: call → echo" || bad "function-to-function" "$got"
    grep -qF '"msg":"Executing Function to Function callback"' "$tmp/log" && ok "f2f callback logged" || bad "f2f callback logged"
    got=$(curl -s -w ' %{http_code}' "$base/print")
    [ "$got" = "printed 200" ] && ok "print guest answers" || bad "print guest" "$got"
    sleep 0.2
    grep -F '"msg":"guest output"' "$tmp/log" | grep -F '"function":"print"' | grep -F '"stream":"stdout"' | grep -qF '"message":"tick from stdout"' &&
        ok "guest stdout → log line tagged with the function" || bad "guest stdout in the log"
    grep -F '"msg":"guest output"' "$tmp/log" | grep -F '"level":"WARN"' | grep -qF '"message":"tock from stderr"' &&
        ok "guest stderr → WARN log line" || bad "guest stderr in the log"
    n0=$(grep -c 'tick from stdout' "$tmp/log")
    sleep 2.3
    n1=$(grep -c 'tick from stdout' "$tmp/log")
    [ $((n1 - n0)) -ge 2 ] && ok "scheduled task runs every second ($((n1 - n0)) runs in 2.3 s)" || bad "scheduled task" "$n0 → $n1"
    curl -s "$base/metrics" >"$tmp/metrics"
    grep -qF 'scheduled_tasks_count{tasks="print"}' "$tmp/metrics" && ok "/metrics counts the scheduled task" || bad "/metrics scheduled_tasks" "$(grep scheduled "$tmp/metrics" | head -3)"
    # wasm_functions observes every run (TARMAC.md §1.7 step 5), not only HTTP ones: echo ran as
    # the init function and once through call's f2f call (no HTTP request reached it yet), print
    # once over HTTP and then as the scheduled task.
    count() { sed -n "s/^wasm_functions_count{route=\"$1:handler\"} \([0-9]*\)$/\1/p" "$tmp/metrics"; }
    got=$(count echo)
    [ "$got" = 2 ] && ok "wasm_functions counts the init function and the f2f call (echo: 2)" || bad "wasm_functions for init + f2f" "echo count '$got'"
    got=$(count call)
    [ "$got" = 1 ] && ok "wasm_functions counts an HTTP call once (call: 1)" || bad "wasm_functions for HTTP" "call count '$got'"
    got=$(count print)
    [ -n "$got" ] && [ "$got" -ge 3 ] && ok "wasm_functions counts the scheduled task's runs (print: $got)" || bad "wasm_functions for scheduled tasks" "print count '$got'"
    if command -v promtool >/dev/null; then
        promtool check metrics <"$tmp/metrics" >"$tmp/promtool" 2>&1 && ok "promtool check metrics" || bad "promtool check metrics" "$(head -5 "$tmp/promtool")"
    else
        skip_case "promtool check metrics" "promtool not installed (Debian package prometheus)"
    fi

    # ---- SIGHUP reload under load ----
    # The new file routes /v to print instead of echo and drops the scheduled task.
    tarmac "$tmp/next.json" '{"type": "http", "path": "/v", "methods": ["POST"], "function": "print"},
        {"type": "http", "path": "/added", "methods": ["GET"], "function": "echo"}'
    for i in 1 2 3 4; do
        ( end=$((SECONDS + 4)); while [ $SECONDS -lt $end ]; do
            curl -s -o /dev/null -w '%{http_code}\n' -d x "$base/v"; done >"$tmp/codes$i" ) &
    done
    sleep 1
    cp "$tmp/main.json" "$tmp/main.bak"; cp "$tmp/next.json" "$tmp/main.json"
    kill -HUP "$pid"; sleep 1
    cp "$tmp/main.bak" "$tmp/main.json"; kill -HUP "$pid"; sleep 1
    cp "$tmp/next.json" "$tmp/main.json"; kill -HUP "$pid"
    wait $(jobs -p | grep -v "^$pid$") 2>/dev/null
    total=$(cat "$tmp"/codes* | wc -l); good=$(cat "$tmp"/codes* | grep -c '^200$')
    [ "$total" -gt 20 ] && [ "$good" = "$total" ] && ok "three reloads under load: $total requests, all 200" || bad "reload under load" "$good of $total were 200"
    [ "$(grep -c '"msg":"Reloaded Functions and Routes"' "$tmp/log")" = 3 ] && ok "three reloads logged" || bad "reloads logged" "$(grep -c Reloaded "$tmp/log")"
    got=$(curl -s -w ' %{http_code}' -d x "$base/v")
    [ "$got" = "printed 200" ] && ok "after reload /v runs the new function" || bad "after reload /v" "$got"
    got=$(curl -s -o /dev/null -w '%{http_code}' "$base/added")
    [ "$got" = 200 ] && ok "after reload the new route exists" || bad "new route" "$got"
    got=$(curl -s -o /dev/null -w '%{http_code}' -d x "$base/call")
    [ "$got" = 404 ] && ok "after reload the removed route is gone" || bad "removed route" "$got"
    echo '{"services": {' >"$tmp/main.json"
    kill -HUP "$pid"; sleep 0.3
    grep -qF 'Reload failed, the running functions stay' "$tmp/log" && ok "invalid tarmac.json on reload: logged, kept running" || bad "invalid reload"
    got=$(curl -s -w ' %{http_code}' -d x "$base/v")
    [ "$got" = "printed 200" ] && ok "still serving after a failed reload" || bad "after failed reload" "$got"
    stop; rc=$?
    [ $rc -eq 0 ] && ok "SIGTERM after reloads → exit 0" || bad "exit after reloads" "exit $rc"
    grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/log" && bad "sanitizer report" "$(grep -m3 -E 'Sanitizer|runtime error' "$tmp/log")"
else
    bad "server starts" "$(tail -5 "$tmp/log")"
fi
finish
