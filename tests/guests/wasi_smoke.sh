#!/usr/bin/env bash
# tests/guests/wasi_smoke.sh — `apron wasm` on tests/guests/c/wasi_smoke.c: arguments and --env
# reach the guest, stdout and stderr pass through, exit codes are proc_exit's (0 when _start
# returns), a trap prints a message and exits 1, an unknown import is refused by name.
# Exit 77 (skipped) when the guest was not built (no wasm32-wasi clang).
#
# usage: tests/guests/wasi_smoke.sh APRON_BINARY WASI_SMOKE_WASM
set -u
apron=$1
wasm=$2
if [ ! -f "$wasm" ]; then
    echo "skipped: $wasm not built (clang cannot target wasm32-wasi)"
    exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
passed=0 failed=0

check() { # NAME EXPECTED ACTUAL
    if [ "$2" == "$3" ]; then
        passed=$((passed + 1))
    else
        failed=$((failed + 1))
        echo "FAIL $1"
        echo "--- expected"
        printf '%s\n' "$2"
        echo "--- got"
        printf '%s\n' "$3"
    fi
}

# 1. Arguments (with spaces and a leading dash), environment, exit code through proc_exit.
"$apron" wasm --env GREETING=hi --env EMPTY= "$wasm" 7 "two words" -x >"$tmp/out" 2>"$tmp/err" </dev/null
rc=$?
check "exit 7: status" 7 "$rc"
check "exit 7: stdout" "argc=4
argv[1]=7
argv[2]=two words
argv[3]=-x
env GREETING=hi
env EMPTY=
envc=2
clock ok
random ok
sleep ok
stdin eof
open denied
create denied
exit 7" "$(cat "$tmp/out")"
check "exit 7: stderr" "to stderr" "$(cat "$tmp/err")"

# 2. No arguments: empty environment, main returns 0, _start returns normally.
"$apron" wasm "$wasm" >"$tmp/out" 2>"$tmp/err"
rc=$?
check "return 0: status" 0 "$rc"
check "return 0: stdout" "argc=1
envc=0
clock ok
random ok
sleep ok
stdin eof
open denied
create denied
exit 0" "$(cat "$tmp/out")"
check "return 0: stderr" "to stderr" "$(cat "$tmp/err")"

# 3. A trap: status 1, output so far kept, one message on stderr.
"$apron" wasm "$wasm" trap >"$tmp/out" 2>"$tmp/err"
rc=$?
check "trap: status" 1 "$rc"
check "trap: stdout" "trapping" "$(cat "$tmp/out")"
check "trap: stderr" "apron: $wasm: wasm trap: unreachable" "$(cat "$tmp/err")"

# 4. Exit codes wrap as a process status does (proc_exit(300) → 44).
"$apron" wasm "$wasm" 300 >/dev/null 2>&1
check "exit 300: status" 44 "$?"

# 5. --invoke still works, and resolves WASI (`_start` invoked by name exits through proc_exit).
"$apron" wasm "$wasm" --invoke _start >"$tmp/out" 2>&1
check "--invoke _start: status" 0 "$?"
check "--invoke _start: first line" "argc=1" "$(head -1 "$tmp/out")"

# 6. An import neither WASI nor known is refused before anything runs, naming it.
if command -v wat2wasm >/dev/null; then
    printf '(module (import "env" "mystery" (func)) (func (export "_start") call 0))' >"$tmp/u.wat"
    wat2wasm -o "$tmp/u.wasm" "$tmp/u.wat"
    "$apron" wasm "$tmp/u.wasm" >"$tmp/out" 2>"$tmp/err"
    check "unknown import: status" 1 "$?"
    check "unknown import: stderr" \
        "apron: $tmp/u.wasm: cannot link import env.mystery: unknown import (apron wasm provides WASI only)" \
        "$(cat "$tmp/err")"
    printf '(module (import "wasi_snapshot_preview1" "fd_write" (func (param i32))) (func (export "_start")))' >"$tmp/t.wat"
    wat2wasm -o "$tmp/t.wasm" "$tmp/t.wat"
    "$apron" wasm "$tmp/t.wasm" >"$tmp/out" 2>"$tmp/err"
    check "WASI type mismatch: status" 1 "$?"
    check "WASI type mismatch: stderr" \
        "apron: $tmp/t.wasm: cannot link import wasi_snapshot_preview1.fd_write: no such WASI preview1 function, or not its type" \
        "$(cat "$tmp/err")"
fi

echo "$passed passed, $failed failed, 0 skipped"
[ "$failed" -eq 0 ]
