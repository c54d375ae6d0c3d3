#!/usr/bin/env bash
# tests/integration/wapc_hostile.sh — hostile waPC guests (tests/guests/wat/hostile_*.wat, built
# into BUILD_DIR/tests/guests/) run through `build/apron run`: out-of-range pointers to every
# import, huge lengths, endless host-call loops and plain loops, recursion to stack exhaustion,
# memory.grow to the limit, proc_exit mid-call and in start-up, broken module shapes. Each must end
# with a clean error (exact text checked) and exit status 1 — never a crash, never a sanitizer
# report (the asan build runs this script too, and stderr is compared exactly).
#
# Bounds on endless guests: host calls per invocation are capped (default 1,000,000; a trap
# "host call limit exceeded (N)"), and a plain loop is stopped by a deadline (--timeout-ms, a
# watchdog thread calling ap_wapc_interrupt; a trap "interrupted").
#
# usage: tests/integration/wapc_hostile.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
apron=$build/apron
. "$root/tests/integration/lib.sh"

G=$build/tests/guests
if [ ! -f "$G/hostile_oob.wasm" ]; then
    echo "hostile guests: $G/hostile_oob.wasm not built (wat2wasm missing? apt-get install wabt): skipping"
    echo "[  SKIPPED ] 1 test(s), listed below:"
    exit 0
fi

oob() { printf 'guest trapped: out of bounds memory access (%s)\\n' "$1"; }

# ---- out-of-range pointers and lengths, one import at a time ----
g=$G/hostile_oob.wasm
check oob/guest_request-op 1 '' "$(oob '__guest_request: 65536+1')" -- "$g" --op q --data xy
check oob/guest_request-payload 1 '' "$(oob '__guest_request: 4294967280+2')" -- "$g" --op Q --data xy
check oob/guest_response-ptr 1 '' "$(oob '__guest_response: 4294967295+2')" -- "$g" --op r
check oob/guest_response-4GiB 1 '' "$(oob '__guest_response: 16+4294967295')" -- "$g" --op R
check oob/guest_error 1 '' "$(oob '__guest_error: 65530+7')" -- "$g" --op e
check oob/host_call-binding 1 '' "$(oob '__host_call: 65536+1')" -- "$g" --op b --echo-host-calls
check oob/host_call-namespace 1 '' "$(oob '__host_call: 8+2147483648')" -- "$g" --op n --echo-host-calls
check oob/host_call-operation 1 '' "$(oob '__host_call: 4294967295+4294967295')" -- "$g" --op o \
    --echo-host-calls
check oob/host_call-payload 1 '' "$(oob '__host_call: 65000+65536')" -- "$g" --op p --echo-host-calls
check oob/host_response 1 '' "$(oob '__host_response: 4294967294+2')" -- "$g" --op h --data xy \
    --echo-host-calls
check oob/host_error 1 '' "$(oob '__host_error: 65535+26')" -- "$g" --op H
check oob/console_log-4GiB 1 '' "$(oob '__console_log: 0+4294967295')" -- "$g" --op l
check oob/console_log-ptr 1 '' "$(oob '__console_log: 4294967295+1')" -- "$g" --op L
check oob/zero-lengths-are-legal 0 'ok' '\n' -- "$g" --op z --echo-host-calls

# ---- endless guests ----
g=$G/hostile_loop.wasm
# The loop calls tarmac:logger:info, a real capability now: its records are not under test.
export APP_DISABLE_LOGGING=true
check loop/host-calls-default-limit 1 '' 'guest trapped: host call limit exceeded (1000000)\n' -- \
    "$g" --op h
check loop/host-calls-limit 1 '' 'guest trapped: host call limit exceeded (1000)\n' -- \
    "$g" --op h --max-host-calls 1000 --echo-host-calls
check loop/spin-deadline 1 '' 'guest trapped: interrupted\n' -- "$g" --op l --timeout-ms 200
check loop/spin-then-fresh-instance 1 '' 'guest trapped: interrupted\nguest trapped: interrupted\n' -- \
    "$g" --op l --timeout-ms 100 --repeat 2
check loop/state-persists 0 '123' '' -- "$g" --op c --repeat 3

# ---- stack exhaustion ----
g=$G/hostile_recurse.wasm
check recurse/depth 1 '' 'guest trapped: call stack exhausted\n' -- "$g" --op r
check recurse/fat-frames 1 '' 'guest trapped: call stack exhausted\n' -- "$g" --op f

# ---- memory ----
g=$G/hostile_grow.wasm
check grow/to-the-limit 0 'grew to 4096 pages' '' -- "$g" --op g
check grow/4GiB-at-once 0 'refused' '' -- "$g" --op u

# ---- proc_exit ----
g=$G/hostile_exit.wasm
check exit/mid-call 1 '' 'guest exited with code 3\n' -- "$g" --op x
check exit/mid-call-zero 1 '' 'guest exited with code 0\n' -- "$g" --op 0
check exit/mid-call-zero-tarmac 0 '' '' -- "$g" --op 0 --tarmac
check exit/mid-call-nonzero-tarmac 1 '' 'guest exited with code 3\n' -- "$g" --op x --tarmac
# TARMAC.md §11.2: a response given before proc_exit is the answer in Tarmac mode, whatever the
# code; waPC's own rule (WAPC.md §6.3 rule 1) stays an error.
check exit/response-then-exit-0-tarmac 0 'partial' '' -- "$g" --op r --tarmac
check exit/response-then-exit-4-tarmac 0 'partial' '' -- "$g" --op R --tarmac
check exit/response-then-exit-4-tarmac-fresh-instance 0 'partialpartial' '' -- "$g" --op R --tarmac \
    --repeat 2
check exit/response-then-exit-0 1 '' 'guest exited with code 0\n' -- "$g" --op r
check exit/response-then-exit-4 1 '' 'guest exited with code 4\n' -- "$g" --op R
check exit/start-exit-0-usable 0 'alive' '' -- "$g" --op k
check exit/after-exit-fresh-instance 1 '' 'guest exited with code 3\nguest exited with code 3\n' -- \
    "$g" --op x --repeat 2
check exit/in-wapc_init 1 '' \
    "apron run: $G/hostile_exit_init.wasm: init function wapc_init failed: exited with code 7\n" -- \
    "$G/hostile_exit_init.wasm" --op x

# ---- odd but legal, and env.abort ----
g=$G/hostile_misc.wasm
start='from the start section\nhost call startup::hello \n'
check misc/abort-utf16 1 '' "${start}guest trapped: abort: h\xc3\xa9llo \xf0\x9f\x98\x80 at f.ts:1:2\n" -- \
    "$g" --op a --echo-host-calls --trace-host-calls
check misc/abort-bad-pointers 1 '' "${start}guest trapped: abort: ? at ?:7:8\n" -- \
    "$g" --op A --echo-host-calls --trace-host-calls
check misc/rc-2-no-message 1 '' "${start}call to \"2x\" was unsuccessful\n" -- \
    "$g" --op 2x --echo-host-calls --trace-host-calls
check misc/error-beats-rc-1 1 '' "${start}bad news\n" -- "$g" --op E --echo-host-calls --trace-host-calls
check misc/last-response-wins 0 'second' "$start" -- "$g" --op R --echo-host-calls --trace-host-calls
check misc/grow-between-host-call-steps 0 'payload' "${start}host call startup::hello payload\n" -- \
    "$g" --op g --data payload --echo-host-calls --trace-host-calls

# ---- broken shapes: refused before any call ----
shape() { printf 'apron run: %s: %s\\n' "$G/$1.wasm" "$2"; }
check shape/init-trap 1 '' "$(shape hostile_init_trap 'init function wapc_init failed: integer divide by zero')" -- \
    "$G/hostile_init_trap.wasm" --op x
check shape/no-guest-call 1 '' "$(shape hostile_no_guest_call 'not a waPC guest: no exported function __guest_call')" -- \
    "$G/hostile_no_guest_call.wasm" --op x
check shape/bad-guest-call-type 1 '' "$(shape hostile_bad_guest_call 'not a waPC guest: __guest_call must have type (i32, i32) -> i32')" -- \
    "$G/hostile_bad_guest_call.wasm" --op x
check shape/unknown-import 1 '' "$(shape hostile_unknown_import 'unknown import evil.steal')" -- \
    "$G/hostile_unknown_import.wasm" --op x
check shape/old-host-call-abi 1 '' "$(shape hostile_old_abi 'import wapc.__host_call has the wrong type')" -- \
    "$G/hostile_old_abi.wasm" --op x
check shape/no-memory 1 '' "$(shape hostile_no_memory 'not a waPC guest: no exported memory')" -- \
    "$G/hostile_no_memory.wasm" --op x
printf 'not wasm' >"$tmp/junk.wasm"
check shape/not-wasm 1 '' '*' -- "$tmp/junk.wasm" --op x
check shape/missing-file 1 '' "apron run: cannot read $tmp/none.wasm: No such file or directory\n" -- \
    "$tmp/none.wasm" --op x

finish
