;; http_trap.wat — waPC guest for the server tests: every call traps (unreachable).
(module
  (import "wapc" "__guest_request" (func $request (param i32 i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32)
    unreachable))
