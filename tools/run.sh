#!/usr/bin/env bash
# tools/run.sh — `make run`: installs the Debian packages the build needs when some are missing
# (with apt-get when run as root; otherwise prints the apt-get line and stops), builds, and starts
# `apron serve` on 127.0.0.1:8080 with examples/tarmac.json and the embedded defaults (TLS off).
# Ctrl-C stops it.
set -u
cd "$(dirname "$0")/.." || exit 2
build=${BUILD:-build}

tools/deps.sh run || exit 1

[ -f "$build/build.ninja" ] || cmake -S . -B "$build" -G Ninja >/dev/null || exit 1
ninja -C "$build" || exit 1
[ -f "$build/examples/hello.wasm" ] || { echo "run: the examples were not built (clang + wasi-libc?)"; exit 1; }

cat <<'TXT'

apron is starting on http://127.0.0.1:8080 (Ctrl-C stops it). Try:

    curl -d 'apron' http://127.0.0.1:8080/hello
    curl -d 'stressed' http://127.0.0.1:8080/reverse     # needs APP_ENABLE_KVSTORE=true

TXT
exec env APP_ENABLE_TLS=false "$build/apron" serve --listen 127.0.0.1:8080 \
    --functions examples/tarmac.json
