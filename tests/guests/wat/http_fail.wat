;; http_fail.wat — waPC guest for the server tests: every call fails with __guest_error
;; "This is a test error" (Tarmac's testdata/fail, TARMAC.md §8.2 case 14).
(module
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 16) "This is a test error")
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $error (i32.const 16) (i32.const 20))
    (i32.const 0)))
