#!/usr/bin/env bash
# tests/spec/simd.sh — the official suite's simd_*.wast scripts only, through
# BUILD_DIR/spectest-runner (tests/spec/run.sh does the work and prints the counts). CTest runs it
# for the SIMD handlers' other paths (tests/tests.cmake): engine/simd-portable with the runner
# built with APRON_SIMD_PORTABLE=1 (build/simd-portable/), engine/simd-sse2 with APRON_SIMD=sse2,
# engine/simd-x86-64-v2 with the runner built with -march=x86-64-v2 (build/simd-x86-64-v2/).
# APRON_SIMD_CPU_FLAGS: CPU features the runner needs, as /proc/cpuinfo names them
# (engine/simd-x86-64-v2); one missing: a skip, as below.
# Environment as for tests/spec/run.sh. No suite, no simd_*.wast in it, or no wast2json: a skip
# in cmocka's format ("[  SKIPPED ] 1 test(s), listed below:"), exit 0, so that tests/run.sh
# counts the CTest test as skipped, never as passed.
#
# usage: tests/spec/simd.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
suite=${APRON_SPECTEST_DIR:-${APRON_SHARED:-../shared}/wasm-testsuite}
case $suite in /*) ;; *) suite=$root/$suite ;; esac
skip() {
    echo "simd: $1, skipped"
    echo "[  SKIPPED ] 1 test(s), listed below:"
    echo "[  SKIPPED ] simd: $1"
    exit 0
}
if [ -n "${APRON_SIMD_CPU_FLAGS:-}" ]; then
    flags=" $(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null | cut -d: -f2) "
    for f in $APRON_SIMD_CPU_FLAGS; do
        [[ $flags == *" $f "* ]] || skip "the CPU lacks $f (/proc/cpuinfo), needed by ${1:-build}"
    done
fi
names=()
for wast in "$suite"/simd_*.wast; do
    [ -f "$wast" ] && names+=("$(basename "$wast" .wast)")
done
[ ${#names[@]} -gt 0 ] || skip "no simd_*.wast at $suite"
echo "simd: ${#names[@]} scripts through ${1:-build}/spectest-runner${APRON_SIMD:+ (APRON_SIMD=$APRON_SIMD)}"
exec tests/spec/run.sh "${1:-build}" "${names[@]}"
