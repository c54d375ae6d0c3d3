;; startup_command.wat — start-up order of a WASI command whose _start ends with proc_exit(0), as
;; TinyGo ≥ 0.35 builds do (WAPC.md §4 OURS rule 4): the start section, then _start (its exit(0)
;; ends it normally), then wapc_init, and the instance stays usable. Record letters: S start
;; section, T _start, X code after proc_exit (must never run), W wapc_init, C each __guest_call;
;; each step also logs its name. Every operation answers the record: "STWC" on a fresh instance.
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (import "wapc" "__guest_response" (func $guest_response (param i32 i32)))
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 100) "start section")
  (data (i32.const 120) "_start")
  (data (i32.const 140) "wapc_init")
  (global $n (mut i32) (i32.const 0))
  (func $mark (param $c i32)
    (i32.store8 (i32.add (i32.const 1024) (global.get $n)) (local.get $c))
    (global.set $n (i32.add (global.get $n) (i32.const 1))))

  (func $start (call $mark (i32.const 0x53)) (call $console_log (i32.const 100) (i32.const 13)))
  (start $start)
  (func (export "_start")
    (call $mark (i32.const 0x54)) (call $console_log (i32.const 120) (i32.const 6))
    (call $proc_exit (i32.const 0))
    (call $mark (i32.const 0x58)))
  (func (export "wapc_init")
    (call $mark (i32.const 0x57)) (call $console_log (i32.const 140) (i32.const 9)))

  (func (export "__guest_call") (param i32 i32) (result i32)
    (call $mark (i32.const 0x43))
    (call $guest_response (i32.const 1024) (global.get $n))
    (i32.const 1))
)
