#!/usr/bin/env bash
# tests/integration/wapc_abi.sh — the waPC start-up order and the `wasmbus` import module, through
# `build/apron run`, with guests in WebAssembly text (tests/guests/wat/startup_*.wat and
# wasmbus_guest.wat, built into BUILD_DIR/tests/guests/ by wat2wasm).
#
# Start-up (WAPC.md §4 OURS): each start-up step of a startup_* guest appends a letter to a record
# in its memory and logs its name with __console_log; every call appends C and answers the record.
# So stdout shows the order the steps ran in (and that they ran once per instance: --repeat 2
# answers the same instance twice), stderr the log lines, host calls and the host's warning in
# the order they happened. Order asserted: start section, then _initialize or _start (only
# _initialize, with a warning, when both are exported), then wapc_init; `main` never runs; a
# _start ending with proc_exit(0) ends normally and the instance stays usable.
#
# wasmbus (WAPC.md §9): wasmCloud actors import the nine waPC functions from module `wasmbus`;
# calls round-trip and host calls (success, host error, no handler) work as they do for `wapc`.
#
# usage: tests/integration/wapc_abi.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
apron=$build/apron
. "$root/tests/integration/lib.sh"

G=$build/tests/guests
startup_cases=(reactor reactor-once command-exit-0 command-exit-0-once both-warns initialize-only
    start-trap bad-type)
wasmbus_cases=(echo host-call host-call-empty host-error no-handler console-log unknown-op)
if [ ! -f "$G/startup_reactor.wasm" ] || [ ! -f "$G/wasmbus_guest.wasm" ]; then
    why="$G/startup_reactor.wasm not built (wat2wasm missing? apt-get install wabt)"
    for c in "${startup_cases[@]}"; do skip_case "startup/$c" "$why"; done
    for c in "${wasmbus_cases[@]}"; do skip_case "wasmbus/$c" "$why"; done
    finish
fi

# ---- start-up order ----
# S start section, I _initialize, T _start, W wapc_init, C a call (M main, X after proc_exit: never)
# wapc_init's host call goes to the logger capability (its output is not under test here; the
# trace shows the call, and that --trace-host-calls sees the calls a capability answers).
export APP_DISABLE_LOGGING=true
g=$G/startup_reactor.wasm
check startup/reactor 0 'SIWC' \
    'start section\n_initialize\nwapc_init\nhost call tarmac:logger:info wapc_init\n' -- \
    "$g" --op x --trace-host-calls
check startup/reactor-once 0 'SIWCSIWCC' \
    'start section\n_initialize\nwapc_init\nhost call tarmac:logger:info wapc_init\n' -- \
    "$g" --op x --trace-host-calls --repeat 2
g=$G/startup_command.wasm
check startup/command-exit-0 0 'STWC' 'start section\n_start\nwapc_init\n' -- "$g" --op x
check startup/command-exit-0-once 0 'STWCSTWCC' 'start section\n_start\nwapc_init\n' -- \
    "$g" --op x --repeat 2
check startup/both-warns 0 'SIWC' \
    'start section\nexports both _initialize and _start: calling _initialize only\n_initialize\nwapc_init\n' -- \
    "$G/startup_both.wasm" --op x
check startup/initialize-only 0 'ICICC' '' -- "$G/startup_initialize_only.wasm" --op x --repeat 2
# Failures: refused at start-up; wapc_init does not run after a failed _start.
check startup/start-trap 1 '' \
    "_start\napron run: $G/startup_start_trap.wasm: init function _start failed: unreachable\n" -- \
    "$G/startup_start_trap.wasm" --op x
check startup/bad-type 1 '' \
    "apron run: $G/startup_bad_type.wasm: init function _initialize has the wrong type (want () -> ())\n" -- \
    "$G/startup_bad_type.wasm" --op x

# ---- wasmbus ----
g=$G/wasmbus_guest.wasm
check wasmbus/echo 0 'round trip \001' '' -- "$g" --op echo --data $'round trip \001'
check wasmbus/host-call 0 'PING' 'host call wasmcloud:wasmcloud:example:Ping ping\n' -- \
    "$g" --op hostcall --data ping --host upper --trace-host-calls
check wasmbus/host-call-empty 0 '' 'host call wasmcloud:wasmcloud:example:Ping \n' -- \
    "$g" --op hostcall --host reply: --trace-host-calls
check wasmbus/host-error 1 '' 'down\n' -- "$g" --op hostcall --data ping --host error:down
check wasmbus/no-handler 1 '' 'no host function for wasmcloud:wasmcloud:example:Ping\n' -- \
    "$g" --op hostcall --data ping
check wasmbus/no-handler-tarmac 1 '' 'callback not found\n' -- "$g" --op hostcall --data ping --tarmac
check wasmbus/no-handler-tarmac-traced 1 '' 'host call wasmcloud:wasmcloud:example:Ping ping\ncallback not found\n' -- \
    "$g" --op hostcall --data ping --tarmac --trace-host-calls
check wasmbus/console-log 0 'logged' 'hello log\nand through wapc\n' -- "$g" --op log --data 'hello log'
check wasmbus/unknown-op 1 '' 'unknown operation\n' -- "$g" --op what
finish
