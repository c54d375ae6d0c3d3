;; hostile_init_trap.wat — wapc_init divides by zero: "init function wapc_init failed: integer
;; divide by zero".
(module
  (memory (export "memory") 1)
  (func (export "wapc_init") (drop (i32.div_u (i32.const 1) (i32.const 0))))
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
