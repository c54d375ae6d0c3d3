#!/usr/bin/env bash
# tests/integration/wasm_cli.sh — `apron wasm FILE.wasm --invoke NAME ARG...` through the real
# binary on a module built here with wat2wasm: i32, i64, f32 and f64 arguments and results, two
# results, a trap (status 1, the trap's message on stderr), a wrong argument count, argument text
# that is no number of the parameter's type, an unknown export; and the top-level usage:
# `apron --help`, `-h` and `help` print it on stdout with status 0, an unknown command prints it
# on stderr with status 2. stdout is compared exactly, stderr by a pattern; no case may leave a
# sanitizer report (the asan build runs this script too).
#
# usage: tests/integration/wasm_cli.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
apron=$build/apron
. "$root/tests/integration/report.sh"
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# run NAME WANT_RC WANT_STDOUT STDERR_REGEX -- ARGS...   (apron ARGS; WANT_STDOUT is a printf
# format; STDERR_REGEX an extended regex stderr must match, '^$' for an empty stderr)
run() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local rc=0 why=""
    timeout 60 "$apron" "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    printf -- "$want_out" >"$tmp/want_out"
    if [ "$rc" != "$want_rc" ]; then
        why="exit status $rc, want $want_rc"
    elif ! cmp -s "$tmp/out" "$tmp/want_out"; then
        why="stdout differs"
    elif grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/err"; then
        why="sanitizer report on stderr"
    elif [ "$want_err" = '^$' ] && [ -s "$tmp/err" ]; then
        why="stderr not empty"
    elif [ "$want_err" != '^$' ] && ! grep -qE -- "$want_err" "$tmp/err"; then
        why="stderr does not match /$want_err/"
    fi
    if [ -z "$why" ]; then
        ok "$name"
        return
    fi
    bad "$name" "$why"
    echo "  command: apron $*"
    echo "  stdout (got / want):"; head -c 1000 "$tmp/out" | sed 's/^/    /'
    echo "    --"; sed 's/^/    /' "$tmp/want_out"
    echo "  stderr:"; head -c 2000 "$tmp/err" | sed 's/^/    /'
}

# ---- usage ----
# The text asked for: on stdout, status 0, nothing on stderr; the same text an unknown command
# gets on stderr (after its one-line complaint) with status 2.
timeout 60 "$apron" frobnicate >"$tmp/unknown.out" 2>"$tmp/unknown.err"
unknown_rc=$?
if [ $unknown_rc = 2 ] && [ ! -s "$tmp/unknown.out" ] &&
    [ "$(head -n 1 "$tmp/unknown.err")" = "apron: unknown command 'frobnicate'" ] &&
    grep -q '^usage: apron serve' "$tmp/unknown.err"; then
    ok help/unknown-command
else
    bad help/unknown-command "status $unknown_rc; stderr: $(head -c 300 "$tmp/unknown.err")"
fi
tail -n +2 "$tmp/unknown.err" >"$tmp/usage"
for h in --help -h help; do
    rc=0
    timeout 60 "$apron" "$h" >"$tmp/out" 2>"$tmp/err" || rc=$?
    if [ $rc = 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/out" "$tmp/usage" &&
        grep -q '^ *apron wasm FILE.wasm --invoke NAME' "$tmp/out"; then
        ok "help/$h"
    else
        bad "help/$h" "status $rc; stdout: $(head -c 300 "$tmp/out"); stderr: $(head -c 300 "$tmp/err")"
    fi
done
run help/no-command 2 '' '^usage: apron serve' --

# ---- --invoke ----
if ! command -v wat2wasm >/dev/null; then
    skip_case invoke "wat2wasm not found (Debian: apt-get install wabt)"
    finish
fi
cat >"$tmp/calc.wat" <<'EOF'
(module
  (memory 1)
  (func (export "add") (param i32 i32) (result i32) (i32.add (local.get 0) (local.get 1)))
  (func (export "mul64") (param i64 i64) (result i64) (i64.mul (local.get 0) (local.get 1)))
  (func (export "hyp") (param f64 f64) (result f64)
    (f64.sqrt (f64.add (f64.mul (local.get 0) (local.get 0)) (f64.mul (local.get 1) (local.get 1)))))
  (func (export "half32") (param f32) (result f32) (f32.mul (local.get 0) (f32.const 0.5)))
  (func (export "divmod") (param i32 i32) (result i32 i64)
    (i32.div_s (local.get 0) (local.get 1))
    (i64.extend_i32_s (i32.rem_s (local.get 0) (local.get 1))))
  (func (export "load") (param i32) (result i32) (i32.load (local.get 0)))
  (func (export "boom") unreachable)
  (func (export "nothing")))
EOF
if ! wat2wasm "$tmp/calc.wat" -o "$tmp/calc.wasm" 2>"$tmp/wat.err"; then
    bad invoke/wat2wasm "$(head -c 500 "$tmp/wat.err")"
    finish
fi
w=$tmp/calc.wasm

run invoke/i32 0 '3\n' '^$' -- wasm "$w" --invoke add 1 2
run invoke/i32-negative 0 '-5\n' '^$' -- wasm "$w" --invoke add -7 2
run invoke/i32-hex-wraps 0 '-2\n' '^$' -- wasm "$w" --invoke add 0xffffffff -1
run invoke/invoke-before-file 0 '7\n' '^$' -- wasm --invoke add "$w" 3 4
run invoke/i64 0 '12884901888\n' '^$' -- wasm "$w" --invoke mul64 4294967296 3
run invoke/i64-min 0 '-9223372036854775808\n' '^$' -- wasm "$w" --invoke mul64 -9223372036854775808 1
run invoke/f64 0 '5\n' '^$' -- wasm "$w" --invoke hyp 3 4
run invoke/f64-fraction 0 '1.4142135623730951\n' '^$' -- wasm "$w" --invoke hyp 1 1
run invoke/f32 0 '0.75\n' '^$' -- wasm "$w" --invoke half32 1.5
run invoke/two-results 0 '-3\n-2\n' '^$' -- wasm "$w" --invoke divmod -17 5
run invoke/no-results 0 '' '^$' -- wasm "$w" --invoke nothing

run trap/divide-by-zero 1 '' 'wasm trap: integer divide by zero' -- wasm "$w" --invoke divmod 1 0
run trap/unreachable 1 '' 'wasm trap: unreachable' -- wasm "$w" --invoke boom
run trap/memory 1 '' 'wasm trap: out of bounds memory access' -- wasm "$w" --invoke load 65533

run args/too-few 1 '' "'add' takes 2 arguments, 1 given" -- wasm "$w" --invoke add 1
run args/too-many 1 '' "'boom' takes 0 arguments, 1 given" -- wasm "$w" --invoke boom 1
run args/not-a-number 1 '' "argument 2 \('x'\) is not a valid i32" -- wasm "$w" --invoke add 1 x
run args/i32-too-large 1 '' "argument 1 \('4294967296'\) is not a valid i32" -- \
    wasm "$w" --invoke add 4294967296 0
run args/i64-trailing-text 1 '' "argument 1 \('12abc'\) is not a valid i64" -- \
    wasm "$w" --invoke mul64 12abc 1
run args/f64-empty 1 '' "argument 2 \(''\) is not a valid f64" -- wasm "$w" --invoke hyp 1 ''
run args/unknown-export 1 '' "no exported function 'nope'" -- wasm "$w" --invoke nope
run args/invoke-without-name 2 '' '^usage: apron wasm' -- wasm "$w" --invoke

finish
