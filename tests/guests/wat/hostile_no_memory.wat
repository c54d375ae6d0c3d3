;; hostile_no_memory.wat — no memory at all: not a waPC guest, refused at load.
(module
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
