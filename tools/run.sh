#!/usr/bin/env bash
# tools/run.sh — `make run`: installs the Debian packages the build needs when some are missing
# (with apt-get when run as root; otherwise prints the apt-get line and stops), builds, and starts
# `apron serve` on 127.0.0.1:8080 with examples/tarmac.json and the embedded defaults (TLS off).
# Ctrl-C stops it.
set -u
cd "$(dirname "$0")/.." || exit 2
build=${BUILD:-build}

packages=(build-essential cmake ninja-build pkg-config curl libmicrohttpd-dev libgnutls28-dev
    libjansson-dev libcmocka-dev wabt clang lld-14 wasi-libc libclang-rt-14-dev-wasm32 liblmdb-dev
    libsqlite3-dev libcurl4-openssl-dev libhiredis-dev libnats-dev libpq-dev libmariadb-dev)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
    line="apt-get update && apt-get install -y ${missing[*]}"
    if [ "$(id -u)" -ne 0 ]; then
        echo "run: missing packages; as root, run:"
        echo "    $line"
        exit 1
    fi
    echo "run: installing ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive sh -c "$line" || exit 1
fi

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
