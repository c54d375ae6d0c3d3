#!/usr/bin/env bash
# tests/spec/run.sh — `make spectest`: runs the official WebAssembly test suite through
# build/spectest-runner, one process per script, so that an engine crash costs one script's report.
#
# usage: tests/spec/run.sh [BUILD_DIR] [NAME...]    NAME: scripts to run (address, i32, ...)
#
# The suite is $APRON_SPECTEST_DIR, else ${APRON_SHARED:-../shared}/wasm-testsuite (relative paths
# are taken from the repository root). Absent suite or wast2json: a skip in cmocka's format
# ("[  SKIPPED ] 1 test(s), listed below:", so that tests/run.sh and a CTest run count it as a
# skip, never a pass), summary 0 0 1, exit 0. Each .wast is converted with
# wast2json into BUILD_DIR/spectest/NAME/ when the .wast is newer than its JSON. Prints a line per
# script, then
# `spectest: N passed, N failed, N skipped`, and writes the three numbers to
# BUILD_DIR/spectest/summary for tests/run.sh. Exit status 1 if anything failed.
#
# Trap messages are compared with the scripts' texts (assert_trap, assert_exhaustion,
# assert_uninstantiable): a trap of the right kind with another message fails. So are load errors
# (assert_malformed, assert_invalid): the script's text must begin the engine's message.
#
# Environment: APRON_SPECTEST_TIMEOUT (seconds per script, default 300),
# APRON_SPECTEST_ARGS (extra runner flags, e.g. --lax-traps to accept any trap message,
# --lax-load-errors any load error message).
set -u

root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root" || exit 2
build=${1:-build}
shift $(($# > 0 ? 1 : 0))
case $build in /*) ;; *) build=$root/$build ;; esac
runner=$build/spectest-runner
out=${APRON_SPECTEST_OUT:-$build/spectest}
suite=${APRON_SPECTEST_DIR:-${APRON_SHARED:-../shared}/wasm-testsuite}
case $suite in /*) ;; *) suite=$root/$suite ;; esac
timeout_s=${APRON_SPECTEST_TIMEOUT:-300}
read -r -a runner_args <<<"${APRON_SPECTEST_ARGS:-}"

mkdir -p "$out"
summary() { echo "$1 $2 $3" >"$out/summary"; }
# Nothing can run: one skip, in cmocka's format (tests/run.sh counts it), exit 0.
skip_all() {
    echo "spectest: $1, skipped"
    echo "[  SKIPPED ] 1 test(s), listed below:"
    echo "[  SKIPPED ] spectest: $1"
    summary 0 0 1
    exit 0
}

compgen -G "$suite/*.wast" >/dev/null || skip_all "suite not found at $suite"
command -v wast2json >/dev/null || skip_all "wast2json not found (Debian: apt-get install wabt)"
if [ ! -x "$runner" ]; then
    echo "spectest: $runner not built (run make first)"
    summary 0 1 0
    exit 1
fi

passed=0 failed=0 skipped=0 files=0 broken_files=0
summary_re='^[^ ]+\.wast: ([0-9]+) passed, ([0-9]+) failed, ([0-9]+) skipped$'

add_counts() { # "X.wast: N passed, N failed, N skipped"
    [[ $1 =~ $summary_re ]] || return 1
    passed=$((passed + BASH_REMATCH[1]))
    failed=$((failed + BASH_REMATCH[2]))
    skipped=$((skipped + BASH_REMATCH[3]))
}

if [ $# -gt 0 ]; then
    scripts=()
    for n in "$@"; do scripts+=("$suite/${n%.wast}.wast"); done
else
    scripts=("$suite"/*.wast)
fi

for wast in "${scripts[@]}"; do
    name=$(basename "$wast" .wast)
    files=$((files + 1))
    dir=$out/$name
    json=$dir/$name.json
    if [ ! -f "$wast" ]; then
        echo "$name.wast: not in $suite"
        failed=$((failed + 1)) broken_files=$((broken_files + 1))
        continue
    fi
    if [ ! -f "$json" ] || [ "$wast" -nt "$json" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        # wabt 1.0.32 with --enable-all prints spurious function-references type errors for
        # ref_func and table_grow yet writes the same files: keep its chatter in a log.
        if ! wast2json --enable-all "$wast" -o "$json" >"$dir/wast2json.log" 2>&1; then
            echo "$name.wast: wast2json failed (1 failure counted):"
            sed 's/^/  /' "$dir/wast2json.log" | head -n 10
            rm -f "$json"
            failed=$((failed + 1)) broken_files=$((broken_files + 1))
            continue
        fi
    fi
    # In a subshell whose stderr is dropped: bash's own "Segmentation fault" notice is noise here.
    (timeout -k 10 "$timeout_s" "$runner" "${runner_args[@]}" "$json" >"$dir/result.txt" \
        2>"$dir/stderr.txt"; exit $?) 2>/dev/null
    rc=$?
    line=$(grep -m1 -E "$summary_re" "$dir/result.txt")
    if [ -n "$line" ] && [ $rc -le 1 ]; then
        cat "$dir/result.txt"
        add_counts "$line"
        continue
    fi
    # No report, or the runner died after it: the whole script counts as failed.
    if [ $rc -eq 124 ] || [ $rc -eq 137 ]; then
        why="timed out after ${timeout_s}s"
    elif [ $rc -gt 128 ]; then
        why="crashed with signal $((rc - 128)) (SIG$(kill -l $((rc - 128)) 2>/dev/null || echo '?'))"
    else
        why="exited with status $rc"
    fi
    broken_files=$((broken_files + 1))
    if [ -n "$line" ]; then
        # Typically a sanitizer report at exit (leaks): the commands ran, the process failed.
        echo "$line; then the runner $why (1 more failure counted)"
        add_counts "$line"
        failed=$((failed + 1))
    else
        line=$("$runner" --count "$json" 2>/dev/null)
        if ! add_counts "$line"; then
            line="$name.wast: 0 passed, 1 failed, 0 skipped"
            add_counts "$line"
        fi
        echo "$line (runner $why; every command counted as failed)"
    fi
    grep -v -E "$summary_re" "$dir/result.txt" | head -n 12
    echo "  stderr ($dir/stderr.txt), last lines:"
    tail -n 15 "$dir/stderr.txt" | sed 's/^/    /'
done

if [ $broken_files -gt 0 ]; then
    echo "spectest: $broken_files of $files scripts did not run to completion"
fi
summary $passed $failed $skipped
echo "spectest: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
