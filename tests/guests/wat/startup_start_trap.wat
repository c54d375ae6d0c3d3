;; startup_start_trap.wat — _start traps (unreachable) after logging: instantiation fails with
;; "init function _start failed: unreachable" and wapc_init never runs (it would log "wapc_init").
(module
  (import "wapc" "__console_log" (func $console_log (param i32 i32)))
  (memory (export "memory") 1)
  (data (i32.const 120) "_start")
  (data (i32.const 140) "wapc_init")
  (func (export "_start") (call $console_log (i32.const 120) (i32.const 6)) (unreachable))
  (func (export "wapc_init") (call $console_log (i32.const 140) (i32.const 9)))
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
