;; hostile_exit_init.wat — wapc_init calls proc_exit(7): instantiation fails with
;; "init function wapc_init failed: exited with code 7".
(module
  (import "wasi_snapshot_preview1" "proc_exit" (func $proc_exit (param i32)))
  (memory (export "memory") 1)
  (func (export "wapc_init") (call $proc_exit (i32.const 7)))
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
