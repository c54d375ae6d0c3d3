# tests/integration/report.sh — sourced by the integration scripts that drive `apron serve`:
# their cases reported in cmocka's format ("[       OK ] name", "[  FAILED  ] N test(s), listed
# below:", "[  SKIPPED ] N test(s), listed below:"), so that tests/run.sh counts every case and a
# skip is never counted as a pass.
#
#   ok NAME                 a case passed
#   bad NAME [WHY]          a case failed
#   skip_case NAME WHY      a case (or the whole script) could not run here
#   finish                  the summary; exit 1 if a case failed. A script may define
#                           on_failure (e.g. to print its server log's tail), called before that.

pass=0 fail=0 skip=0
failed_names=() skipped_names=()

ok() { echo "[       OK ] $1"; pass=$((pass + 1)); }
bad() { echo "[  ERROR   ] $1${2:+: $2}"; fail=$((fail + 1)); failed_names+=("$1"); }
skip_case() { echo "[  SKIPPED ] $1: $2"; skip=$((skip + 1)); skipped_names+=("$1"); }

finish() {
    echo "[==========] $((pass + fail + skip)) test(s) run."
    echo "[  PASSED  ] $pass test(s)."
    if [ "$skip" -gt 0 ]; then
        echo "[  SKIPPED ] $skip test(s), listed below:"
        printf '[  SKIPPED ] %s\n' "${skipped_names[@]}"
    fi
    if [ "$fail" -gt 0 ]; then
        echo "[  FAILED  ] $fail test(s), listed below:"
        printf '[  FAILED  ] %s\n' "${failed_names[@]}"
        if declare -F on_failure >/dev/null; then on_failure; fi
        exit 1
    fi
    exit 0
}
