#!/usr/bin/env bash
# tests/guests/as/build.sh — builds the AssemblyScript test guests from this folder's sources with
# the pinned npm packages (assemblyscript, @wapc/as-guest; see package-lock.json).
#
# usage: tests/guests/as/build.sh OUTDIR
#   writes OUTDIR/<name>.wasm for each assembly/<name>.ts. Runs `npm ci` first when node_modules
#   is missing (needs node, npm and the npm registry once). Exit status non-zero on any failure.
set -euo pipefail

if [ $# -ne 1 ]; then
    echo "usage: $0 OUTDIR" >&2
    exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$1"
out=$(cd "$1" && pwd)
cd "$here"

if [ ! -x node_modules/.bin/asc ]; then
    command -v npm >/dev/null || { echo "$0: npm not found (Debian: apt-get install npm)" >&2; exit 1; }
    npm ci --no-audit --no-fund --loglevel=error
fi

for src in assembly/*.ts; do
    name=$(basename "$src" .ts)
    # abort: the guest's own function records the message as the waPC guest error, then traps;
    # without it the module would import env.abort.
    node_modules/.bin/asc "$src" -O --use "abort=assembly/$name/abort" --outFile "$out/$name.wasm"
    echo "built $out/$name.wasm"
done
