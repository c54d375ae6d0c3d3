;; http_call.wat — waPC guest for the server tests: calls tarmac:function:echo with its payload and
;; answers the callee's response, or fails with the host's error (function-to-function calls).
(module
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (memory (export "memory") 4)
  (data (i32.const 0) "tarmacfunctionecho")
  ;; payload at 64 KiB (up to 64 KiB), host response or error at 128 KiB
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (call $request (i32.const 1024) (i32.const 65536))
    (if (i32.eqz (call $host_call (i32.const 0) (i32.const 6) (i32.const 6) (i32.const 8)
                                  (i32.const 14) (i32.const 4) (i32.const 65536) (local.get $len)))
      (then
        (call $host_error (i32.const 131072))
        (call $error (i32.const 131072) (call $error_len))
        (return (i32.const 0))))
    (call $host_response (i32.const 131072))
    (call $response (i32.const 131072) (call $response_len))
    (i32.const 1)))
