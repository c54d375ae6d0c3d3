;; http_echo.wat — waPC guest for the server tests: every operation answers with its payload.
;; Memory grows to fit the payload (placed at 64 KiB; the operation name goes at 0).
(module
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 2)
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (local $pages i32)
    (local.set $pages
      (i32.shr_u (i32.add (i32.add (local.get $len) (i32.const 65536)) (i32.const 65535))
                 (i32.const 16)))
    (if (i32.gt_u (local.get $pages) (memory.size))
      (then (drop (memory.grow (i32.sub (local.get $pages) (memory.size))))))
    (call $request (i32.const 0) (i32.const 65536))
    (call $response (i32.const 65536) (local.get $len))
    (i32.const 1)))
