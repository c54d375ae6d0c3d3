# tests/integration/lib.sh — sourced by the `apron run` test scripts: runs one case through the
# real binary and compares exit status, stdout and stderr byte for byte.
#
# Results are printed in cmocka's format ("[       OK ] name", "[  FAILED  ] N test(s), listed
# below:", "[  SKIPPED ] ...") so tests/run.sh counts every case, as it does for unit tests.
# A script exits 1 if any case failed, 0 otherwise (a skipped script prints its reason and exits 0).

. "$root/tests/integration/report.sh" # pass/fail/skip counts, skip_case, finish
tmp=$(mktemp -d) || exit 2
trap 'rm -rf "$tmp"' EXIT

# check NAME WANT_RC WANT_STDOUT WANT_STDERR -- apron run ARGS...
#   WANT_STDOUT and WANT_STDERR are printf formats (so \xNN and \n work); `*` as WANT_STDERR
#   accepts any stderr without a sanitizer report.
check() {
    local name=$1 want_rc=$2 want_out=$3 want_err=$4
    shift 5
    local rc=0
    timeout 60 "$apron" run "$@" >"$tmp/out" 2>"$tmp/err" || rc=$?
    printf "$want_out" >"$tmp/want_out"
    local ok=1 why=""
    if [ "$rc" != "$want_rc" ]; then
        ok=0 why="exit status $rc, want $want_rc"
    elif ! cmp -s "$tmp/out" "$tmp/want_out"; then
        ok=0 why="stdout differs"
    elif grep -qE 'AddressSanitizer|LeakSanitizer|runtime error:' "$tmp/err"; then
        ok=0 why="sanitizer report on stderr"
    elif [ "$want_err" != "*" ]; then
        printf "$want_err" >"$tmp/want_err"
        cmp -s "$tmp/err" "$tmp/want_err" || { ok=0 why="stderr differs"; }
    fi
    if [ $ok = 1 ]; then
        echo "[       OK ] $name"
        pass=$((pass + 1))
    else
        echo "[  ERROR   ] $name: $why"
        echo "  command: apron run $*"
        echo "  stdout (got / want):"; od -c "$tmp/out" | head -8 | sed 's/^/    /'
        echo "    --"; od -c "$tmp/want_out" | head -8 | sed 's/^/    /'
        echo "  stderr (got / want):"; head -c 2000 "$tmp/err" | sed 's/^/    /'
        if [ -f "$tmp/want_err" ]; then echo "    --"; sed 's/^/    /' "$tmp/want_err"; fi
        echo "[  FAILED  ] $name"
        fail=$((fail + 1))
        failed_names+=("$name")
    fi
    rm -f "$tmp/want_err"
}

