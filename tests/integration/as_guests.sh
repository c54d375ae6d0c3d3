#!/usr/bin/env bash
# tests/integration/as_guests.sh — AssemblyScript guests compiled here from the project's own
# sources (tests/guests/as/, npm packages assemblyscript + @wapc/as-guest pinned by its
# package.json and package-lock.json) and run through `build/apron run`: a response, an echo, a
# guest error, a guest that throws (its own abort records the message, then traps; the variant
# built without `--use abort` imports env.abort instead), and host calls through @wapc/as-guest's
# hostCall: wapc:testing:upper answered by the test host, tarmac:kvstore:set/get answered by the
# real kvstore capability, each traced (--trace-host-calls) to check the strings the guest sent.
#
# The npm packages come from `make test` (tools/deps.sh runs tests/guests/as/build.sh --install);
# run alone, build.sh installs them itself. When they cannot be installed (no node/npm, no
# registry) every case is skipped with the reason: never failed, never counted as passed.
#
# usage: tests/integration/as_guests.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
apron=$build/apron
. "$root/tests/integration/lib.sh"

cases=(hello echo fail panic unknown-op env-abort/panic env-abort/hello upper upper-host-error
    kv kv-no-kvstore)
out=$build/tests/guests/as
rc=0
"$root/tests/guests/as/build.sh" "$out" >"$tmp/build.log" 2>&1 || rc=$?
if [ $rc = 77 ]; then
    why=$(grep '^AssemblyScript packages not installed' "$tmp/build.log" | tail -n 1)
    for c in "${cases[@]}"; do skip_case "as/$c" "${why:-npm packages not installed}"; done
    finish
elif [ $rc != 0 ]; then
    echo "[  ERROR   ] as/build: tests/guests/as/build.sh failed:"
    tail -n 20 "$tmp/build.log" | sed 's/^/    /'
    echo "[  FAILED  ] as/build"
    fail=$((fail + 1))
    failed_names+=("as/build")
    finish
fi

g=$out/guest.wasm
check as/hello 0 'Hello, world' '' -- "$g" --op hello --data world
check as/echo 0 'bytes \001\002 kept' '' -- "$g" --op echo --data $'bytes \001\002 kept'
check as/fail 1 '' 'this is a test error\n' -- "$g" --op fail
check as/panic 1 '' 'guest trapped: unreachable: guest panicked; assembly/guest.ts (23,3)\n' -- \
    "$g" --op panic
check as/unknown-op 1 '' 'Could not find function "nope"\n' -- "$g" --op nope

# The runtime's default abort is the host's env.abort (WAPC.md §9 OURS): message, file, line and
# column become the error, and the guest traps.
check as/env-abort/panic 1 '' 'guest trapped: abort: guest panicked at assembly/guest.ts:23:3\n' -- \
    "$out/guest_env_abort.wasm" --op panic
check as/env-abort/hello 0 'Hello, world' '' -- "$out/guest_env_abort.wasm" --op hello --data world

# Host calls: the console line, then the call with the guest's strings, then the reply used.
check as/upper 0 'host said: ABC D\303\251' 'upper: calling the host\nhost call wapc:testing:upper abc d\303\251\n' -- \
    "$g" --op upper --data 'abc dé' --host upper --trace-host-calls
check as/upper-host-error 1 '' 'upper: calling the host\nhost call wapc:testing:upper abc\nno capitalizer\n' -- \
    "$g" --op upper --data abc --host 'error:no capitalizer' --trace-host-calls
# tarmac:kvstore through the real capability (in-memory store): set, then get answers the value.
kv_set='host call tarmac:kvstore:set {"key":"greeting","data":"aMOpbGxvLCB3b3JsZCE="}'
kv_get='host call tarmac:kvstore:get {"key":"greeting"}'
check as/kv 0 '{"status":{"code":200,"status":"OK"},"data":"aMOpbGxvLCB3b3JsZCE="}' \
    "$kv_set\n$kv_get\n" -- "$g" --op kv --data 'greeting=héllo, world!' --kv-type in-memory \
    --trace-host-calls
check as/kv-no-kvstore 1 '' "$kv_set\nno host function for tarmac:kvstore:set\n" -- \
    "$g" --op kv --data 'greeting=héllo, world!' --trace-host-calls
finish
