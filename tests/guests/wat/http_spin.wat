;; http_spin.wat — waPC guest for the server tests: busy-loops for as many million iterations as
;; the payload has bytes, then answers "done" (a slow request for the shutdown test).
(module
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "done")
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (local $i i32)
    (local.set $i (i32.mul (local.get $len) (i32.const 1000000)))
    (block $out
      (loop $again
        (br_if $out (i32.eqz (local.get $i)))
        (local.set $i (i32.sub (local.get $i) (i32.const 1)))
        (br $again)))
    (call $response (i32.const 16) (i32.const 4))
    (i32.const 1)))
