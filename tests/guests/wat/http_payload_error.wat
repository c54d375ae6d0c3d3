;; http_payload_error.wat — waPC guest for the server tests: gives a response payload
;; "error with payload" with __guest_response, then reports the error "test error" with
;; __guest_error, and returns 1 when the request payload is non-empty, else 0 (TARMAC.md §8.2
;; case 15; §1.5's invocation rule 2: a non-empty guest error fails the call and drops the
;; payload, whatever __guest_call returns).
(module
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "error with payload")
  (data (i32.const 48) "test error")
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (call $response (i32.const 16) (i32.const 18))
    (call $error (i32.const 48) (i32.const 10))
    (i32.ne (local.get $len) (i32.const 0))))
