;; startup_bad_type.wat — an _initialize that takes a parameter: refused before it runs with
;; "init function _initialize has the wrong type (want () -> ())".
(module
  (memory (export "memory") 1)
  (func (export "_initialize") (param i32))
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
