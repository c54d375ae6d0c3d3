#!/usr/bin/env bash
# tests/spec/simd.sh — the official suite's simd_*.wast scripts only, through
# BUILD_DIR/spectest-runner (tests/spec/run.sh does the work and prints the counts). CTest runs it
# for the SIMD handlers' other paths (tests/tests.cmake): engine/simd-portable with the runner
# built with APRON_SIMD_PORTABLE=1 (build/simd-portable/), engine/simd-sse2 with APRON_SIMD=sse2.
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
names=()
for wast in "$suite"/simd_*.wast; do
    [ -f "$wast" ] && names+=("$(basename "$wast" .wast)")
done
if [ ${#names[@]} -eq 0 ]; then
    echo "simd: no simd_*.wast at $suite, skipped"
    echo "[  SKIPPED ] 1 test(s), listed below:"
    echo "[  SKIPPED ] simd: no simd_*.wast at $suite"
    exit 0
fi
echo "simd: ${#names[@]} scripts through ${1:-build}/spectest-runner${APRON_SIMD:+ (APRON_SIMD=$APRON_SIMD)}"
exec tests/spec/run.sh "${1:-build}" "${names[@]}"
