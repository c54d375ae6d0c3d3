#!/usr/bin/env bash
# tests/integration/wapc_fixtures.sh — runs every third-party waPC guest in
# ../shared/fixtures/wapc-guests/ (30 files) through `build/apron run` with the host behaviour its
# MANIFEST.md describes, and checks exit status, stdout and stderr exactly.
#
# usage: tests/integration/wapc_fixtures.sh BUILD_DIR
#   Fixtures are read from $APRON_SHARED/fixtures/wapc-guests (default: ../shared next to the
#   repository); without them every case is skipped with a message.
#
# Host behaviour comes from `apron run`'s test flags: --host echo|upper|reply:TEXT|error:TEXT
# answers every host call, --trace-host-calls prints "host call <b>:<ns>:<op> <payload>" to stderr
# so the exact strings each guest passes are checked too. Guest stdout (WASI fd_write) precedes the
# response on stdout; __console_log lines and host-call traces go to stderr in call order.
set -u
root=$(cd "$(dirname "$0")/../.." && pwd)
build=${1:-$root/build}
apron=$build/apron
. "$root/tests/integration/lib.sh"

shared=${APRON_SHARED:-$root/../shared}
F=$shared/fixtures/wapc-guests
if [ ! -f "$F/MANIFEST.md" ]; then
    echo "wapc fixtures: $F not found (set APRON_SHARED): skipping all 30 fixtures"
    echo "[  SKIPPED ] 30 test(s), listed below:"
    exit 0
fi

# A payload file from a printf format (binary MessagePack payloads).
data() { printf "$2" >"$tmp/$1"; echo "$tmp/$1"; }

# ---- wapc-go ----
g=$F/wapc-go
check go_hello/echo 0 'Testing' 'host call wapc:testing:echo Testing\n' -- \
    "$g/testdata_go_hello.wasm" --op echo --data Testing --echo-host-calls --trace-host-calls
check go_hello/echo-empty 0 '' 'host call wapc:testing:echo \n' -- \
    "$g/testdata_go_hello.wasm" --op echo --echo-host-calls --trace-host-calls
check go_hello/echo-host-error-ignored 0 'Testing' '' -- \
    "$g/testdata_go_hello.wasm" --op echo --data Testing --host error:nope
check go_hello/nope 1 '' 'Planned Failure\n' -- "$g/testdata_go_hello.wasm" --op nope
check go_hello/unknown 1 '' 'Could not find function "what"\n' -- \
    "$g/testdata_go_hello.wasm" --op what

check hello_hello/hello 0 'hello called\nHello, WORLD' 'host call :example:capitalize world\n' -- \
    "$g/hello_hello.wasm" --op hello --data world --host upper --trace-host-calls
check hello_hello/host-error 1 'hello called\n' 'Host error: no capitalizer\n' -- \
    "$g/hello_hello.wasm" --op hello --data world --host 'error:no capitalizer'
check hello_hello/no-handler 1 'hello called\n' 'Host error: no host function for :example:capitalize\n' -- \
    "$g/hello_hello.wasm" --op hello --data world
# Tarmac mode: Tarmac's router text for an unknown key (TARMAC.md §1.6), nothing else.
check hello_hello/no-handler-tarmac 1 'hello called\n' 'Host error: callback not found\n' -- \
    "$g/hello_hello.wasm" --op hello --data world --tarmac

check as_hello/echo 0 'Testing' 'host call wapc:testing:echo Testing\n' -- \
    "$g/testdata_as_hello.wasm" --op echo --data Testing --echo-host-calls --trace-host-calls
check as_hello/nope-error-then-trap 1 '' \
    'guest trapped: unreachable: error occurred; assembly/index.ts (18,3)\n' -- \
    "$g/testdata_as_hello.wasm" --op nope
# A trapped instance is replaced (WAPC.md §6.3 rule 5): the next call works on a fresh one.
check as_hello/nope-then-fresh-instance 1 '' \
    'guest trapped: unreachable: error occurred; assembly/index.ts (18,3)\nguest trapped: unreachable: error occurred; assembly/index.ts (18,3)\n' -- \
    "$g/testdata_as_hello.wasm" --op nope --repeat 2
check as_hello/unknown 1 '' 'Could not find function "what"\n' -- \
    "$g/testdata_as_hello.wasm" --op what

check rust_hello/echo 0 'Testing' 'host call wapc:testing:echo Testing\n' -- \
    "$g/testdata_rust_hello.wasm" --op echo --data Testing --echo-host-calls --trace-host-calls
check rust_hello/nope 1 '' 'Planned Failure\n' -- "$g/testdata_rust_hello.wasm" --op nope
check rust_hello/unknown 1 '' 'No handler registered for function what\n' -- \
    "$g/testdata_rust_hello.wasm" --op what

check hello_2021/hello 0 'Hello, Simon' 'logging something\nhost call myBinding:sample:hello Simon\n' -- \
    "$g/testdata_hello_2021.wasm" --op hello --data Simon --echo-host-calls --trace-host-calls
check hello_2021/error 1 '' 'guest trapped: unreachable: error occurred; testdata/hello.ts (22,3)\n' -- \
    "$g/testdata_hello_2021.wasm" --op error
check hello_2021/unknown 1 '' 'Could not find function "what"\n' -- \
    "$g/testdata_hello_2021.wasm" --op what

# ---- wapc-rs ----
r=$F/wapc-rs
check hello_as/hello 0 'Hello' 'host call myBinding:sample:hello Simon\n' -- \
    "$r/hello_as.wasm" --op hello --data anything --host reply: --trace-host-calls
# The 2020 AssemblyScript runtime then fails an assertion of its own: an error, then a trap.
check hello_as/host-error 1 '' \
    'Host error: down\nguest trapped: unreachable: error occurred; ~lib/rt/pure.ts (112,14)\n' -- \
    "$r/hello_as.wasm" --op hello --host error:down
check hello_as/unknown 1 '' 'Could not find function "what"\n' -- "$r/hello_as.wasm" --op what

check hello_tinygo/hello 0 'Hello' 'host call myBinding:sample:hello Simon\n' -- \
    "$r/hello_tinygo.wasm" --op hello --host reply: --trace-host-calls
check hello_tinygo/unknown 1 '' 'Could not find function "what"\n' -- \
    "$r/hello_tinygo.wasm" --op what

check hello_zig/hello 0 'Hello, this is a test!' 'host call myBinding:sample:hello Simon\n' -- \
    "$r/hello_zig.wasm" --op hello --data 'this is a test' --host reply: --trace-host-calls
check hello_zig/hello-reply 0 'Hello, this is a test, Zig!' '' -- \
    "$r/hello_zig.wasm" --op hello --data 'this is a test' --host 'reply:, Zig'
check hello_zig/host-error 1 '' 'Host error: down\n' -- \
    "$r/hello_zig.wasm" --op hello --data x --host error:down
check hello_zig/unknown 1 '' 'Could not find function what\n' -- "$r/hello_zig.wasm" --op what
check hello_zig/big-payload-no-message 1 '' 'call to "hello" was unsuccessful\n' -- \
    "$r/hello_zig.wasm" --op hello --data "$(printf '%01000d' 0)" --host reply:

check wasm_basic/ping 0 'abc' \
    'IN_WASM: Received request for `ping` operation with payload : abc\nhost call binding:sample:namespace:pong abc\n' -- \
    "$r/wasm_basic.wasm" --op ping --data abc --host reply:ignored --trace-host-calls
check wasm_basic/host-error 1 '' \
    'IN_WASM: Received request for `ping` operation with payload : abc\nHost error: down\n' -- \
    "$r/wasm_basic.wasm" --op ping --data abc --host error:down
check wasm_basic/unknown 1 '' 'No handler registered for function what\n' -- \
    "$r/wasm_basic.wasm" --op what

check wasi_basic/ping 0 'IN_WASI: Received request for `ping` operation with payload : abc\nabc' \
    'host call binding:sample:namespace:pong abc\n' -- \
    "$r/wasi_basic.wasm" --op ping --data abc --host reply: --trace-host-calls
check wasi_basic/host-error 1 'IN_WASI: Received request for `ping` operation with payload : abc\n' \
    'Host error: down\n' -- "$r/wasi_basic.wasm" --op ping --data abc --host error:down

check wapc_guest_test/echo 0 '\xabhello world' '' -- \
    "$r/wapc_guest_test.wasm" --op echo --data-file "$(data hw '\xabhello world')"
check wapc_guest_test/not-msgpack 1 '' 'invalid type: integer `110`, expected a string\n' -- \
    "$r/wapc_guest_test.wasm" --op echo --data n

check wapc_guest_timeout/sleep-1 0 'slept for 1 seconds' '' -- \
    "$r/wapc_guest_timeout.wasm" --op sleep --data 1 --timeout-ms 2000
# The manifest's case: 10 s asked against a 2 s deadline. The deadline cuts the WASI sleep short.
t0=$(date +%s%N)
check wapc_guest_timeout/sleep-10-interrupted 1 '' 'guest trapped: interrupted\n' -- \
    "$r/wapc_guest_timeout.wasm" --op sleep --data 10 --timeout-ms 2000
ms=$((($(date +%s%N) - t0) / 1000000))
if [ $ms -ge 1900 ] && [ $ms -lt 4000 ]; then ok "wapc_guest_timeout/sleep-10-ends-at-the-deadline ($ms ms)"
else bad "wapc_guest_timeout/sleep-10-ends-at-the-deadline" "took $ms ms, want about 2000"; fi
check wapc_guest_timeout/not-a-number 1 '' 'invalid digit found in string\n' -- \
    "$r/wapc_guest_timeout.wasm" --op sleep --data x

# {first_name: "John"} → {first_name: "John", hash: u64}; the host call carries the same bytes.
john='\x81\xaafirst_name\xa4John'
h1='\x82\xaafirst_name\xa4John\xa4hash\xcf\x2b\x80\x16\x06\x25\xe3\xb8\xf7'
h2='\x82\xaafirst_name\xa4John\xa4hash\x2a'
check module1_hash/serdes_example 0 "$h1" \
    "IN_WASM: Received request for \`serdes_and_hash\`: MODULE 1\nhost call binding:sample:namespace:serdes_and_hash $h1\n" -- \
    "$r/module1_hash.wasm" --op serdes_example --data-file "$(data john "$john")" --host reply: \
    --trace-host-calls
check module2_hash/serdes_example 0 "$h2" \
    "IN_WASM: Received request for \`serdes_and_hash\`: MODULE 2\nhost call binding:sample:namespace:serdes_and_hash $h2\n" -- \
    "$r/module2_hash.wasm" --op serdes_example --data-file "$(data john "$john")" --host reply: \
    --trace-host-calls

check assets_hello_2020/hello 0 'hello world!' \
    'Received message: hi\nhost call myBinding:wapc:sample:Ping hi\n' -- \
    "$r/assets_hello_2020.wasm" --op 'wapc:sample!Hello' --data hi --host reply: --trace-host-calls
check assets_hello_2020/other-op 0 'hello world!' \
    'Received message: Unknown operation\nhost call myBinding:wapc:sample:Ping Unknown operation\n' -- \
    "$r/assets_hello_2020.wasm" --op other --data hi --host reply: --trace-host-calls
check assets_hello_2020/host-error 1 '' \
    'Received message: hi\nGuest call failed: Host error: down\nGuest call failed: Host error: down\n' -- \
    "$r/assets_hello_2020.wasm" --op 'wapc:sample!Hello' --data hi --host error:down

check assets_hello_wasi_2020/hello 0 'Hello from inside the WASI module!\nhello world!' \
    'host call myBinding:wapc:sample:Ping hi\n' -- \
    "$r/assets_hello_wasi_2020.wasm" --op 'wapc:sample!Hello' --data hi --host reply: \
    --trace-host-calls
check assets_hello_wasi_2020/other-op 1 '' \
    'Guest call failed: bad dispatch\nGuest call failed: bad dispatch\n' -- \
    "$r/assets_hello_wasi_2020.wasm" --op other
check assets_hello_wasi_2020/host-error 1 '' \
    'Guest call failed: Host error: down\nGuest call failed: Host error: down\n' -- \
    "$r/assets_hello_wasi_2020.wasm" --op 'wapc:sample!Hello' --data hi --host error:down

# ---- wapc-js ----
j=$F/wapc-js
check rust_echo_string/echo 0 '\xa5hello' 'WASM: WAPC init\nWASM: Got string hello\n' -- \
    "$j/rust_echo_string.wasm" --op echo --data-file "$(data msg '\x81\xa3msg\xa5hello')"
check rust_echo_string/unknown 1 '' 'WASM: WAPC init\nNo handler registered for function "what"\n' -- \
    "$j/rust_echo_string.wasm" --op what
check rust_host_call/callback 0 '\xa5hello' \
    'WASM: WAPC init\nWASM: received (bd,ns,op,hello)\nhost call bd:ns:op \xa5hello\nWASM: Got result from host call [165, 104, 101, 108, 108, 111]\n' -- \
    "$j/rust_host_call.wasm" --op callback --echo-host-calls --trace-host-calls \
    --data-file "$(data cb '\x84\xa7binding\xa2bd\xa9namespace\xa2ns\xa9operation\xa2op\xa3msg\xa5hello')"
check rust_host_call/host-error 1 '' \
    'WASM: WAPC init\nWASM: received (bd,ns,op,hello)\nGuest call failed: Host error: no host function for bd:ns:op\n' -- \
    "$j/rust_host_call.wasm" --op callback \
    --data-file "$(data cb '\x84\xa7binding\xa2bd\xa9namespace\xa2ns\xa9operation\xa2op\xa3msg\xa5hello')"

# ---- tarmac ----
t=$F/tarmac
tarmac_calls='host call tarmac:logger:info Testdata Function Starting Execution
host call tarmac:kvstore:set {"key":"test-data","data":"aSBhbSBhIGxpdHRsZSB0ZWFwb3Q="}
host call tarmac:kvstore:get {"key":"test-data"}
host call tarmac:sql:query {"query":"Q1JFQVRFIFRBQkxFIElGIE5PVCBFWElTVFMgd2FzbWd1ZXN0ICggaWQgaW50IE5PVCBOVUxMLCBuYW1lIHZhcmNoYXIoMjU1KSwgUFJJTUFSWSBLRVkgKGlkKSApOw=="}\n'
check tarmac/POST 0 'Howdie' "$tarmac_calls" -- \
    "$t/testdata_tarmac.wasm" --op POST --host reply: --trace-host-calls
check tarmac/PUT 0 'Howdie' '*' -- "$t/testdata_tarmac.wasm" --op PUT --host reply:
# The capabilities answer (src/cap); their log records are silenced so stderr is the guest's.
export APP_DISABLE_LOGGING=true
check tarmac/POST-no-kvstore 1 '' \
    'Failed to call host callback - Host error: no host function for tarmac:kvstore:set\n' -- \
    "$t/testdata_tarmac.wasm" --op POST
check tarmac/POST-embedded-stores 0 'Howdie' '' -- "$t/testdata_tarmac.wasm" --op POST \
    --kv-path "$tmp/tarmac-kv.db" --sql-path "$tmp/tarmac.sqlite"
check tarmac/GET 1 '' 'Not Implemented\n' -- "$t/testdata_tarmac.wasm" --op GET
check tarmac/DELETE 1 '' 'Not Implemented\n' -- "$t/testdata_tarmac.wasm" --op DELETE

kv='reply:{"status":{"code":200},"data":"NDE="}'
check scheduler/RUN 0 '{"payload":"NDI=","status":{"code":200,"status":"Success"}}' \
    'host call tarmac:metrics:counter {"name":"kv_counter_inc_called"}
host call tarmac:kvstore:get {"key":"kv_counter_example"}
host call tarmac:kvstore:set {"key":"kv_counter_example","data":"NDI="}\n' -- \
    "$t/testdata_scheduler.wasm" --op scheduler:RUN --host "$kv" --trace-host-calls
check scheduler/http-POST 0 '{"payload":"NDI=","status":{"code":200,"status":"Success"}}' '' -- \
    "$t/testdata_scheduler.wasm" --op http:POST --host "$kv"
check scheduler/http-GET 0 '{"payload":"NDE=","status":{"code":200,"status":"Success"}}' '' -- \
    "$t/testdata_scheduler.wasm" --op http:GET --host "$kv"
check scheduler/http-GET-missing 0 '{"payload":"MA==","status":{"code":200,"status":"Success"}}' '' -- \
    "$t/testdata_scheduler.wasm" --op http:GET
check scheduler/http-DELETE 0 '{"status":{"code":503,"status":"Not Implemented"}}' '' -- \
    "$t/testdata_scheduler.wasm" --op http:DELETE

check toolkit_example/example 0 'Success' 'host call tarmac:logger:info payload\n' -- \
    "$t/example_toolkit_example.wasm" --op example --data payload --host reply: --trace-host-calls
check toolkit_example/default-binding-reaches-tarmac 0 'Success' '' -- \
    "$t/example_toolkit_example.wasm" --op example

body='{"headers":{},"payload":"aGVsbG8="}'
check tarmac_module_rust/POST 0 '{"headers":{},"status":{"code":200,"status":"OK"},"payload":"aGVsbG8="}' \
    "host call tarmac:logger:debug $body\n" -- \
    "$t/testdata_tarmac_module_rust.wasm" --op http:POST --data "$body" --host reply: --trace-host-calls
check tarmac_module_rust/PUT-host-error-ignored 0 \
    '{"headers":{},"status":{"code":200,"status":"OK"},"payload":"aGVsbG8="}' '' -- \
    "$t/testdata_tarmac_module_rust.wasm" --op http:PUT --data "$body"
check tarmac_module_rust/bad-json-traps 1 '' 'guest trapped: unreachable\n' -- \
    "$t/testdata_tarmac_module_rust.wasm" --op http:POST --data 'not json' --host reply:
check tarmac_module_rust/bad-json-tarmac-text 1 '' 'error invoking guest: unreachable\n' -- \
    "$t/testdata_tarmac_module_rust.wasm" --op http:POST --data 'not json' --host reply: --tarmac
check tarmac_module_rust/GET 0 '{"headers":{},"status":{"code":503,"status":"Not Implemented"},"payload":""}' '' -- \
    "$t/testdata_tarmac_module_rust.wasm" --op http:GET
check tarmac_module_rust/DELETE 0 '{"headers":{},"status":{"code":503,"status":"Not Implemented"},"payload":""}' '' -- \
    "$t/testdata_tarmac_module_rust.wasm" --op http:DELETE

# ---- Kubewarden policies ----
pod() { echo "{\"request\":{\"object\":{\"metadata\":{\"name\":\"$1\"}}},\"settings\":{\"denied_names\":[\"foo\",\"bar\"]}}"; }
for p in kw-policy-engine wasmtime_provider_benchmark; do
    w=$F/$p/policy.wasm
    check "$p/protocol_version" 0 '"v1"' '' -- "$w" --op protocol_version --host reply:
    check "$p/validate_settings" 0 '{"valid":true}' '' -- \
        "$w" --op validate_settings --data '{"denied_names":["foo"]}' --host reply:
    check "$p/validate_settings-empty" 0 '{"valid":true}' '' -- \
        "$w" --op validate_settings --data '{}' --host reply:
    check "$p/validate-denied" 0 '{"accepted":false,"message":"The '"'"'bar'"'"' name is on the deny list"}' '*' -- \
        "$w" --op validate --data "$(pod bar)" --host reply:
    check "$p/validate-accepted" 0 '{"accepted":true}' '*' -- \
        "$w" --op validate --data "$(pod web)" --host reply:
    check "$p/unknown" 1 '' 'Could not find function "what"\n' -- "$w" --op what
done

# ---- others ----
check ts-wasm/hello-abort 1 '' \
    'host call user:get: x\n{"id":1}\nguest trapped: abort: Could not deserialize data {"id":1} to type UserInfo. Make sure to add the correct decorators to classes. at ~lib/json-as/assembly/index.ts:113:7\n' -- \
    "$F/ts-wasm/hello.wasm" --op hello --data x --host 'reply:{"id":1}' --trace-host-calls
check ts-wasm/unknown 1 '' 'Could not find function "what"\n' -- "$F/ts-wasm/hello.wasm" --op what

check wapc-test/sayHello 0 '\xaahellomarco' '' -- \
    "$F/wapc-test/wapc-test.wasm" --op sayHello --data-file "$(data marco '\x81\xa4name\xa5marco')"

check wapc-python/hello 0 'telll' '' -- "$F/wapc-python/hello.wasm" --op hello --data telll
check wapc-python/unknown 1 '' 'Could not find function "what"\n' -- \
    "$F/wapc-python/hello.wasm" --op what

c=$F/wapc-tinygo-communication-erro
check tinygo-0.18.0/hello 0 'got p\nHello' 'host call myBinding:sample:hello Simon\n' -- \
    "$c/policy-tinygo-0.18.0.wasm" --op hello --data p --host reply: --trace-host-calls
check tinygo-0.19.0/hello-no-message 1 '' 'call to "hello" was unsuccessful\n' -- \
    "$c/policy-tinygo-0.19.0.wasm" --op hello --data p

check wasmcloud-ponger/Ping 0 '\xa4pong' '' -- "$F/wasmcloud-otp/ponger_s.wasm" --op Pingpong.Ping
check wasmcloud-ponger/unknown 1 '' \
    'Guest call failed for method Foo: method not handled _.Foo - unknown method\n' -- \
    "$F/wasmcloud-otp/ponger_s.wasm" --op Foo

# Every fixture file is exercised above.
n=$(find "$F" -name '*.wasm' | wc -l)
if [ "$n" != 30 ]; then
    echo "[  ERROR   ] fixture count: $n files, this script covers 30"
    fail=$((fail + 1)) failed_names+=("fixture-count")
fi
finish
