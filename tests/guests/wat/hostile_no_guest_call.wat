;; hostile_no_guest_call.wat — exports no __guest_call: not a waPC guest, refused at load.
(module
  (memory (export "memory") 1)
  (func (export "guest_call") (param i32 i32) (result i32) (i32.const 1))
)
