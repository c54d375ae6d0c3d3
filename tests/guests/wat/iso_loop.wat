;; iso_loop.wat — the deadline test guest outside HTTP (tests/integration/isolation.sh): its handler
;; loops forever whatever the payload, so only the function's timeout_ms ends it ("deadline
;; exceeded"). Served as the callee of a function-to-function call, as an init function in job
;; mode and as a scheduled task.
(module
  (memory (export "memory") 1)
  (func (export "__guest_call") (param $op_len i32) (param $len i32) (result i32)
    (loop $forever (br $forever))
    (i32.const 1)))
