;; iso_call.wat — the function-to-function deadline test guest (tests/integration/isolation.sh):
;; calls tarmac:function:<payload> with its payload, i.e. the request body names the callee
;; ("echo" answers "echo"; "loop" never answers and its timeout_ms ends it), and answers the
;; callee's response, or fails with the host's error text (__guest_error).
(module
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (import "wapc" "__host_call" (func $host_call (param i32 i32 i32 i32 i32 i32 i32 i32) (result i32)))
  (import "wapc" "__host_response_len" (func $response_len (result i32)))
  (import "wapc" "__host_response" (func $host_response (param i32)))
  (import "wapc" "__host_error_len" (func $error_len (result i32)))
  (import "wapc" "__host_error" (func $host_error (param i32)))
  (memory (export "memory") 2)
  (data (i32.const 0) "tarmacfunction")                 ;; binding 0+6, namespace 6+8
  ;; operation at 256, payload (the callee's name, up to 1 KiB) at 1024, reply or error at 64 KiB
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (if (i32.gt_u (local.get $len) (i32.const 1024))
      (then (return (i32.const 0))))
    (call $request (i32.const 256) (i32.const 1024))
    (if (i32.eqz (call $host_call (i32.const 0) (i32.const 6) (i32.const 6) (i32.const 8)
                                  (i32.const 1024) (local.get $len) (i32.const 1024) (local.get $len)))
      (then
        (call $host_error (i32.const 65536))
        (call $error (i32.const 65536) (call $error_len))
        (return (i32.const 0))))
    (call $host_response (i32.const 65536))
    (call $response (i32.const 65536) (call $response_len))
    (i32.const 1)))
