;; http_print.wat — waPC guest for the server tests: writes "tick from stdout\n" to WASI stdout and
;; "tock from stderr\n" to stderr, then answers "printed" (guest output reaches the log).
(module
  (import "wasi_snapshot_preview1" "fd_write" (func $fd_write (param i32 i32 i32 i32) (result i32)))
  (import "wapc" "__guest_response" (func $response (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "tick from stdout\n")
  (data (i32.const 200) "tock from stderr\n")
  (data (i32.const 300) "printed")
  (func (export "__guest_call") (param i32 i32) (result i32)
    (i32.store (i32.const 0) (i32.const 100))
    (i32.store (i32.const 4) (i32.const 17))
    (drop (call $fd_write (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 16)))
    (i32.store (i32.const 0) (i32.const 200))
    (drop (call $fd_write (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 16)))
    (call $response (i32.const 300) (i32.const 7))
    (i32.const 1)))
