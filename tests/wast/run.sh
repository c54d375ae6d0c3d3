#!/usr/bin/env bash
# tests/wast/run.sh — the project's own engine scripts (tests/wast/*.wast: what the spec suite does
# not pin down, such as the interpreter's fused instructions), run like the spec suite by
# tests/spec/run.sh, with cmocka-style lines so that `make test` counts each script.
#
# usage: tests/wast/run.sh BUILD_DIR
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
case $build in /*) ;; *) build=$root/$build ;; esac
if ! command -v wast2json >/dev/null; then
    echo "[  SKIPPED ] 1 test(s), listed below:"
    echo "wast: wast2json not found (Debian: apt-get install wabt)"
    exit 0
fi
out=$build/wast
APRON_SPECTEST_DIR=$root/tests/wast APRON_SPECTEST_OUT=$out "$root/tests/spec/run.sh" "$build" \
    >"$out.log" 2>&1
rc=$?
cat "$out.log"
failed=0
while read -r line; do
    if [[ $line =~ ^([^ ]+\.wast):\ ([0-9]+)\ passed,\ ([0-9]+)\ failed ]]; then
        if [ "${BASH_REMATCH[3]}" -eq 0 ] && [ "${BASH_REMATCH[2]}" -gt 0 ]; then
            echo "[       OK ] ${BASH_REMATCH[1]} (${BASH_REMATCH[2]} commands)"
        else
            failed=$((failed + 1))
            echo "[  FAILED  ] ${BASH_REMATCH[1]}"
        fi
    fi
done <"$out.log"
if [ $failed -gt 0 ] || [ $rc -ne 0 ]; then
    [ $failed -gt 0 ] || failed=1
    echo "[  FAILED  ] $failed test(s), listed below:"
    exit 1
fi
exit 0
