;; http_flaky.wat — waPC guest for the init-retry tests: the first two calls on an instance fail
;; with "not yet", later ones succeed.
(module
  (import "wapc" "__guest_error" (func $error (param i32 i32)))
  (memory (export "memory") 1)
  (global $calls (mut i32) (i32.const 0))
  (data (i32.const 16) "not yet")
  (func (export "__guest_call") (param i32 i32) (result i32)
    (global.set $calls (i32.add (global.get $calls) (i32.const 1)))
    (if (i32.le_u (global.get $calls) (i32.const 2))
      (then (call $error (i32.const 16) (i32.const 7)) (return (i32.const 0))))
    (i32.const 1)))
