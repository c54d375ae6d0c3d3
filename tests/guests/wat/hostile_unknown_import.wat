;; hostile_unknown_import.wat — imports a function nobody provides: "unknown import evil.steal".
(module
  (import "evil" "steal" (func (param i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
