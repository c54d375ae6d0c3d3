;; startup_initialize_only.wat — a reactor with _initialize and nothing else (no start section,
;; no wapc_init): _initialize runs once, before the first call. Record letters: I _initialize,
;; C each __guest_call. Every operation answers the record: "IC" on a fresh instance.
(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (memory (export "memory") 1)
  (global $n (mut i32) (i32.const 0))
  (func $mark (param $c i32)
    (i32.store8 (i32.add (i32.const 1024) (global.get $n)) (local.get $c))
    (global.set $n (i32.add (global.get $n) (i32.const 1))))
  (func (export "_initialize") (call $mark (i32.const 0x49)))
  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $mark (i32.const 0x43))
    (call $guest_response (i32.const 1024) (global.get $n))
    (i32.const 1))
)
