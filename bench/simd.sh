#!/usr/bin/env bash
# bench/simd.sh — `make bench` runs it after the engine workloads: bench/simd.c built for
# wasm32-wasi twice with the same clang (-O2, and -O2 -msimd128 where the vectorizer emits v128
# code), each run under BUILD_DIR/apron wasm; prints the best of 3 wall times of each and the
# speed-up of the SIMD build. Before timing, wasm-objdump counts the v128 instructions of each
# build (printed): the -msimd128 build must have some in each kernel (dot, count, saxpy), the
# scalar build none; otherwise it fails (exit 1), as it does without wasm-objdump (wabt), when
# the two builds print different results, or when the -msimd128 build is not faster (speed-up
# <= 1.00x: the v128 handlers have regressed). No wasm32-wasi clang: a note, exit 0.
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
# v128 instructions per function of a module: "NAME COUNT" lines, then "total COUNT".
simd_ops() {
    wasm-objdump -d "$1" | awk '
        /^[0-9a-f]+ func\[[0-9]+\] <.*>:$/ { f = $3; gsub(/[<>:]/, "", f); next }
        / \| +(v128|i8x16|i16x8|i32x4|i64x2|f32x4|f64x2)\./ { n[f]++; total++ }
        END { for (f in n) print f, n[f]; print "total", total + 0 }'
}
if ! command -v wasm-objdump >/dev/null; then
    echo "simd bench: wasm-objdump not found (Debian: apt-get install wabt): cannot check the builds"
    exit 1
fi
simd_ops "$out/simd-scalar.wasm" >"$out/ops-scalar.txt"
simd_ops "$out/simd-simd128.wasm" >"$out/ops-simd128.txt"
ops() { awk -v f="$2" '$1 == f { print $2; found = 1 } END { if (!found) print 0 }' "$out/ops-$1.txt"; }
ns=$(ops scalar total) nv=$(ops simd128 total)
kernels=
for k in dot count saxpy; do kernels="$kernels${kernels:+, }$k $(ops simd128 $k)"; done
echo "simd bench: v128 instructions: -msimd128 build $nv ($kernels), scalar build $ns"
if [ "$ns" -ne 0 ]; then
    echo "simd bench: the scalar build has $ns v128 instructions (see $out/ops-scalar.txt)"
    exit 1
fi
for k in dot count saxpy; do
    if [ "$(ops simd128 $k)" -eq 0 ]; then
        echo "simd bench: no v128 instruction in $k of the -msimd128 build (see $out/ops-simd128.txt)"
        exit 1
    fi
done
best() { # best wall time in seconds of $runs runs of a module, and its output checked
    local t b=
    for _ in $(seq "$runs"); do
        local s
        s=$(date +%s.%N)
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
ratio=$(echo "$ts / $tv" | bc -l)
printf 'simd (dot, byte count, saxpy; %s rounds): scalar wasm %.3fs, -msimd128 %.3fs, %.2fx\n' \
    "$rounds" "$ts" "$tv" "$ratio"
if [ "$(echo "$ratio <= 1" | bc -l)" = 1 ]; then
    printf 'simd bench: FAILED: the -msimd128 build is not faster than the scalar build (%.2fx)\n' \
        "$ratio"
    exit 1
fi
