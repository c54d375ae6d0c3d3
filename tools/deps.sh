#!/usr/bin/env bash
# tools/deps.sh — the Debian 12 packages apron needs, listed once: `make run` checks the `run`
# set, `make test` and CI the `test` set. Missing packages are installed with apt-get when run as
# root; otherwise the apt-get line is printed and the exit status is 1.
#
# usage: tools/deps.sh run|test
#
# Services (redis, postgresql, mariadb, nats, nginx) are installed but not started: a policy-rc.d
# keeps apt from starting them during the install; the tests start their own, on loopback ports.
#
# The `test` set also installs the npm packages of the AssemblyScript test guests
# (tests/guests/as: `npm ci` unless the pinned versions are there). That step never fails this
# script: offline, it prints why and those tests skip.
set -u
set_name=${1:-test}

# build the binary, the engine, the examples (C guests) and serve them
run=(build-essential cmake ninja-build pkg-config curl libmicrohttpd-dev libgnutls28-dev
    libjansson-dev liblmdb-dev libsqlite3-dev libcurl4-openssl-dev libhiredis-dev libnats-dev
    libpq-dev libmariadb-dev clang lld-14 wasi-libc libclang-rt-14-dev-wasm32)
# the test suite: unit tests, wasm tooling, sanitizer runtime, real back ends, load and checks
# (wrk for `make soak`; nginx is the reference server of `make bench-http`, never started as a
# service: the policy-rc.d below keeps apt from starting it, and no test runs it)
test=("${run[@]}" libcmocka-dev wabt libclang-rt-14-dev openssl redis-server nats-server
    postgresql mariadb-server prometheus wrk nginx)

case $set_name in
run) want=("${run[@]}") ;;
test) want=("${test[@]}") ;;
*) echo "usage: $0 run|test" >&2; exit 2 ;;
esac

missing=()
for p in "${want[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# AssemblyScript test guests need node and npm (from Debian, or any node that brings npm)
if [ "$set_name" = test ] && ! command -v npm >/dev/null; then missing+=(nodejs npm); fi

# The AssemblyScript guests' npm packages, once node and npm are there.
npm_packages() {
    [ "$set_name" = test ] || return 0
    local here
    here=$(cd "$(dirname "$0")/.." && pwd)
    "$here/tests/guests/as/build.sh" --install ||
        echo "deps: continuing without them: the AssemblyScript guest tests will be skipped"
    return 0
}
if [ ${#missing[@]} -eq 0 ]; then
    npm_packages
    exit 0
fi

line="apt-get update && apt-get install -y ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
    echo "deps: missing Debian packages; as root, run:"
    echo "    $line"
    exit 1
fi
echo "deps: installing ${missing[*]}"
policy=/usr/sbin/policy-rc.d
own_policy=0
if [ ! -e $policy ]; then
    printf '#!/bin/sh\nexit 101\n' >$policy && chmod +x $policy && own_policy=1
fi
log=$(mktemp /tmp/apron-deps-XXXXXX.log)
DEBIAN_FRONTEND=noninteractive apt-get update -qq >"$log" 2>&1 &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq -o Dpkg::Use-Pty=0 "${missing[@]}" \
        >>"$log" 2>&1
rc=$?
[ $own_policy = 1 ] && rm -f $policy
if [ $rc -ne 0 ]; then
    tail -n 40 "$log"
    echo "deps: package installation failed (log: $log)"
    exit 1
fi
rm -f "$log"
npm_packages
