#!/usr/bin/env bash
# tests/guests/as/build.sh — builds the AssemblyScript test guests from this folder's sources with
# the pinned npm packages (assemblyscript, @wapc/as-guest; see package.json and package-lock.json).
#
# usage: tests/guests/as/build.sh --install
#   installs the npm packages into node_modules with `npm ci` unless the pinned versions are
#   already there (idempotent; tools/deps.sh runs this for `make test`).
# usage: tests/guests/as/build.sh OUTDIR
#   the same, then writes OUTDIR/<name>.wasm for each assembly/<name>.ts (its abort is the guest's
#   own function) and OUTDIR/<name>_env_abort.wasm (the default: it imports env.abort).
#
# Exit status: 0 done; 77 the npm packages are missing and cannot be installed (no node/npm, no
# registry: the tests that need them skip, the reason is on stderr); 1 anything else (a compile
# error); 2 usage.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 --install | OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)

# True when node_modules holds exactly the versions package.json pins, and the compiler.
installed() {
    [ -x node_modules/.bin/asc ] && command -v node >/dev/null &&
        node -e '
            const want = require("./package.json").devDependencies;
            for (const [name, version] of Object.entries(want)) {
                let have = null;
                try { have = require("./node_modules/" + name + "/package.json").version; } catch (e) {}
                if (have !== version) process.exit(1);
            }' 2>/dev/null
}

install() {
    cd "$here"
    installed && return 0
    if ! command -v npm >/dev/null || ! command -v node >/dev/null; then
        echo "AssemblyScript packages not installed: node/npm not found (Debian: apt-get install nodejs npm)" >&2
        return 77
    fi
    echo "installing the AssemblyScript test guests' npm packages (npm ci in tests/guests/as)" >&2
    # Bounded: offline, npm fails or times out instead of retrying for minutes.
    local log
    log=$(mktemp /tmp/apron-npm-XXXXXX.log)
    if ! timeout 600 npm ci --no-audit --no-fund --prefer-offline --loglevel=error \
        --fetch-retries=1 --fetch-timeout=60000 >"$log" 2>&1 || ! installed; then
        tail -n 5 "$log" >&2
        echo "AssemblyScript packages not installed: \`npm ci\` in tests/guests/as failed (no npm registry?; log: $log)" >&2
        return 77
    fi
    rm -f "$log"
}

if [ "$1" = --install ]; then
    install || exit $?
    exit 0
fi

mkdir -p "$1"
out=$(cd "$1" && pwd)
install || exit $?
cd "$here"
for src in assembly/*.ts; do
    name=$(basename "$src" .ts)
    # abort: the guest's own function records the message as the waPC guest error, then traps;
    # without it the module imports env.abort, which the host implements (WAPC.md §9).
    node_modules/.bin/asc "$src" -O --use "abort=assembly/$name/abort" --outFile "$out/$name.wasm"
    node_modules/.bin/asc "$src" -O --outFile "$out/${name}_env_abort.wasm"
    echo "built $out/$name.wasm $out/${name}_env_abort.wasm"
done
