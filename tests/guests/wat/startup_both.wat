;; startup_both.wat — exports both _initialize and _start: the host calls _initialize only and logs
;; a warning (WAPC.md §4 OURS rule 2), after the start section and before _initialize. Record
;; letters: S start section, I _initialize, T _start (must never run), W wapc_init, C each
;; __guest_call; each step also logs its name. Every operation answers the record: "SIWC".
(module
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "start section")
  (data (i32.const 120) "_initialize")
  (data (i32.const 140) "wapc_init")
  (data (i32.const 160) "_start")
  (global $n (mut i32) (i32.const 0))
  (func $mark (param $c i32)
    (i32.store8 (i32.add (i32.const 1024) (global.get $n)) (local.get $c))
    (global.set $n (i32.add (global.get $n) (i32.const 1))))

  (func $start (call $mark (i32.const 0x53)) (call $console_log (i32.const 100) (i32.const 13)))
  (start $start)
  (func (export "_start")
    (call $mark (i32.const 0x54)) (call $console_log (i32.const 160) (i32.const 6)))
  (func (export "_initialize")
    (call $mark (i32.const 0x49)) (call $console_log (i32.const 120) (i32.const 11)))
  (func (export "wapc_init")
    (call $mark (i32.const 0x57)) (call $console_log (i32.const 140) (i32.const 9)))

  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $mark (i32.const 0x43))
    (call $guest_response (i32.const 1024) (global.get $n))
    (i32.const 1))
)
