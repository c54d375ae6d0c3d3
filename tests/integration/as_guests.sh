#!/usr/bin/env bash
# tests/integration/as_guests.sh — AssemblyScript guests compiled here from the project's own
# sources (tests/guests/as/, npm packages assemblyscript + @wapc/as-guest pinned by its
# package-lock.json) and run through `build/apron run`: a response, an echo, a guest error, and a
# guest that throws (its abort records the message, then traps).
#
# Without npm the cases are skipped with the reason; CI installs node and npm, so CI skips nothing.
# The first run needs the npm registry (`npm ci`); later runs reuse tests/guests/as/node_modules.
#
# usage: tests/integration/as_guests.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
apron=$build/apron
. "$root/tests/integration/lib.sh"

out=$build/tests/guests/as
if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
    for c in hello echo fail panic; do skip_case "as/$c" "npm not found (Debian: apt-get install nodejs npm)"; done
    finish
fi
if ! "$root/tests/guests/as/build.sh" "$out" >"$tmp/build.log" 2>&1; then
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
check as/panic 1 '' 'guest trapped: unreachable: guest panicked; assembly/guest.ts (20,3)\n' -- \
    "$g" --op panic
check as/unknown-op 1 '' '*' -- "$g" --op nope
finish
