#!/usr/bin/env bash
# bench/simd.sh — `make bench` runs it after the engine workloads: bench/simd.c built for
# wasm32-wasi twice with the same clang (-O2, and -O2 -msimd128 where the vectorizer emits v128
# code), each run under BUILD_DIR/apron wasm; prints the best of 3 wall times of each and the
# speed-up of the SIMD build.
# usage: bench/simd.sh BUILD_DIR      environment: BENCH_QUICK=1 (1/10 of the work, one run),
#        WASM_CC (default clang), WASI_SYSROOT (default /usr)
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build}
out=$build/bench/simd
cc=${WASM_CC:-clang}
sysroot=${WASI_SYSROOT:-/usr}
rounds=400 runs=3
if [ "${BENCH_QUICK:-}" = 1 ]; then rounds=40 runs=1; fi
mkdir -p "$out"
for v in scalar simd128; do
    flags=
    [ $v = simd128 ] && flags=-msimd128
    if ! "$cc" --target=wasm32-wasi --sysroot="$sysroot" -O2 $flags -Wall -Wextra \
        -o "$out/simd-$v.wasm" "$root/bench/simd.c" 2>"$out/cc-$v.log"; then
        echo "simd bench: $cc cannot build wasm32-wasi (see $out/cc-$v.log), skipped"
        exit 0
    fi
done
best() { # best wall time in seconds of $runs runs of a module, and its output checked
    local t b=
    for _ in $(seq "$runs"); do
        local s=$(date +%s.%N)
        "$build/apron" wasm "$1" "$rounds" >"$out/last.txt"
        t=$(echo "$(date +%s.%N) - $s" | bc)
        if [ -z "$b" ] || [ "$(echo "$t < $b" | bc)" = 1 ]; then b=$t; fi
    done
    echo "$b"
}
ts=$(best "$out/simd-scalar.wasm"); cs=$(cat "$out/last.txt")
tv=$(best "$out/simd-simd128.wasm"); cv=$(cat "$out/last.txt")
if [ "$cs" != "$cv" ]; then
    echo "simd bench: the builds disagree: '$cs' vs '$cv'"
    exit 1
fi
printf 'simd (dot, byte count, saxpy; %s rounds): scalar wasm %.3fs, -msimd128 %.3fs, %.2fx\n' \
    "$rounds" "$ts" "$tv" "$(echo "$ts / $tv" | bc -l)"
