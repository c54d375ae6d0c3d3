;; hostile_old_abi.wat — the pre-2020 six-argument __host_call: "import wapc.__host_call has the
;; wrong type" (WAPC.md §5: no current host supports it).
(module
  (import "wapc" "__host_call" (func (param i32 i32 i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (func (export "__guest_call") (param i32 i32) (result i32) (i32.const 1))
)
