#!/usr/bin/env bash
# tests/run.sh — `make test` after the build: unit and integration tests (CTest labels `unit`,
# `integration`), then the spec suite
# (tests/spec/run.sh) when present; ends with one line `N passed, N failed, N skipped` summing the
# unit test cases and the spec commands. Exit status 1 if anything failed.
#
# usage: tests/run.sh [BUILD_DIR]
#
# Unit test cases are counted from cmocka's report in CTest's log; a unit binary that fails
# without a cmocka report (a crash, an abort) counts as one failure, and one that passes without
# one as one pass.
set -u

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
build=${1:-build}
case $build in /*) ;; *) build=$root/$build ;; esac

echo "== unit tests"
ctest --test-dir "$build" -L "unit|integration" --output-on-failure --timeout 600
unit_rc=$?

# LastTest.log holds each test's full output between "Output:" and "<end of output>", then
# "Test Passed." or "Test Failed.".
read -r u_pass u_fail u_skip < <(awk '
    function flush(ok) {
        if (ok && cases_ok == 0 && cases_failed == 0 && cases_skipped == 0) cases_ok = 1
        if (!ok && cases_failed == 0) cases_failed = 1
        p += cases_ok; f += cases_failed; s += cases_skipped
        cases_ok = cases_failed = cases_skipped = 0
    }
    /^\[       OK \] /                            { cases_ok++ }
    /^\[  FAILED  \] [0-9]+ test\(s\), listed below/ { cases_failed += $4 }
    /^\[  SKIPPED \] [0-9]+ test\(s\), listed below/ { cases_skipped += $4 }
    /^Test Passed\./                               { flush(1) }
    /^Test Failed\./                               { flush(0) }
    END { printf "%d %d %d\n", p, f, s }
' "$build/Testing/Temporary/LastTest.log" 2>/dev/null || echo "0 1 0")
if [ "$unit_rc" -ne 0 ] && [ "$u_fail" -eq 0 ]; then
    u_fail=1 # ctest itself failed (no tests found, a timeout before any output, ...)
fi
echo "unit: $u_pass passed, $u_fail failed, $u_skip skipped"

echo "== spec tests"
rm -f "$build/spectest/summary"
tests/spec/run.sh "$build"
read -r s_pass s_fail s_skip <"$build/spectest/summary" 2>/dev/null || {
    s_pass=0 s_fail=1 s_skip=0
}

total_pass=$((u_pass + s_pass))
total_fail=$((u_fail + s_fail))
total_skip=$((u_skip + s_skip))
echo "$total_pass passed, $total_fail failed, $total_skip skipped"
[ "$total_fail" -eq 0 ]
